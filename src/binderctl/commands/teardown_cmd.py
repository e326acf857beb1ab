"""`binderctl teardown [--member M] [--keep-ip] [--yes]`: delete what binderctl made.

The server first, then the firewall, SSH key and (unless ``--keep-ip``) the primary IP,
only those labelled for the member. Asks on a terminal (default No); from a script only
``--yes`` confirms, else it refuses (exit 3).
"""

from __future__ import annotations

import argparse

from binderctl.commands import Context, Subparsers, add_command


def _teardown(ctx: Context) -> int:
    from binderctl.commands.confirm import terminal_confirm
    from binderctl.services.actions import Action, ActionRunner, Prepared, Progress
    from binderctl.services.hetzner import HetznerService, TeardownResult
    from binderctl.services.provision import forget_state

    member = ctx.member
    keep_ip = bool(ctx.option("keep_ip"))
    hetzner = HetznerService.for_member(member)
    found = hetzner.find_member_resources()
    results: list[TeardownResult] = []
    if found.empty:
        ctx.info(f"member {member.name!r} has nothing at Hetzner that binderctl made")
        if not ctx.readonly:  # read-only changes nothing, also not binderctl's own state
            forget_state(member)
        results.append(TeardownResult([], []))
    else:

        def execute(progress: Progress) -> str:
            result = hetzner.teardown(keep_ip=keep_ip)
            forget_state(member)
            results.append(result)
            return f"deleted {len(result.deleted)}, kept {len(result.kept)}"

        def prepare() -> Prepared:
            lines = [f"  {line}" for line in found.describe()]
            if keep_ip:
                lines.append("  (the primary IP is kept: --keep-ip)")
            return Prepared("deletes\n" + "\n".join(lines), execute)

        ip_fate = (
            "The IPv4 stays reserved."
            if keep_ip
            else "The IPv4 is released: DNS records pointing at it must be changed."
        )
        blast_radius = (
            "The server and everything on it is gone: every session ends and the member "
            f"leaves the federation. {ip_fate}"
        )
        runner = ActionRunner(
            member, readonly=ctx.readonly, confirm=terminal_confirm(ctx.assume_yes)
        )
        params = {"keep_ip": keep_ip}
        runner.run(Action("teardown", f"member {member.name}", blast_radius, prepare, params))
    result = results[0]
    if ctx.json_output:
        ctx.emit_json({"member": member.name, "deleted": result.deleted, "kept": result.kept})
    else:
        for line in result.deleted:
            print(f"deleted {line}")
        for line in result.kept:
            print(f"kept    {line}")
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    help_text = "delete the member's server and what binderctl made for it"
    parser = add_command(sub, common, "teardown", help_text, _teardown)
    parser.add_argument(
        "--keep-ip", action="store_true", help="keep the primary IPv4 (and so the DNS records)"
    )
