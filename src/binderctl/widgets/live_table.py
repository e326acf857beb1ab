"""A DataTable kept current by diffing: only changed cells, new rows and gone rows are touched.

Rows are given as ``key -> tuple of CellValue``. A CellValue is the displayed text, the
value it sorts by and a style; all three are plain data, so comparing a row with what the
table shows is cheap and a tick in which few rows changed costs little.

Repainting is cheap too. DataTable keys its render caches on one table-wide counter that
every cell update bumps, so a single changed cell re-renders every visible row. LiveTable
caches each rendered line by its own row instead: the row's version (new whenever one of
its cells changes), its stripe (a row that only moved gets its line back with the row
index the mouse handlers read corrected), whether the cursor or the mouse is on it, and
the table's look (widths, scroll); a changed row renders again only its changed cells.
A tick repaints only the visible rows it changed.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from itertools import count
from operator import attrgetter
from typing import Any, NamedTuple

from rich.segment import Segment
from rich.style import Style
from rich.text import TextType
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from binderctl.formatting import cells as columns_of
from binderctl.widgets.cells import Cell

MARK_COLUMN = "_mark"
MARK = "●"
FLEX_MIN = 12  # the narrowest a column without a fixed width gets
NEED_LIMIT = 120  # a flexible column never asks for more than this
# Rendered lines and cells kept: a screenful in all its states many times over, but not
# so many that the garbage collector's full passes (which visit them all) grow long.
CACHED_LINES = 1000
CACHED_CELLS = 4000


class CellValue(NamedTuple):
    text: str
    sort_key: Any = None
    style: str = ""


class Column(NamedTuple):
    key: str
    label: str
    width: int | None = None  # None: shares the width the fixed columns leave
    middle: bool = False  # names: shortened in the middle, where they are alike


Row = tuple[CellValue, ...]
CellLines = list[list[Segment]]  # a rendered cell


def _cell(value: CellValue, column: Column) -> Cell:
    return Cell(value.text, value.sort_key, value.style, middle=column.middle)


def share(free: int, needs: Sequence[int], least: int = FLEX_MIN) -> list[int]:
    """Widths for columns that need ``needs`` out of ``free`` columns: each gets what it
    needs if it can; what the narrow ones leave is shared by the wide ones, equally
    (none gets less than ``least``); room to spare goes to them by their need."""
    widths = [0] * len(needs)
    left, open_ = max(free, least * len(needs)), sorted(range(len(needs)), key=lambda i: needs[i])
    while open_:
        fair = left // len(open_)
        index = open_[0]
        if max(needs[index], least) > fair:
            for rest, i in enumerate(open_):
                widths[i] = fair + (1 if rest < left - fair * len(open_) else 0)
            return widths
        widths[index] = max(needs[index], least)
        left -= widths[index]
        open_.pop(0)
    total = sum(needs) or 1
    spare = left
    for i, need in enumerate(needs):  # every need is met: the rest goes by need
        extra = spare * need // total
        widths[i] += extra
        left -= extra
    widths[max(range(len(needs)), key=lambda i: needs[i])] += left
    return widths


class LiveTable(DataTable[Cell]):
    """A row-cursor table with marks (``space``), sorting and diff-based ``sync``."""

    def __init__(self, columns: Sequence[Column], *, sort_by: str, **kwargs: Any) -> None:
        # Set before DataTable's __init__, whose watchers already clear the caches.
        self._versions: dict[RowKey, int] = {}
        self._serial = count()
        self._lines: LRUCache[Hashable, tuple[Strip, int]] = LRUCache(CACHED_LINES)
        self._cells: LRUCache[Hashable, tuple[Cell, CellLines]] = LRUCache(CACHED_CELLS)
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._spec = tuple(columns)
        self._flexible = [i for i, c in enumerate(self._spec) if c.width is None]
        # the widest text (in cells) each flexible column has had to show, and its label
        self._needs = {i: columns_of(self._spec[i].label) for i in self._flexible}
        self._shown: dict[str, Row] = {}
        self.marked: set[str] = set()
        self.sort_by = sort_by
        self.sort_reverse = False

    def on_mount(self) -> None:
        self.add_column("", key=MARK_COLUMN, width=1)
        for column in self._spec:
            self.add_column(column.label, key=column.key, width=column.width or FLEX_MIN)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Columns without a width share what the fixed ones leave of the table's width,
        each by what its texts need (``share``)."""
        if not self._flexible or not self.size.width:
            return
        fixed = 1 + sum(c.width or 0 for c in self._spec)
        padding = 2 * self.cell_padding * (len(self._spec) + 1)
        # Leave room for the vertical scrollbar, which comes and goes with the rows.
        free = self.size.width - self.styles.scrollbar_size_vertical - fixed - padding
        widths = share(free, [self._needs[i] for i in self._flexible])
        for index, width in zip(self._flexible, widths, strict=True):
            self.columns[ColumnKey(self._spec[index].key)].width = width
        self.refresh()

    def _measure(self, row: Row) -> bool:
        """Note what ``row``'s flexible cells need; True when a column needs more."""
        grew = False
        for index in self._flexible:
            need = columns_of(row[index].text)
            if need > self._needs[index]:
                self._needs[index] = min(need, NEED_LIMIT)
                grew = True
        return grew

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
        changes: dict[str, dict[str, Cell]] = {}
        keep = self.current_key
        grew = False
        with self.app.batch_update():
            for key in [k for k in shown if k not in rows]:
                self.remove_row(key)
                del shown[key]
                self.marked.discard(key)
            for key, row in rows.items():
                old = shown.get(key)
                if old is None:
                    mark = MARK if key in self.marked else ""
                    new = (_cell(v, c) for v, c in zip(row, self._spec, strict=True))
                    self.add_row(Cell(mark), *new, key=key)
                    resort = True
                elif old != row:
                    changes[key] = {
                        column.key: _cell(after, column)
                        for column, before, after in zip(self._spec, old, row, strict=True)
                        if before != after
                    }
                    resort |= old[sort_index].sort_key != row[sort_index].sort_key
                else:
                    continue
                grew |= self._measure(row)
                shown[key] = row
            self._set_cells(changes, repaint=not resort)  # a sort repaints them all
            if resort:
                self._sort(keep)
            if grew:
                self._fit()

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
        self._set_cells({key: {MARK_COLUMN: Cell(MARK if key in self.marked else "")}})
        self.action_cursor_down()

    def clear_marks(self) -> None:
        self._set_cells({key: {MARK_COLUMN: Cell("")} for key in self.marked & self._shown.keys()})
        self.marked.clear()

    def _set_cells(
        self, changes: Mapping[str, Mapping[str, Cell]], *, repaint: bool = True
    ) -> None:
        """Change cells of some rows (``row key -> column key -> cell``) and repaint the
        visible ones among them (``update_cell`` repaints the whole table for each cell)."""
        if not changes:
            return
        self._update_count += 1  # DataTable caches rows' renderables by this count
        # Rows are one line high, below the header: row i is painted on line
        # header + i - scroll_y (refresh_row finds that line by adding up the rows above).
        header = self.header_height if self.show_header else 0
        shift = header - round(self.scroll_y)
        width, height = self.size
        for key, cells in changes.items():
            row_key = RowKey(key)
            self._data[row_key].update({ColumnKey(c): cell for c, cell in cells.items()})
            self._touch(row_key)
            y = shift + self.get_row_index(row_key)
            if repaint and header <= y < height:
                self.refresh(Region(0, y, width, 1))

    def _sort(self, keep: str | None) -> None:
        self.sort(self.sort_by, key=attrgetter("sort_key"), reverse=self.sort_reverse)
        if keep is not None and keep in self._shown:
            index = self.get_row_index(keep)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False)

    # -- rendering: lines cached per row --------------------------------------------

    def add_row(
        self,
        *cells: Cell,
        height: int | None = 1,
        key: str | None = None,
        label: TextType | None = None,
    ) -> RowKey:
        row_key = super().add_row(*cells, height=height, key=key, label=label)
        self._touch(row_key)
        return row_key

    def _touch(self, row_key: RowKey) -> None:
        """The row's cached lines are stale: give it a new version."""
        self._versions[row_key] = next(self._serial)

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Cell,
        *,
        update_width: bool = False,
    ) -> None:
        """DataTable's (LiveTable itself changes cells with ``_set_cells``), keeping the
        row's cached lines current."""
        super().update_cell(row_key, column_key, value, update_width=update_width)
        self._touch(RowKey(row_key) if isinstance(row_key, str) else row_key)

    def remove_row(self, row_key: RowKey | str) -> None:
        super().remove_row(row_key)
        self._versions.pop(RowKey(row_key) if isinstance(row_key, str) else row_key, None)

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._lines.clear()
        self._cells.clear()

    def notify_style_update(self) -> None:
        self._lines.clear()
        self._cells.clear()
        super().notify_style_update()

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        try:
            row_key, line = self._get_offsets(y)
        except LookupError:  # below the last row
            return super()._render_line(y, x1, x2, base_style)
        version = self._versions.get(row_key)
        if version is None:  # the header
            return super()._render_line(y, x1, x2, base_style)
        index = self.get_row_index(row_key)
        lit: tuple[object, ...] = (self.cursor_row == index, self.hover_row == index)
        if self.cursor_type != "row":
            lit += (self.cursor_column, self.hover_column)
        place = (index % 2, index < self.fixed_rows)  # zebra stripes, fixed rows
        cache_key = (version, place, line, x1, x2, base_style, lit, self._look())
        cached = self._lines.get(cache_key)
        if cached is None:
            strip = super()._render_line(y, x1, x2, base_style)
        elif cached[1] != index:
            # The row moved (a sort, rows above it came or went): only the row index
            # the mouse handlers read from the segments' meta is out of date.
            strip = cached[0]
            moved = Segment.apply_style(strip, post_style=Style.from_meta({"row": index}))
            strip = Strip(moved, strip.cell_length)
        else:
            return cached[0]
        self._lines[cache_key] = (strip, index)
        return strip

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> CellLines:
        """Cells are cached by themselves and their place, so that a changed row renders
        only its changed cells."""
        if row_index < 0 or column_index < 0:  # the header, row labels
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key, column_key = self.coordinate_to_cell_key(Coordinate(row_index, column_index))
        cell = self._data[row_key][column_key]
        # Cells are replaced, never changed in place; an entry holds its cell, so that the
        # id is not another's while it lives. The segments' meta carries the position.
        hovered = self._show_hover_cursor
        key = (id(cell), row_index, column_index, base_style, width, cursor, hover, hovered)
        cached = self._cells.get(key)
        if cached is not None:
            return cached[1]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._cells[key] = (cell, lines)
        return lines

    def _look(self) -> Hashable:
        """What, besides a row's own data and place and the part of it shown, changes how
        its lines look (changes of style, focus included, and of settings such as zebra
        stripes clear the caches)."""
        return (
            tuple(column.get_render_width(self) for column in self.columns.values()),
            self._row_label_column_width,
            self.cursor_type,
            self._show_hover_cursor,
        )
