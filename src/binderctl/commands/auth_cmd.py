"""`binderctl auth login|logout|status`: the Hetzner API token, never shown."""

from __future__ import annotations

import argparse
import getpass
import sys

from binderctl import auth
from binderctl.commands import Context, add_command
from binderctl.errors import UsageError


def _member_name(ctx: Context) -> str:
    return ctx.member.name


def _login(ctx: Context) -> int:
    member = _member_name(ctx)
    if sys.stdin.isatty():
        token = getpass.getpass(f"Hetzner API token for member {member!r} (input hidden): ")
    else:
        token = sys.stdin.readline()
    token = token.strip()
    if not token:
        raise UsageError("no token given; paste the API token from the Hetzner Cloud console")
    auth.store_token(member, token)
    ctx.info(f"stored the token for {member!r} in the system keyring")
    return 0


def _logout(ctx: Context) -> int:
    member = _member_name(ctx)
    if auth.forget_token(member):
        ctx.info(f"removed the token for {member!r} from the system keyring")
    else:
        ctx.info(f"no token for {member!r} was stored in the system keyring")
    return 0


def _status(ctx: Context) -> int:
    member = _member_name(ctx)
    source = auth.token_source(member)
    if ctx.json_output:
        ctx.emit_json({"member": member, "token": source is not None, "source": source})
    elif source:
        print(f"{member}: token from {source}")
    else:
        print(
            f"{member}: no token; run `binderctl auth login` or set {auth.TOKEN_ENV}",
        )
    return 0 if source else 1


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("auth", help="manage the Hetzner API token")
    actions = parser.add_subparsers(dest="auth_action", metavar="ACTION", required=True)
    add_command(actions, common, "login", "store the token in the system keyring", _login)
    add_command(actions, common, "logout", "remove the token from the system keyring", _logout)
    add_command(actions, common, "status", "say where the token comes from", _status)
