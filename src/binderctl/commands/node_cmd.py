"""`binderctl node forget-host-key [--host ADDRESS] [--yes]`: accept a rebuilt server.

binderctl pins the server's SSH host key on first contact (the member's data dir
``known_hosts``) and refuses a different one. After a server was rebuilt or replaced on
purpose, this drops the pinned key so that the next connection pins the new one. It is
an action: it asks first (``--yes`` for scripts), is refused in read-only mode (exit 3)
and leaves one audit record.
"""

from __future__ import annotations

import argparse

from binderctl.commands import Context, Subparsers, add_command
from binderctl.errors import UsageError
from binderctl.formatting import inert

FORGET_BLAST_RADIUS = (
    "The next SSH connection to that address trusts whatever host key the server offers "
    "and pins it: do this only when you know the server was rebuilt or replaced."
)


def _forget_host_key(ctx: Context) -> int:
    from binderctl.commands.confirm import terminal_confirm
    from binderctl.services.actions import Action, ActionRunner, Prepared, Progress
    from binderctl.services.node import (
        forget_host_key,
        known_hosts_path,
        pinned_host_keys,
        pinned_hosts,
    )

    member = ctx.member
    pinned = pinned_hosts(member)
    host = ctx.option("host")
    if host is None and len(pinned) > 1:
        raise UsageError(
            f"host keys are pinned for several addresses of member {member.name!r}: "
            f"{', '.join(pinned)}",
            hint="choose one with --host ADDRESS",
        )
    host = host or (pinned[0] if pinned else None)
    if host is None or host not in pinned:
        where = f"for {inert(host, 60)} " if host else ""
        ctx.info(
            f"no SSH host key is pinned {where}for member {member.name!r} "
            f"({known_hosts_path(member)}): nothing to forget"
        )
        return 0
    fingerprints = ", ".join(k.get_fingerprint("sha256") for k in pinned_host_keys(member, host))
    address = f"{host}:{member.ssh_port}"

    def execute(progress: Progress) -> str:
        forget_host_key(member, host)
        return (
            f"forgot the host key of {address} ({fingerprints}); the next connection "
            "pins the key the server offers then"
        )

    def prepare() -> Prepared:
        details = f"drop the pinned key {fingerprints} from {known_hosts_path(member)}"
        return Prepared(details, execute)

    runner = ActionRunner(
        member, readonly=ctx.readonly, confirm=terminal_confirm(ctx.assume_yes), progress=ctx.info
    )
    action = Action(
        "forget-host-key", f"SSH host key of {address}", FORGET_BLAST_RADIUS, prepare,
        {"host": host},
    )  # fmt: skip
    outcome = runner.run(action)
    if ctx.json_output:
        ctx.emit_json(
            {"member": member.name, "action": action.name, "host": host, "detail": outcome}
        )
    else:
        print(outcome)
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    node = sub.add_parser(
        "node",
        help="the member's server over SSH",
        description="Operations on the member's server over SSH.",
    )
    actions = node.add_subparsers(dest="node_command", metavar="ACTION", required=True)
    help_text = "forget the pinned SSH host key of a server that was rebuilt on purpose"
    forget = add_command(actions, common, "forget-host-key", help_text, _forget_host_key)
    forget.description = f"{help_text}. {FORGET_BLAST_RADIUS}"
    forget.add_argument(
        "--host",
        metavar="ADDRESS",
        help="the server's address (default: the one address with a pinned key)",
    )
