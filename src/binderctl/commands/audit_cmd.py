"""`binderctl audit [--since D]`: the actions taken on the member, oldest first."""

from __future__ import annotations

import argparse
import time

from binderctl.commands import Context, Subparsers, add_command
from binderctl.commands import rows as r
from binderctl.commands.arguments import duration
from binderctl.formatting import inert
from binderctl.services import audit


def detail(record: audit.AuditRecord) -> str:
    """The record's detail, then its targets grouped by their outcome."""
    if not record.targets:
        return record.detail
    grouped: dict[str, list[str]] = {}
    for name, outcome in record.targets.items():
        grouped.setdefault(outcome, []).append(name)
    each = "; ".join(f"{outcome}: {', '.join(names)}" for outcome, names in grouped.items())
    return f"{record.detail} ({each})"


def _audit(ctx: Context) -> int:
    since = ctx.option("since")
    audit.recover(ctx.member.name)
    records = audit.read(ctx.member.name, None if since is None else time.time() - since)
    if ctx.json_output:
        ctx.emit_json([record.to_json() for record in records])
        return 0
    if not records:
        ctx.info("no audit records" + (" in that period" if since is not None else ""))
        return 0
    rows = [
        [
            r.short_time(x.time),
            inert(x.user, 16),
            inert(x.action, 14),
            inert(x.target, 40),
            x.outcome,
            inert(detail(x), 300),
        ]
        for x in records
    ]
    headers = ["TIME (UTC)", "USER", "ACTION", "TARGET", "OUTCOME", "DETAIL"]
    print(r.fit(headers, rows, flex=(3, 5)))
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = add_command(sub, common, "audit", "show the audit log of actions taken", _audit)
    parser.add_argument("--since", type=duration, metavar="D", help="only the last D (e.g. 1d)")
