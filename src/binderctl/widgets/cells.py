"""Inert, sortable text for tables: cluster strings are never read as markup."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.table import Table
from rich.text import Text

from binderctl.formatting import inert

CELL_LIMIT = 80


class Cell(Text):
    """Text shown as-is (escapes stripped, shortened) that carries the value it sorts by."""

    def __init__(
        self, text: str, sort_key: Any = None, style: str = "", limit: int = CELL_LIMIT
    ) -> None:
        super().__init__(inert(text, limit), style=style, no_wrap=True, overflow="ellipsis")
        self.sort_key = (0,) if sort_key is None else (1, sort_key)


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
