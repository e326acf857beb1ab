"""Inert, sortable text for tables: cluster strings are never read as markup."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from binderctl.formatting import inert, middle

CELL_LIMIT = 80
# What is kept of a name shortened in the middle: it is cut again to its column's width.
NAME_LIMIT = 160


class Cell(Text):
    """Text shown as-is (escapes stripped, shortened) that carries the value it sorts by.

    A ``middle`` cell holds a name: too wide for its column, it loses its middle rather
    than its end (``formatting.middle``), so that rows of similar names stay apart."""

    def __init__(
        self,
        text: str,
        sort_key: Any = None,
        style: str = "",
        limit: int = CELL_LIMIT,
        *,
        middle: bool = False,
    ) -> None:
        shown = _name(text) if middle else inert(text, limit)
        super().__init__(shown, style=style, no_wrap=True, overflow="ellipsis")
        self.sort_key = (0,) if sort_key is None else (1, sort_key)
        self.middle = middle

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterable[Segment]:
        width = options.max_width
        if self.middle and self.cell_len > width:
            short = Text(middle(self.plain, width), style=self.style, no_wrap=True, end=self.end)
            yield from short.__rich_console__(console, options)
            return
        yield from super().__rich_console__(console, options)


def _name(text: str) -> str:
    return middle(inert(text, 4 * NAME_LIMIT), NAME_LIMIT)


def plain(text: str, style: str = "", limit: int = CELL_LIMIT) -> Text:
    """An untrusted string as inert, shortened text."""
    return Text(inert(text, limit), style=style, no_wrap=True, overflow="ellipsis")


def fields_table(rows: Iterable[tuple[str, Text]]) -> Table:
    """A detail view's fields: a bold label, then its value (folded when long)."""
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, value)
    return table
