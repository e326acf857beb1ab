"""`binderctl bans`: the repositories kept out of the member, with who banned each, when
and why; `binderctl abuse report [--since D] [--session NAME | --repo R] [--out FILE]`:
the evidence an abuse desk asks for, written as a 0600 file (its path on stdout).

`ban` and `unban` are actions of the catalogue (`commands/actions_cmd.py`)."""

from __future__ import annotations

import argparse
import json

from binderctl.commands import Context, Subparsers, add_command
from binderctl.commands import rows as r
from binderctl.commands.arguments import duration
from binderctl.formatting import inert
from binderctl.paths import expand, member_dir, write_private


def _bans(ctx: Context) -> int:
    from binderctl.services.bans import read_bans
    from binderctl.services.kube import Kube

    with Kube(ctx.member) as kube:
        found = read_bans(kube)
    if ctx.json_output:
        ctx.emit_json(
            {
                "bans": [{**b.to_json(), "time": r.iso(b.time)} for b in found.bans],
                "other_banned_specs": [{"provider": p, "pattern": s} for p, s in found.other],
            }
        )
        return 0
    if not found.bans and not found.other:
        ctx.info("no repository is banned")
        return 0
    if found.bans:
        rows = [
            [inert(b.repo, 100), r.short_time(b.time), inert(b.user, 20), inert(b.reason, 200)]
            for b in found.bans
        ]
        print(r.fit(["REPOSITORY", "SINCE (UTC)", "BY", "REASON"], rows, flex=(3,)))
    if found.other:
        print("banned_specs binderctl did not set (kept as they are):")
        for provider, pattern in found.other:
            print(f"  {inert(provider, 40)}: {inert(pattern, 200)}")
    return 0


def _report(ctx: Context) -> int:
    from binderctl.services.abuse_report import abuse_report, file_name, render
    from binderctl.services.kube import Kube

    with Kube(ctx.member) as kube:
        report = abuse_report(
            ctx.member,
            kube,
            since=ctx.option("since"),
            session=ctx.option("session"),
            repo=ctx.option("repo"),
        )
    extension = "json" if ctx.json_output else "txt"
    out = ctx.option("out")
    path = (
        expand(out, "--out")
        if out
        else member_dir("state", ctx.member.name) / file_name(report, extension)
    )
    if ctx.json_output:
        write_private(path, json.dumps(report.to_json(), indent=2) + "\n")
    else:
        write_private(path, render(report))
    ctx.info(
        f"abuse report: {len(report.sessions)} session(s), {len(report.actions)} action(s), "
        f"window {r.short_time(report.start)} to {r.short_time(report.end)} UTC"
    )
    print(path)
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    add_command(sub, common, "bans", "the banned repositories: who banned each, when, why", _bans)
    abuse = sub.add_parser(
        "abuse",
        help="abuse response: the report an abuse desk asks for",
        description="Abuse response (ban and unban are actions of their own).",
        parents=[common],
    )
    commands = abuse.add_subparsers(dest="abuse_command", metavar="ACTION", required=True)
    report = add_command(
        commands,
        common,
        "report",
        "write the evidence (IPv4, UTC window, sessions, actions) to a 0600 file",
        _report,
    )
    report.add_argument(
        "--since",
        type=duration,
        default=86400.0,
        metavar="D",
        help="the window: the last D (default 1d)",
    )
    which = report.add_mutually_exclusive_group()
    which.add_argument("--session", metavar="NAME", help="one session pod (jupyter-...)")
    which.add_argument("--repo", metavar="R", help="every session of this repository")
    report.add_argument(
        "--out",
        metavar="FILE",
        help="where to write it (default: the member's state dir, abuse-report-<time>.txt)",
    )
