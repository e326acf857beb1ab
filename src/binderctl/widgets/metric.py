"""One node figure: a bar for how full it is, the numbers, and its recent history."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

BAR_WIDTH = 12


def level_style(fraction: float) -> str:
    if fraction >= 0.9:
        return "bold red"
    if fraction >= 0.75:
        return "yellow"
    return "green"


def bar(fraction: float | None, width: int = BAR_WIDTH) -> Text:
    if fraction is None:
        return Text("·" * width, style="dim")
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return Text.assemble(
        ("█" * filled, level_style(fraction)), ("░" * (width - filled), "dim"), end=""
    )


class Metric(Horizontal):
    """``label  ████░░░░  text  ▁▂▄▆`` on one line."""

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(classes="metric", id=id)
        self.label = label

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="metric-label", markup=False)
        yield Static(classes="metric-value", markup=False)
        yield Sparkline([], classes="metric-spark")

    def show(self, fraction: float | None, text: str, history: Sequence[float]) -> None:
        percent = "" if fraction is None else f" {fraction:4.0%}"
        self.query_one(".metric-value", Static).update(
            Text.assemble(bar(fraction), percent, "  ", text)
        )
        # A trend (the Resources screen plots from zero); one sample draws no trend.
        self.query_one(Sparkline).data = list(history) if len(history) > 1 else []
