"""LiveTable's render caches: what it paints after any history of ticks, sorts,
cursor moves, marks, scrolling, focus, theme and size changes is what a table built from
scratch in the same state paints, and a tick re-renders only the rows it changed."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator

from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import DataTable

from binderctl.widgets.live_table import CellValue, Column, LiveTable, Row

COLUMNS = (Column("name", "Name", 10), Column("n", "N", 6), Column("note", "Note"))
VISIBLE = 10  # table height: a header and nine rows


class TablesApp(App[None]):
    CSS = f"LiveTable {{ height: {VISIBLE}; }}"

    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield LiveTable(COLUMNS, sort_by="n", id="live")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.selected.append(event.row_key.value)


class SteadyBackgroundApp(TablesApp):
    """Focus changes only the cursor's colours, not the table's background."""

    CSS = f"""
    LiveTable {{ height: {VISIBLE}; }}
    LiveTable:focus {{ background-tint: 0%; }}
    """


def row(key: str, n: int, note: str = "") -> Row:
    return (CellValue(key, key), CellValue(str(n), n), CellValue(note, note, "bold" * (n % 2)))


def painted(table: LiveTable) -> list[list[Segment]]:
    """The lines the table paints (text, style and the mouse's meta of every segment)."""
    return [list(strip) for strip in table.render_lines(Region(0, 0, *table.size))]


async def fresh_painting(
    app: TablesApp, live: LiveTable, rows: dict[str, Row]
) -> list[list[Segment]]:
    """What a table built from scratch with ``rows`` and ``live``'s state paints (in an
    app of its own, so that ``live`` keeps its focus and its cache)."""
    other = type(app)()
    other.theme = app.theme
    async with other.run_test(size=app.size) as pilot:
        fresh = other.query_one("#live", LiveTable)
        fresh.sort_by, fresh.sort_reverse = live.sort_by, live.sort_reverse
        fresh.marked = set(live.marked)
        fresh.sync(rows)
        await pilot.pause()
        fresh.move_cursor(row=live.cursor_row, scroll=False)
        fresh.scroll_to(y=live.scroll_y, animate=False, immediate=True)
        if not live.has_focus:
            other.set_focus(None)
        await pilot.pause()
        assert fresh.scroll_offset == live.scroll_offset
        return painted(fresh)


THIRTY = {f"s{i:02d}": row(f"s{i:02d}", i) for i in range(30)}


@contextlib.asynccontextmanager
async def started(rows: dict[str, Row]) -> AsyncIterator[tuple[TablesApp, Pilot, LiveTable]]:
    """A running app whose table shows ``rows``."""
    app = TablesApp()
    async with app.run_test(size=(60, 2 * VISIBLE + 2)) as pilot:
        live = app.query_one("#live", LiveTable)
        live.sync(rows)
        yield app, pilot, live


async def test_after_any_history_it_paints_what_a_fresh_table_paints() -> None:
    rng = random.Random(8)
    values = rng.sample(range(1000), 400)  # unique sort values: one right order
    rows = {f"s{i:02d}": row(f"s{i:02d}", values.pop(), "x" * i) for i in range(30)}
    app = TablesApp()
    async with app.run_test(size=(60, 2 * VISIBLE + 2)) as pilot:
        live = app.query_one("#live", LiveTable)
        live.sync(rows)
        await pilot.pause()
        for step in range(40):
            what = rng.choice(
                ["tick", "tick", "tick", "sort", "keys", "mark", "theme", "focus", "resize"]
            )
            if what == "tick":
                for key in rng.sample(sorted(rows), 4):
                    rows[key] = row(key, rng.choice([rows[key][1].sort_key, values.pop()]), key)
                for key in rng.sample(sorted(rows), rng.randint(0, 2)):
                    del rows[key]
                for i in range(rng.randint(0, 2)):
                    key = f"n{step}-{i}"
                    rows[key] = row(key, values.pop())
                live.sync(rows)
            elif what == "sort":
                live.sort_on(rng.choice(["name", "n"]))
            elif what == "keys":
                live.focus()
                await pilot.press(*rng.choices(["down", "up", "pagedown", "end", "home"], k=3))
            elif what == "mark":
                if rng.random() < 0.7:
                    live.toggle_mark()
                else:
                    live.clear_marks()
            elif what == "theme":
                app.theme = "textual-light" if app.theme == "textual-dark" else "textual-dark"
            elif what == "resize":
                await pilot.resize_terminal(132 - app.size.width, app.size.height)
            elif live.has_focus:
                app.set_focus(None)
            else:
                live.focus()
            await pilot.pause()
            fresh = await fresh_painting(app, live, rows)
            assert painted(live) == fresh, f"step {step}: {what}"


async def test_a_tick_renders_again_only_the_rows_it_changed() -> None:
    rows = THIRTY
    async with started(rows) as (_, pilot, live):
        await pilot.pause()
        live.scroll_to(y=3, animate=False, immediate=True)
        await pilot.pause()
        before = painted(live)
        rendered = live._lines.misses  # lines rendered, rather than taken from the cache
        # Rows 3 to 11 are shown (below the header); of the rows that change, but not
        # where they sort, the first and last shown and one between are painted again.
        shown = ["s03", "s05", "s11"]
        changed = [*shown, "s02", "s12", "s25"]
        live.sync({**rows, **{key: row(key, int(key[1:]), "new") for key in changed}})
        await pilot.pause()
        after = painted(live)
        assert live._lines.misses - rendered == len(shown)
        differ = [y for y, (old, new) in enumerate(zip(before, after, strict=True)) if old != new]
        assert differ == [1, 3, 9]


async def test_the_cursor_stays_on_its_row_when_a_tick_reorders_the_table() -> None:
    rows = THIRTY
    async with started(rows) as (_, pilot, live):
        await pilot.pause()
        live.move_cursor(row=4)
        assert live.current_key == "s04"
        live.sync({**rows, "s04": row("s04", 17), "s01": row("s01", 99)})
        await pilot.pause()
        assert live.current_key == "s04"
        assert live.cursor_row == live.get_row_index("s04") == 15


async def test_a_click_on_a_row_that_moved_selects_that_row() -> None:
    rows = THIRTY
    async with started(rows) as (app, pilot, live):
        await pilot.pause()
        # two rows from below come first: s03 moves two places down, keeping its stripe,
        # so its cached line is painted again with only its row number changed
        live.sync({**rows, "s20": row("s20", -2), "s21": row("s21", -1)})
        await pilot.pause()
        index = live.get_row_index("s03")
        assert index == 5
        await pilot.click(live, offset=(2, 1 + index))
        await pilot.click(live, offset=(2, 1 + index))
        assert live.current_key == "s03"
        assert app.selected == ["s03"]


async def test_a_cell_updated_through_the_data_table_api_is_painted() -> None:
    app = TablesApp()
    async with app.run_test(size=(60, 2 * VISIBLE + 2)) as pilot:
        live = app.query_one("#live", LiveTable)
        live.sync({"a": row("a", 1), "b": row("b", 2)})
        await pilot.pause()
        live.update_cell("a", "note", CellValue("changed").text)
        await pilot.pause()
        assert "changed" in "".join(segment.text for segment in painted(live)[1])


async def test_a_change_of_style_alone_is_painted() -> None:
    app = SteadyBackgroundApp()
    async with app.run_test(size=(60, 2 * VISIBLE + 2)) as pilot:
        live = app.query_one("#live", LiveTable)
        rows = {f"s{i}": row(f"s{i}", i) for i in range(5)}
        live.sync(rows)
        live.focus()
        await pilot.pause()
        focused = live.rich_style, painted(live)
        app.set_focus(None)
        await pilot.pause()
        assert live.rich_style == focused[0]
        assert painted(live)[1] != focused[1][1]  # the cursor's row
        assert painted(live) == await fresh_painting(app, live, rows)
