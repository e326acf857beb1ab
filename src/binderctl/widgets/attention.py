"""How attention items look: their severity's colour and mark, their fix, and the
Dashboard's Needs-attention panel."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from binderctl.formatting import inert
from binderctl.models import Attention, Severity
from binderctl.services.catalogue import hint

SEVERITY_STYLE: dict[Severity, str] = {
    "error": "bold red",
    "warning": "bold yellow",
    "info": "cyan",
}
SEVERITY_MARK: dict[Severity, str] = {"error": "✖ error", "warning": "▲ warning", "info": "● info"}
MARK_WIDTH = max(len(mark) for mark in SEVERITY_MARK.values())


def fix_text(item: Attention) -> str:
    """The fix of ``item`` as the keys (or the `:` command) that run it, or ""."""
    if item.action is None:
        return ""
    return hint(item.action, item.target)


def first_fix(items: Sequence[Attention]) -> Attention | None:
    """The worst item that has a fix: what the Dashboard's ``f`` runs."""
    return next((item for item in items if item.action is not None), None)


def attention_table(items: Sequence[Attention]) -> Table | Text:
    """One row per item: its severity, its reason (wrapped, never cut), its fix; the
    row ``f`` fixes says so."""
    if not items:
        return Text("✔ nothing needs attention", style="green")
    table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, width=MARK_WIDTH)
    table.add_column(ratio=1, overflow="fold")
    table.add_column(no_wrap=True, justify="right", style="bold")
    first = first_fix(items)
    for item in items:
        fix = fix_text(item)
        table.add_row(
            Text(SEVERITY_MARK[item.severity], style=SEVERITY_STYLE[item.severity]),
            Text(inert(item.text, 600)),
            f"f or {fix}" if item is first else fix,
        )
    return table
