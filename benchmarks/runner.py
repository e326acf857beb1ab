"""``python -m benchmarks [--quick] [--json FILE] [--markdown FILE] [--sessions N]
[--repeat K] [--only NAME]``: run the suite, print the table of medians."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.measure import Row, describe_machine
from benchmarks.suite import Options, Suite

# name -> module (each has run(suite) -> list[Row]), in the order they run
BENCHMARKS = {
    "status": "benchmarks.status",
    "console-start": "benchmarks.console",
    "sessions-table": "benchmarks.sessions_table",
    "log-view": "benchmarks.log_view",
    "live-model": "benchmarks.live_model",
    "provisioning": "benchmarks.provisioning",
    "scaling": "benchmarks.scaling",
    "headless-start": "benchmarks.headless",
    "drain-to-out": "benchmarks.drain_to_out",
    "kubelet-stats": "benchmarks.kubelet_stats",
    # last: their disk-pressure drills evict sessions of the busy member
    "drills": "benchmarks.drills",
    "watch": "benchmarks.watch",
}
HEADERS = ("benchmark", "figure", "baseline", "ratio", "target", "met")


def _number(value: float, unit: str) -> str:
    if unit.endswith("/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def cells(row: Row) -> tuple[str, ...]:
    return (
        row.name,
        f"{_number(row.figure, row.unit)} ({row.figure_label})",
        f"{_number(row.baseline, row.unit)} ({row.baseline_label})",
        f"{row.ratio:.3g}x",
        row.target.describe(row.unit),
        "yes" if row.met else "NO",
    )


def text_table(rows: Sequence[Row]) -> str:
    lines = [HEADERS, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines
    )


def markdown(rows: Sequence[Row], document: dict[str, Any]) -> str:
    machine = document["machine"]
    options = document["options"]
    load = document["load_average"]
    out = [
        "# Benchmark results",
        "",
        f"`python -m benchmarks{' --quick' if options['quick'] else ''}` with "
        f"{options['sessions']:,} sessions, {document['seconds']:.0f} s in all.",
        "",
        f"Machine: {machine['cores']} cores, {machine['memory_gb']} GB memory, "
        f"Python {machine['python']}, {machine['machine']} ({machine['system']}). "
        f"Load average (1, 5, 15 min): {_loads(load['start'])} at the start, "
        f"{_loads(load['end'])} at the end.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
        *("| " + " | ".join(cells(row)) + " |" for row in rows),
    ]
    notes = [f"- {row.name}: {note}" for row in rows for note in row.notes]
    if notes:
        out += ["", "Notes:", "", *notes]
    return "\n".join(out) + "\n"


def _loads(loads: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in loads)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small member, few repeats (CI)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="also write the results as Markdown")
    parser.add_argument("--sessions", type=int, help="sessions on the member (1000; quick 100)")
    parser.add_argument("--repeat", type=int, help="repeats of every benchmark")
    parser.add_argument("--only", choices=tuple(BENCHMARKS), action="append", help="run only")
    return parser.parse_args(argv)


def run_suite(suite: Suite, names: Sequence[str], report: Callable[[str], None]) -> list[Row]:
    rows: list[Row] = []
    for name in names:
        started = time.monotonic()
        report(f"running {name}...")
        module = importlib.import_module(BENCHMARKS[name])
        found = module.run(suite)
        report(f"{name}: {time.monotonic() - started:.0f} s")
        for row in found:
            report("  " + "  ".join(cells(row)))
        rows += found
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    sessions = args.sessions or (100 if args.quick else 1000)
    suite = Suite(Options(sessions=sessions, quick=args.quick, repeat=args.repeat))
    names = args.only or list(BENCHMARKS)
    started, load_start = time.monotonic(), os.getloadavg()
    try:
        rows = run_suite(suite, names, lambda text: print(text, file=sys.stderr, flush=True))
    finally:
        suite.close()
    document = {
        "machine": describe_machine(),
        "options": {"sessions": sessions, "quick": args.quick, "repeat": args.repeat},
        "seconds": time.monotonic() - started,
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "benchmarks": {row.name: row.to_json() for row in rows},
    }
    print(text_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(markdown(rows, document), encoding="utf-8")
    return 0
