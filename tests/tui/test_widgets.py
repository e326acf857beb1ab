"""The console's widgets on their own, in minimal apps."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets.data_table import ColumnKey

from binderctl.models import LogLine
from binderctl.widgets.live_table import FLEX_MIN, CellValue, Column, LiveTable
from binderctl.widgets.log_view import LogView
from binderctl.widgets.plot import bar_glyph, bars, columns

HOSTILE = "\x1b[2J\x1b]0;pwned\x07[bold red]not markup[/] [link=http://x]y[/link] \x9b31m"


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(limit=1000)


def lines(count: int, start: int = 0, text: str = "line") -> list[LogLine]:
    return [
        LogLine("hub-1", "hub", f"{text} {i}", f"2026-01-01T00:00:{i % 60:02d}Z")
        for i in range(start, start + count)
    ]


def row_text(view: LogView, y: int) -> str:
    return "".join(segment.text for segment in view.render_line(y))


async def test_a_flood_stays_bounded_and_followed() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(LogView)
        for chunk in range(50):
            view.feed(lines(2000, chunk * 2000))
        await pilot.pause(0.2)
        assert view.received == 100_000
        assert len(view.lines) == 1000
        assert view.lines[-1].text == "line 99999"
        assert view.follow
        assert view.scroll_y == view.max_scroll_y
        assert "line 99999" in row_text(view, view.size.height - 1)


async def test_scrolling_up_pauses_and_the_bottom_resumes() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(LogView)
        view.feed(lines(500))
        await pilot.pause(0.2)
        view.scroll_to(y=100, animate=False, immediate=True)
        await pilot.pause()
        assert not view.follow
        top = row_text(view, 0)
        view.feed(lines(100, 500))
        await pilot.pause(0.2)
        assert row_text(view, 0) == top  # the reader's place does not move
        view.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert view.follow
        view.feed(lines(10, 600))
        await pilot.pause(0.2)
        assert "line 609" in row_text(view, view.size.height - 1)


async def test_filter_highlights_and_toggles() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(LogView)
        view.feed(lines(50) + lines(3, text="ERROR disk full"))
        await pilot.pause(0.2)
        view.pattern = "error"
        await pilot.pause()
        assert view.shown == 3
        segments = list(view.render_line(0))
        assert any(s.text == "ERROR" and s.style and s.style.reverse for s in segments)
        view.timestamps = True
        await pilot.pause()
        assert row_text(view, 0).startswith("2026-01-01T00:00:00 ")
        view.pattern = ""
        view.wrap = True
        view.feed([LogLine("hub-1", "hub", "x" * 300, "")])
        await pilot.pause(0.2)
        assert view.virtual_size.height > view.shown


async def test_hostile_lines_are_inert() -> None:
    app = LogApp()
    async with app.run_test(size=(200, 20)) as pilot:
        view = app.query_one(LogView)
        view.feed([LogLine("hub-1", "hub", HOSTILE, "")])
        await pilot.pause(0.2)
        text = row_text(view, 0)
        assert "[bold red]not markup[/]" in text
        assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
        assert "".join(view.export()) == text.rstrip()


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable((Column("name", "Name"), Column("n", "N")), sort_by="n")


def rows(values: dict[str, int]) -> dict[str, tuple[CellValue, ...]]:
    return {k: (CellValue(k, k), CellValue(str(v), v)) for k, v in values.items()}


async def test_sync_touches_only_what_changed() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(LiveTable)
        table.sync(rows({"a": 3, "b": 1, "c": 2}))
        await pilot.pause()
        assert [table.get_row_at(i)[1].plain for i in range(3)] == ["b", "c", "a"]
        untouched = table.get_cell("a", "name")
        table.sync(rows({"a": 0, "b": 1, "d": 5}))
        await pilot.pause()
        assert table.get_cell("a", "name") is untouched
        assert table.get_cell("a", "n").plain == "0"
        assert "c" not in table.rows
        assert [table.get_row_at(i)[1].plain for i in range(3)] == ["a", "b", "d"]
        table.sort_on("n")
        assert [table.get_row_at(i)[1].plain for i in range(3)] == ["d", "b", "a"]


async def test_marks_and_hostile_cells() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(LiveTable)
        table.sync({"x": (CellValue(HOSTILE), CellValue("1", 1)), **rows({"y": 2})})
        await pilot.pause()
        cell = table.get_cell("x", "name")
        assert "[bold red]" in cell.plain and "\x1b" not in cell.plain
        assert len(cell.plain) <= 80
        table.move_cursor(row=0)
        table.toggle_mark()
        assert table.selected_keys() == ["x"]
        table.clear_marks()
        assert table.selected_keys() == ["y"]  # the cursor moved down after marking


async def test_log_lines_carry_the_view_background() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(LogView)
        view.feed(lines(3))
        await pilot.pause(0.2)
        background = view.rich_style.bgcolor
        assert background is not None
        assert all(s.style and s.style.bgcolor == background for s in view.render_line(0))


async def test_a_second_pod_turns_the_pod_column_on() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(LogView)
        view.pods_when_several = True
        view.feed(lines(3))
        await pilot.pause(0.2)
        assert not view.show_pods
        view.feed([LogLine("hub-2", "hub", "from the new pod", "")])
        await pilot.pause(0.2)
        assert view.show_pods
        assert row_text(view, 3).startswith("hub-2 ")


class WideTableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable((Column("name", "Name", 10), Column("text", "Text")), sort_by="name")


async def test_a_column_without_width_takes_the_rest() -> None:
    app = WideTableApp()
    async with app.run_test(size=(100, 10)) as pilot:
        table = app.query_one(LiveTable)
        table.sync({"a": (CellValue("a", "a"), CellValue("x" * 200))})
        await pilot.pause()
        widths = sum(column.get_render_width(table) for column in table.columns.values())
        scrollbar = table.styles.scrollbar_size_vertical
        assert widths == table.size.width - scrollbar
        assert table.columns[ColumnKey("text")].width > FLEX_MIN


def test_bars_start_at_zero() -> None:
    assert columns([1.0, 2.0, 3.0], 6) == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    assert columns([1.0, 5.0, 2.0, 4.0], 2) == [5.0, 4.0]
    assert bars([24.0, 48.0], 2, 2, top=48.0).plain == " █\n██"
    assert bars([0.0, 0.1], 2, 1, top=48.0).plain == " ▁"  # above zero shows
    assert bar_glyph(10.0, 0.0, 1, 4) == " "
