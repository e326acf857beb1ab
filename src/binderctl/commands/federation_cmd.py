"""`binderctl federation [-o json] [--check]`: every host of the federation, side by side,
judged by the redirector's rules; `binderctl federation snippet`: the member's entry for
``federationRedirect.hosts``."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from binderctl.commands import Context, Subparsers, add_command
from binderctl.commands import rows as r
from binderctl.formatting import inert

if TYPE_CHECKING:
    from binderctl.services.federation import FederationReport

HEADERS = ["HOST", "ROLE", "WEIGHT", "ROTATION", "WHY", "CHECKS", "PODS+HEADROOM/QUOTA",
           "VERSIONS", "CHECKED"]  # fmt: skip


def render(report: FederationReport) -> str:
    from binderctl.services import federation_rows as f

    prime_known = report.prime_versions is not None
    rows = []
    for host in report.hosts:
        role = "prime" if host.host.prime else f"ours: {host.member}" if host.member else ""
        rows.append(
            [
                inert(host.host.name, 40),
                inert(role, 40),
                f"{host.host.weight:g}",
                f.rotation_words(host.verdict),
                inert(f.why_words(host.verdict), 60),
                inert(f.checks_words(host), 60),
                inert(f.pods_words(host, report.settings.pod_headroom), 40),
                inert(f.versions_words(host, prime_known), 60),
                _clock(host.checked) if host.checked else "-",
            ]
        )
    lines = [r.fit(HEADERS, rows, (1, 4, 7))]
    if report.prime_error:
        lines.append(f"prime: {inert(report.prime_error, 200)}")
    for host in report.hosts:
        if host.verdict.in_rotation is not True:
            lines.append(f"{inert(host.host.name, 40)}: {inert(host.verdict.detail, 300)}")
    return "\n".join(lines)


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment).strftime("%H:%M:%S")


def _federation(ctx: Context) -> int:
    if ctx.option("view") == "snippet":
        from binderctl.services.federation import snippet

        print(snippet(ctx.member, ctx.option("weight"), ctx.option("name") or ""), end="")
        return 0
    from binderctl.services.federation import federation_report
    from binderctl.services.federation_rows import report_json

    report = federation_report(ctx.config)
    if ctx.json_output:
        ctx.emit_json(report_json(report))
    else:
        print(render(report))
    if not ctx.option("check"):
        return 0
    silent = [h for h in report.hosts if h.host.weight > 0 and h.verdict.reason == "unreachable"]
    ours_out = [h for h in report.hosts if h.member and h.verdict.in_rotation is not True]
    failed = bool(silent or ours_out or report.prime_error)
    return 1 if failed else 0


def _weight(text: str) -> int:
    from binderctl.parsing import parse_positive_int

    try:
        return parse_positive_int(text, name="the weight", low=1, high=1000)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = add_command(
        sub,
        common,
        "federation",
        "every federation host as the redirector sees it; `snippet`: this member's entry",
        _federation,
    )
    parser.add_argument(
        "view",
        nargs="?",
        choices=("snippet",),
        help="snippet: YAML to paste under federationRedirect.hosts (mybinder.org-deploy)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a host does not answer, the prime's /versions cannot be read, "
        "or one of our members is out of rotation",
    )
    parser.add_argument(
        "--weight", type=_weight, default=50, metavar="N", help="snippet: the weight (default 50)"
    )
    parser.add_argument(
        "--name", metavar="NAME", help="snippet: the host's key (default: the member's name)"
    )
