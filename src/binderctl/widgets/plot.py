"""Bar plots drawn from zero, in eighth blocks: history plots and the budget chart.

Textual's Sparkline scales from the smallest value to the largest, so a memory figure
moving from 19 to 27 GiB fills the plot; these bars start at zero, so they show how much,
not only which way.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

EIGHTHS = " ▁▂▃▄▅▆▇█"


def bar_glyph(value: float, top: float, row: int, rows: int) -> str:
    """The glyph of a bar of ``value`` (of ``top``) in plot row ``row`` (1 = bottom); a
    value above zero shows at least the lowest eighth."""
    if top <= 0 or value <= 0:
        return " "
    eighths = max(1, int(value / top * rows * 8)) - (row - 1) * 8
    return EIGHTHS[max(0, min(8, eighths))]


def columns(values: Sequence[float], width: int) -> list[float]:
    """``values`` fitted to ``width`` columns: the largest of each bucket when there are
    more values than columns, each value repeated across its share of columns when fewer."""
    if not values or width <= 0:
        return []
    count = len(values)
    fitted = []
    for column in range(width):
        first = column * count // width
        last = max(first + 1, (column + 1) * count // width)
        fitted.append(max(values[first:last]))
    return fitted


def bars(values: Sequence[float], width: int, rows: int, top: float | None = None) -> Text:
    """``values`` as bars from zero up to ``top`` (default: the largest value), ``rows``
    high."""
    fitted = columns(values, width)
    top = max([top or 0.0, *fitted])
    lines = [
        Text("".join(bar_glyph(v, top, row, rows) for v in fitted), end="")
        for row in range(rows, 0, -1)
    ]
    return Text("\n").join(lines)


class Plot(Widget):
    """The ``values`` as bars from zero to ``top`` (the most they can be, when known),
    filling the widget; nothing for fewer than two values."""

    DEFAULT_CSS = """
    Plot {
        height: 1;
        color: $primary;
    }
    """

    values: reactive[tuple[float, ...]] = reactive(())
    top: reactive[float | None] = reactive(None)

    def render(self) -> Text:
        if len(self.values) < 2:
            return Text("")
        return bars(self.values, self.size.width, self.size.height, self.top)
