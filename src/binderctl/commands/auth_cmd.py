"""`binderctl auth login|logout|status [--registry]`: the Hetzner API token, or with
``--registry`` the external container registry's password; never shown."""

from __future__ import annotations

import argparse
import getpass
import sys

from binderctl import auth
from binderctl.commands import Context, Subparsers, add_command
from binderctl.errors import UsageError


def _credential(ctx: Context) -> auth.Credential:
    return auth.REGISTRY_PASSWORD if ctx.option("registry") else auth.HETZNER_TOKEN


def _login(ctx: Context) -> int:
    member = ctx.member
    credential = _credential(ctx)
    if sys.stdin.isatty():
        value = getpass.getpass(f"{credential.what} for member {member.name!r} (input hidden): ")
    else:
        value = sys.stdin.readline()
    value = value.strip()
    if not value:
        raise UsageError(
            f"no {credential.what} given; type or paste it "
            "(on a terminal the input is hidden; otherwise one line on standard input)"
        )
    auth.store(credential, member.name, value)
    ctx.info(f"stored the {credential.what} for {member.name!r} in the system keyring")
    if credential is auth.REGISTRY_PASSWORD and not member.registry_url:
        ctx.info(
            f"note: member {member.name!r} has no registry_url, so the in-cluster registry is "
            "used and this password is not"
        )
    return 0


def _logout(ctx: Context) -> int:
    member = ctx.member.name
    credential = _credential(ctx)
    if auth.forget(credential, member):
        ctx.info(f"removed the {credential.what} for {member!r} from the system keyring")
    else:
        ctx.info(f"no {credential.what} for {member!r} was stored in the system keyring")
    return 0


def _status(ctx: Context) -> int:
    member = ctx.member.name
    credential = _credential(ctx)
    source = auth.source(credential, member)
    if ctx.json_output:
        key = "registry_password" if credential is auth.REGISTRY_PASSWORD else "token"
        ctx.emit_json({"member": member, key: source is not None, "source": source})
    elif source:
        print(f"{member}: {credential.what} from {source}")
    else:
        print(
            f"{member}: no {credential.what}; run `{credential.login_command(member)}` "
            f"or set {credential.env}"
        )
    return 0 if source else 1


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "auth", help="manage the Hetzner API token and the container registry password"
    )
    actions = parser.add_subparsers(dest="auth_action", metavar="ACTION", required=True)
    for name, help_text, handler in (
        ("login", "store the token (or --registry password) in the system keyring", _login),
        ("logout", "remove the token (or --registry password) from the system keyring", _logout),
        ("status", "say where the token (or --registry password) comes from", _status),
    ):
        command = add_command(actions, common, name, help_text, handler)
        command.add_argument(
            "--registry",
            action="store_true",
            help="the external container registry's password (registry_url) instead",
        )
