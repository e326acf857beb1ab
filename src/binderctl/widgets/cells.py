"""Inert, sortable text for tables: cluster strings are never read as markup."""

from __future__ import annotations

from typing import Any

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
