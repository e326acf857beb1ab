"""`binderctl budget`: what the member costs this month, where it is heading, what-if."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from binderctl.commands import Context, Subparsers, add_command
from binderctl.formatting import age, inert, size, table

if TYPE_CHECKING:
    from binderctl.services.budget import Bill, Money
    from binderctl.services.budget_report import BudgetReport


def _money(money: Money | None, step: Decimal = Decimal("0.01")) -> dict[str, str] | None:
    if money is None:
        return None
    rounded = money.rounded(step)
    return {"net": str(rounded.net), "gross": str(rounded.gross)}


def _hours(seconds: int) -> str:
    return str((Decimal(seconds) / 3600).quantize(Decimal("0.01")))


def _bill(bill: Bill) -> dict[str, Any]:
    return {
        "server": _money(bill.server),
        "ipv4": _money(bill.ipv4),
        "traffic": _money(bill.traffic),
    }


def document(report: BudgetReport) -> dict[str, Any]:
    """The ``-o json`` document: money as {"net", "gross"} decimal strings."""
    from binderctl.services.budget import UNIT_STEP
    from binderctl.services.budget_report import SESSION_WINDOW

    sessions = report.sessions
    return {
        "member": report.member,
        "time": report.now.isoformat(),
        "currency": report.currency,
        "vat_rate": str(report.vat_rate),
        "month_to_date": _money(report.month_to_date.total),
        "projected_month": _money(report.projected_month.total),
        "cap": _money(report.cap),
        "remaining": _money(report.remaining),
        "headroom": _money(report.headroom),
        "level": report.level,
        "levels": {
            "month_to_date": report.month_to_date_level,
            "projected_month": report.projected_level,
        },
        "curve": [
            {"time": time.isoformat(), **(_money(total) or {})} for time, total in report.curve
        ],
        "breakdown": {
            "month_to_date": _bill(report.month_to_date),
            "projected_month": _bill(report.projected_month),
        },
        "prices": {
            "fetched": report.prices_fetched.isoformat(),
            "age_seconds": int(report.prices_age.total_seconds()),
        },
        "stale": report.stale,
        "servers": [
            {
                "name": s.name,
                "server_type": s.server_type,
                "location": s.location,
                "created": s.created.isoformat(),
                "outgoing_traffic": s.outgoing_traffic,
                "included_traffic": s.included_traffic,
            }
            for s in report.resources.servers
        ],
        "primary_ipv4s": [
            {"location": ip.location, "created": ip.created.isoformat()}
            for ip in report.resources.primary_ipv4s
        ],
        "sessions": {
            "window_days": SESSION_WINDOW.days,
            "observed_hours": _hours(sessions.covered_seconds),
            "session_hours": _hours(sessions.session_seconds),
            "launches": sessions.launches,
            "peak_sessions": sessions.peak_sessions,
        },
        "cost_per_session_hour": _money(report.session_costs.per_session_hour, UNIT_STEP),
        "cost_per_launch": _money(report.session_costs.per_launch, UNIT_STEP),
        "what_if": [
            {
                "name": row.name,
                "monthly": _money(row.monthly),
                "source": row.source,
                "current": row.current,
                "memory_gb": row.memory_gb,
                "max_pods": row.max_pods,
                "fits_memory": row.fits_memory,
                "fits_pods": row.fits_pods,
            }
            for row in report.what_if
        ],
        "notes": list(report.notes),
    }


def _pair(money: Money | None, step: Decimal = Decimal("0.01")) -> str:
    if money is None:
        return "-"
    rounded = money.rounded(step)
    return f"{rounded.net} / {rounded.gross}"


def _share(amount: Decimal, cap: Decimal) -> str:
    return f"{amount / cap:.0%} of cap"


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def render(report: BudgetReport) -> str:
    from binderctl.services.budget import UNIT_STEP
    from binderctl.services.budget_report import SESSION_WINDOW

    cap = report.cap.net
    mtd, projected = report.month_to_date.total, report.projected_month.total
    costs, sessions = report.session_costs, report.sessions
    rows = [
        ["month to date", _pair(mtd), f"{report.month_to_date_level} ({_share(mtd.net, cap)})"],
        [
            "projected month",
            _pair(projected),
            f"{report.projected_level} ({_share(projected.net, cap)})",
        ],
        ["cap", _pair(report.cap), ""],
        ["remaining", _pair(report.remaining), "cap minus month to date"],
        ["headroom", _pair(report.headroom), "cap minus projected month"],
        ["prices", f"fetched {age(report.prices_age.total_seconds())} ago", ""],
        ["per session-hour", _pair(costs.per_session_hour, UNIT_STEP), ""],
        ["per launch", _pair(costs.per_launch, UNIT_STEP), ""],
    ]
    peak = (
        f"peak of {sessions.peak_sessions} sessions in the last {SESSION_WINDOW.days} days"
        if sessions.covered_seconds
        else "no sessions observed yet"
    )
    lines = [
        f"Budget of {report.member}: {report.currency}, net / gross "
        f"(VAT {report.vat_rate}%); level {report.level}",
        table(["", "net / gross", ""], rows),
        *(
            f"server {inert(s.name)} ({s.server_type} in {s.location}) since "
            f"{s.created:%Y-%m-%d %H:%M} UTC; outgoing traffic {size(s.outgoing_traffic)} "
            f"of {size(s.included_traffic)} included"
            for s in report.resources.servers
        ),
        "",
        f"What if (a month, with a primary IPv4, without traffic; {peak}):",
        table(
            ["option", "net / gross", "RAM GB", "max pods", "fits RAM", "fits pods", "price"],
            [
                [
                    row.name + (" (current)" if row.current else ""),
                    _pair(row.monthly),
                    "-" if row.memory_gb is None else str(row.memory_gb),
                    "-" if row.max_pods is None else str(row.max_pods),
                    _yes_no(row.fits_memory),
                    _yes_no(row.fits_pods),
                    row.source,
                ]
                for row in report.what_if
            ],
        ),
    ]
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


def _budget(ctx: Context) -> int:
    from binderctl.services.budget_report import budget_report

    report = budget_report(ctx.member)
    if ctx.json_output:
        ctx.emit_json(document(report))
    else:
        print(render(report))
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    add_command(
        sub,
        common,
        "budget",
        "what the member costs this month, the projection against the cap, and what-if",
        _budget,
    )
