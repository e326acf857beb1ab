"""`binderctl config init|check|path`."""

from __future__ import annotations

import argparse

from binderctl.commands import Context, Subparsers, add_command
from binderctl.config import render_template
from binderctl.errors import UsageError
from binderctl.parsing import parse_hostname, parse_member_name
from binderctl.paths import write_private


def _init(ctx: Context) -> int:
    target = ctx.config_path
    try:
        name = parse_member_name(ctx.option("name"))
        host = ctx.option("binder_host")
        host = parse_hostname(f"{name}.mybinder.org" if host is None else host)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        if target.exists() and not ctx.option("force"):
            raise UsageError(
                f"{target} already exists; not overwriting it",
                hint="pass --force to replace it, or --config PATH to write elsewhere",
            )
        write_private(target, render_template(name, host))
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    ctx.info(f"wrote a commented template to {target}")
    ctx.info("edit it, then run `binderctl config check`")
    return 0


def _check(ctx: Context) -> int:
    config = ctx.config
    if ctx.json_output:
        ctx.emit_json({"path": str(config.path), "members": sorted(config.members), "ok": True})
    else:
        members = ", ".join(sorted(config.members)) or "none"
        print(f"{config.path}: OK ({len(config.members)} member(s): {members})")
    return 0


def _path(ctx: Context) -> int:
    print(ctx.config_path)
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("config", help="write, check or locate the configuration file")
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    init = add_command(actions, common, "init", "write a commented configuration template", _init)
    init.add_argument("--name", default="mymember", help="member name (default: mymember)")
    init.add_argument("--binder-host", help="public binder hostname (default: NAME.mybinder.org)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    add_command(actions, common, "check", "validate the configuration file", _check)
    add_command(actions, common, "path", "print where the configuration file is", _path)
