"""The shared shape of the table screens (sessions, builds, events): filter, sort, marks."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Static

from binderctl.formatting import inert
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.widgets.live_table import Column, LiveTable, Row


class TableScreen(ConsoleScreen):
    """Subclasses give COLUMNS, SORT_BY and ``table_rows``; this keeps the table current."""

    BINDINGS = list(keymap.TABLE_BINDINGS)
    AUTO_FOCUS = "LiveTable"
    COLUMNS: tuple[Column, ...] = ()
    SORT_BY = ""
    NOUN = "rows"
    EMPTY = "nothing here yet"  # what an empty table means, once the model is connected
    PODS = ""  # the model's rows whose pods the selection actions act on ("sessions")

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="filter (esc clears)", id="filter", classes="filter")
        yield LiveTable(self.COLUMNS, sort_by=self.SORT_BY, id="table")
        yield Static(id="empty", classes="empty-hint", markup=False)
        yield Static(id="status", classes="status-line", markup=False)

    @property
    def table(self) -> LiveTable:
        return self.query_one(LiveTable)

    @property
    def filter_text(self) -> str:
        return self.query_one("#filter", Input).value.strip().lower()

    def table_rows(self) -> Iterable[tuple[str, Row, str]]:
        """(key, row, text the filter searches) for every row of the model."""
        return ()

    def render_model(self) -> None:
        needle = self.filter_text
        rows = {key: row for key, row, text in self.table_rows() if needle in text.lower()}
        self.table.sync(rows)
        self.update_status(len(rows))
        hint = self.query_one("#empty", Static)
        hint.display = not rows
        if not rows:
            hint.update(self._empty_text())

    def _empty_text(self) -> str:
        if self.filter_text:
            return f"no {self.NOUN} match {inert(self.filter_text, 40)!r} (esc clears the filter)"
        if self.console.model is not None:
            return self.EMPTY
        error = self.console.connect_error
        return f"not connected: {inert(error, 300)}" if error else "connecting to the cluster…"

    def status_parts(self) -> list[str]:
        """What the screen adds to its status line after the count."""
        return []

    def update_status(self, shown: int) -> None:
        table = self.table
        parts = [f"{shown} {self.NOUN}", *self.status_parts()]
        if self.filter_text:
            parts.append(f"filter {self.filter_text!r}")
        if table.marked:
            parts.append(f"{len(table.marked)} marked")
        order = "descending" if table.sort_reverse else "ascending"
        parts.append(f"sorted by {table.sort_by} ({order})")
        self.query_one("#status", Static).update("  ·  ".join(parts))

    # -- keys -------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    def apply_argument(self, argument: str) -> None:
        box = self.query_one("#filter", Input)
        box.value = argument
        box.set_class(bool(argument), "shown")
        self.render_model()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.render_model()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.table.focus()

    def action_clear_or_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value or box.has_class("shown"):
            box.value = ""
            box.remove_class("shown")
            self.table.focus()
        elif self.table.marked:
            self.table.clear_marks()
        else:
            self.show("dashboard")

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self.update_status(self.table.row_count)

    def action_sort(self) -> None:
        keys = self.table.column_keys
        self.table.sort_on(keys[(keys.index(self.table.sort_by) + 1) % len(keys)])
        self.update_status(self.table.row_count)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.column_key.value in self.table.column_keys:
            self.table.sort_on(event.column_key.value)
            self.update_status(self.table.row_count)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_details(event.row_key.value)

    def selected_targets(self) -> list[str]:
        model = self.console.model
        if model is None or not self.PODS:
            return []
        rows = getattr(model, self.PODS)
        return [rows[key].pod for key in self.table.selected_keys() if key in rows]

    def open_details(self, key: str) -> None:
        """Show one row in detail (enter)."""

    def action_logs(self) -> None:
        key = self.table.current_key
        if key is not None:
            self.show_logs(key)
