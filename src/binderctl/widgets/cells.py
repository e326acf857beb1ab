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


def repo_label(url: str) -> str:
    """A repository as people say it: ``org/repo`` for GitHub, ``host/path`` otherwise."""
    label = url.removeprefix("https://").removeprefix("http://").removeprefix("github.com/")
    return label.rstrip("/").removesuffix(".git") or url
