"""What the member costs this month, where the month is heading, and the alternatives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from binderctl.errors import BinderctlError
from binderctl.formatting import age, inert
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.services.budget import CENT, UNIT_STEP, month_bounds
from binderctl.widgets.plot import bar_glyph

if TYPE_CHECKING:
    from binderctl.services.budget import Money
    from binderctl.services.budget_report import BudgetReport

LEVEL_STYLE = {"ok": "green", "warn": "bold yellow", "over": "bold red"}
CHART_ROWS = 8
LABEL_WIDTH = 16  # the amounts on the chart's right
SPENT_STYLE = "green"
PROJECTED_STYLE = "cyan"
CAP_STYLE = "bold red"
FITS = {None: Text("?", style="dim"), True: Text("yes", style="green"), False: Text("no", "red")}


def day_totals(report: BudgetReport) -> list[tuple[Decimal, bool]]:
    """Each day of the month: its running total (net) at the day's end, and whether that
    is spent (today: spent so far) or projected."""
    totals = {moment: amount.net for moment, amount in report.curve}
    start, end = month_bounds(report.now)
    days = []
    for day in range((end - start).days):
        day_end = start + timedelta(days=day + 1)
        if day_end <= report.now:
            days.append((totals[day_end], True))
        elif day_end - timedelta(days=1) <= report.now:
            days.append((totals[report.now], True))
        else:
            days.append((totals[day_end], False))
    return days


def month_chart(report: BudgetReport, width: int) -> Text:
    """The month's running total per day (spent, then projected) under the cap line, in
    about ``width`` cells."""
    days = day_totals(report)
    step = max(2, (width - LABEL_WIDTH) // len(days))  # cells per day
    cap = report.cap.net
    top = max(cap, *(amount for amount, _ in days), Decimal(1))
    cap_row = max(1, round(cap / top * CHART_ROWS))
    currency = report.currency
    labels = {
        1: (f" {currency} 0", "dim"),
        cap_row: (f" cap {currency} {cap:.0f}", CAP_STYLE),  # over the zero when both are 1
    }
    lines = []
    for row in range(CHART_ROWS, 0, -1):
        line = Text()
        for amount, spent in days:
            glyph = bar_glyph(float(amount), float(top), row, CHART_ROWS)
            if glyph == " " and row == cap_row:
                line.append("─" * step, CAP_STYLE)
            else:
                bar = glyph * (step - 1) + (" " if step > 2 else glyph)
                line.append(bar, SPENT_STYLE if spent else PROJECTED_STYLE)
        label, style = labels.get(row, (f" {top * row / CHART_ROWS:.0f}", "dim"))
        line.append(label, style)
        lines.append(line)
    today = sum(1 for _, spent in days if spent)
    axis = Text("day 1".ljust(step * len(days) - 6) + f"day {len(days)}", style="dim")
    marker = Text(" " * (step * (today - 1)) + "▲ today", style="bold")
    return Text("\n").join([*lines, axis, marker])


def chart_legend(report: BudgetReport) -> Text:
    currency = report.currency
    spent = report.month_to_date.total.rounded().net
    projected = report.projected_month.total.rounded().net
    return Text.assemble(
        ("██", SPENT_STYLE),
        f" spent {currency} {spent}   ",
        ("██", PROJECTED_STYLE),
        f" projected {currency} {projected} at month end   ",
        ("──", CAP_STYLE),
        f" cap {currency} {report.cap.net:.0f}   (net)",
    )


def amounts(amount: Money | None, step: Decimal = CENT) -> tuple[str, str]:
    """Net and gross, rounded to ``step``; dashes for a figure there is none of."""
    if amount is None:
        return "-", "-"
    rounded = amount.rounded(step)
    return str(rounded.net), str(rounded.gross)


def figures(report: BudgetReport) -> Group:
    """Net and gross in columns of their own, right-aligned so the digits line up."""
    table = Table(box=None, padding=(0, 0, 0, 3), pad_edge=False, header_style="dim")
    table.add_column("", style="bold", no_wrap=True)
    table.add_column(f"{report.currency} net", justify="right", no_wrap=True)
    table.add_column(f"{report.currency} gross", justify="right", no_wrap=True)
    rows = (
        ("Month to date", report.month_to_date.total, LEVEL_STYLE[report.month_to_date_level]),
        ("Projected month", report.projected_month.total, LEVEL_STYLE[report.projected_level]),
        ("Cap", report.cap, ""),
        ("Headroom at month end", report.headroom, ""),
    )
    for label, amount, style in rows:
        table.add_row(label, *(Text(figure, style) for figure in amounts(amount)))
    costs = report.session_costs
    table.add_row()
    table.add_row("Per session-hour", *amounts(costs.per_session_hour, UNIT_STEP))
    table.add_row("Per launch", *amounts(costs.per_launch, UNIT_STEP))
    fetched = Text(f"prices fetched {age(report.prices_age.total_seconds())} ago", style="dim")
    if report.stale:
        fetched.append(" (stale: the API is unreachable)", style="bold yellow")
    return Group(table, fetched)


def what_if_table(report: BudgetReport) -> Table:
    """The options; only the names give up width (to an ellipsis), never the figures."""
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption=f"monthly, in {report.currency} net of VAT",
        caption_justify="left",
    )
    table.add_column("Option", min_width=12)  # the one column rich may narrow
    table.add_column("Monthly", justify="right", no_wrap=True)
    for header in ("vs now", "RAM", "max_pods"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("Fits peak", no_wrap=True)
    table.add_column("Source", no_wrap=True)
    now = next((row.monthly.net for row in report.what_if if row.current), None)
    for row in report.what_if:
        fits = None if row.fits_memory is None else bool(row.fits_memory and row.fits_pods)
        delta = "" if now is None else f"{row.monthly.net - now:+.2f}"
        table.add_row(
            Text(
                inert(row.name, 60) + ("  ◀ now" if row.current else ""),
                no_wrap=True,
                overflow="ellipsis",
            ),
            str(row.monthly.rounded().net),
            Text("current" if row.current else delta, style="dim"),
            "-" if row.memory_gb is None else f"{row.memory_gb} GB",
            "-" if row.max_pods is None else str(row.max_pods),
            FITS[fits],
            Text(inert(row.source, 40), style="dim"),
            style="bold" if row.current else "",
        )
    return table


class BudgetScreen(ConsoleScreen):
    KINDS = frozenset({"budget"})
    BINDINGS = list(keymap.BUDGET_BINDINGS)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="budget"):
            yield Static(Text("loading prices and resources…", style="dim"), id="budget-figures")
            yield Static(id="budget-notes", markup=False)
            with Vertical(id="budget-chart-panel", classes="panel") as panel:
                panel.border_title = "This month"
                yield Static(id="budget-chart")
                yield Static(id="budget-legend")
            with Vertical(id="budget-whatif-panel", classes="panel") as panel:
                panel.border_title = "What if: the same member on another server"
                yield Static(id="budget-whatif")

    def __init__(self) -> None:
        super().__init__()
        self.report: BudgetReport | None = None  # the last one shown

    def render_model(self) -> None:
        """Shown (again): the figures as of now, not as of the last visit."""
        self.action_reload()

    def action_reload(self) -> None:
        self._load(datetime.fromtimestamp(self.console.clock()).astimezone())

    @work(thread=True, exclusive=True, group="budget")
    def _load(self, now: datetime) -> None:
        self.console.services_ready.wait()
        from binderctl.services.budget_report import budget_report

        try:
            report = budget_report(self.console.member, now)
        except BinderctlError as exc:
            self.post_message(self.LoadFailed(exc))
            return
        self.post_message(self.Loaded(report))

    @dataclass
    class Loaded(Message):
        report: BudgetReport

    @dataclass
    class LoadFailed(Message):
        error: BinderctlError

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self._show(message.report)

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        self._failed(message.error)

    def _failed(self, exc: BinderctlError) -> None:
        self.query_one("#budget-figures", Static).update(
            Text(f"cannot compute the budget: {inert(str(exc), 400)}", style="bold red")
        )

    def _show(self, report: BudgetReport) -> None:
        self.report = report
        self.query_one("#budget-figures", Static).update(figures(report))
        notes = self.query_one("#budget-notes", Static)
        notes.update("\n".join(report.notes))
        notes.display = bool(report.notes)
        self._draw_chart()
        self.query_one("#budget-legend", Static).update(chart_legend(report))
        self.query_one("#budget-whatif", Static).update(what_if_table(report))

    def on_resize(self) -> None:
        self.call_after_refresh(self._draw_chart)

    def _draw_chart(self) -> None:
        if self.report is not None:
            chart = self.query_one("#budget-chart", Static)
            chart.update(month_chart(self.report, chart.size.width))
