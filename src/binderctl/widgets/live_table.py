"""A DataTable kept current by diffing: only changed cells, new rows and gone rows are touched.

Rows are given as ``key -> tuple of CellValue``. A CellValue is the displayed text, the
value it sorts by and a style; all three are plain data, so comparing a row with what the
table shows is cheap and a tick in which few rows changed costs little.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from binderctl.widgets.cells import Cell

MARK_COLUMN = "_mark"
MARK = "●"
FLEX_MIN = 12  # the narrowest a column without a fixed width gets


class CellValue(NamedTuple):
    text: str
    sort_key: Any = None
    style: str = ""


class Column(NamedTuple):
    key: str
    label: str
    width: int | None = None  # None: shares the width the fixed columns leave


Row = tuple[CellValue, ...]


def _cell(value: CellValue) -> Cell:
    return Cell(value.text, value.sort_key, value.style)


class LiveTable(DataTable):
    """A row-cursor table with marks (``space``), sorting and diff-based ``sync``."""

    def __init__(self, columns: Sequence[Column], *, sort_by: str, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._spec = tuple(columns)
        self._shown: dict[str, Row] = {}
        self.marked: set[str] = set()
        self.sort_by = sort_by
        self.sort_reverse = False

    def on_mount(self) -> None:
        self.add_column("", key=MARK_COLUMN, width=1)
        for column in self._spec:
            self.add_column(column.label, key=column.key, width=column.width or FLEX_MIN)

    def on_resize(self) -> None:
        """Columns without a width share what the fixed ones leave of the table's width."""
        flexible = [c.key for c in self._spec if c.width is None]
        if not flexible:
            return
        fixed = 1 + sum(c.width or 0 for c in self._spec)
        padding = 2 * self.cell_padding * (len(self._spec) + 1)
        # Leave room for the vertical scrollbar, which comes and goes with the rows.
        free = self.size.width - self.styles.scrollbar_size_vertical - fixed - padding
        for key in flexible:
            self.columns[ColumnKey(key)].width = max(FLEX_MIN, free // len(flexible))
        self.refresh()

    @property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self._spec)

    @property
    def current_key(self) -> str | None:
        if not self._shown or self.cursor_row >= self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def selected_keys(self) -> list[str]:
        """The marked rows that are shown, or else the row under the cursor."""
        marked = [key for key in self.marked if key in self._shown]
        if marked:
            return sorted(marked)
        current = self.current_key
        return [current] if current is not None else []

    def sync(self, rows: Mapping[str, Row]) -> None:
        """Show exactly ``rows``, touching only what differs from what is shown."""
        shown = self._shown
        sort_index = self.column_keys.index(self.sort_by)
        resort = False
        keep = self.current_key
        with self.app.batch_update():
            for key in [k for k in shown if k not in rows]:
                self.remove_row(key)
                del shown[key]
                self.marked.discard(key)
            for key, row in rows.items():
                old = shown.get(key)
                if old is None:
                    mark = MARK if key in self.marked else ""
                    self.add_row(Cell(mark), *map(_cell, row), key=key)
                    resort = True
                elif old != row:
                    for index, (before, after) in enumerate(zip(old, row, strict=True)):
                        if before != after:
                            self.update_cell(key, self._spec[index].key, _cell(after))
                            resort |= index == sort_index and before.sort_key != after.sort_key
                else:
                    continue
                shown[key] = row
            if resort:
                self._sort(keep)

    def sort_on(self, column: str) -> None:
        """Sort by ``column``; asked again for the same column, reverse the order."""
        if column == self.sort_by:
            self.sort_reverse = not self.sort_reverse
        self.sort_by = column
        self._sort(self.current_key)

    def toggle_mark(self) -> None:
        key = self.current_key
        if key is None:
            return
        self.marked ^= {key}
        self.update_cell(key, MARK_COLUMN, Cell(MARK if key in self.marked else ""))
        self.action_cursor_down()

    def clear_marks(self) -> None:
        for key in self.marked & self._shown.keys():
            self.update_cell(key, MARK_COLUMN, Cell(""))
        self.marked.clear()

    def _sort(self, keep: str | None) -> None:
        self.sort(self.sort_by, key=attrgetter("sort_key"), reverse=self.sort_reverse)
        if keep is not None and keep in self._shown:
            index = self.get_row_index(keep)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False)
