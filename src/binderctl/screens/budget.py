"""What the member costs this month, where the month is heading, and the alternatives."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from binderctl.errors import BinderctlError
from binderctl.formatting import age, inert
from binderctl.screens.base import ConsoleScreen

if TYPE_CHECKING:
    from binderctl.services.budget import Money
    from binderctl.services.budget_report import BudgetReport

LEVEL_STYLE = {"ok": "green", "warn": "bold yellow", "over": "bold red"}
CHART_ROWS = 8


def money(amount: Money | None, currency: str) -> str:
    if amount is None:
        return "-"
    rounded = amount.rounded()
    return f"{currency} {rounded.net} net ({rounded.gross} gross)"


def month_chart(report: BudgetReport) -> Text:
    """Days of the month as columns: spent (█), projected (▒), and the cap (─)."""
    from binderctl.services.budget import month_bounds

    start, end = month_bounds(report.now)
    days = (end - start).days
    created = min((s.created for s in report.resources.servers), default=report.now)
    billed_from = (max(created, start) - start).total_seconds() / 86400
    elapsed = (report.now - start).total_seconds() / 86400
    spent = report.month_to_date.total.net
    projected = report.projected_month.total.net
    cap = report.cap.net
    top = max(cap, projected, spent, Decimal(1))
    spent_rate = spent / Decimal(max(elapsed - billed_from, 1e-9))
    projected_rate = (projected - spent) / Decimal(max(days - elapsed, 1e-9))

    def height(amount: Decimal) -> int:
        return round(float(amount / top) * CHART_ROWS)

    columns = []
    for day in range(1, days + 1):
        if day <= billed_from:
            columns.append((0, "█"))
        elif day <= elapsed:
            columns.append((height(spent_rate * Decimal(day - billed_from)), "█"))
        else:
            columns.append((height(spent + projected_rate * Decimal(day - elapsed)), "▒"))
    cap_row = height(cap)
    lines = []
    for row in range(CHART_ROWS, 0, -1):
        line = Text()
        for filled, glyph in columns:
            if filled >= row:
                style = "red" if row > cap_row else "green" if glyph == "█" else "cyan"
                line.append(glyph * 2, style)
            elif row == cap_row:
                line.append("──", "bold red")
            else:
                line.append("  ")
        amount = top * row / CHART_ROWS
        label = f" cap {cap:.0f}" if row == cap_row else f" {amount:.0f}"
        line.append(f"{label} {report.currency}", "bold red" if row == cap_row else "dim")
        lines.append(line)
    lines.append(Text(f"day 1{' ' * (days * 2 - 11)}day {days}", style="dim"))
    return Text("\n").join(lines)


def figures(report: BudgetReport) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    currency = report.currency
    mtd_style = LEVEL_STYLE[report.month_to_date_level]
    projected_style = LEVEL_STYLE[report.projected_level]
    table.add_row("Month to date", Text(money(report.month_to_date.total, currency), mtd_style))
    table.add_row(
        "Projected month", Text(money(report.projected_month.total, currency), projected_style)
    )
    table.add_row("Cap", money(report.cap, currency))
    table.add_row("Headroom at month end", money(report.headroom, currency))
    table.add_row("Per session-hour", money(report.session_costs.per_session_hour, currency))
    table.add_row("Per launch", money(report.session_costs.per_launch, currency))
    table.add_row(
        "Prices fetched",
        f"{age(report.prices_age.total_seconds())} ago"
        + (" (stale: API unreachable)" if report.stale else ""),
    )
    return table


def what_if_table(report: BudgetReport) -> Table:
    table = Table(title="What if", title_justify="left", title_style="bold")
    table.add_column("Option", max_width=48, overflow="ellipsis")
    for header in ("Monthly (net)", "RAM", "max_pods", "Fits peak", "Source"):
        table.add_column(header, no_wrap=True)
    for row in report.what_if:
        fits = {None: "?", True: "yes", False: "no"}
        verdict = fits[None if row.fits_memory is None else bool(row.fits_memory and row.fits_pods)]
        table.add_row(
            Text(inert(row.name, 60), style="bold" if row.current else ""),
            f"{report.currency} {row.monthly.rounded().net}",
            "-" if row.memory_gb is None else f"{row.memory_gb} GB",
            "-" if row.max_pods is None else str(row.max_pods),
            verdict,
            Text(inert(row.source, 40), style="dim"),
        )
    return table


class BudgetScreen(ConsoleScreen):
    KINDS = frozenset({"budget"})
    BINDINGS = [Binding("g", "reload", "Reload")]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="budget"):
            yield Static(Text("loading prices and resources…", style="dim"), id="budget-figures")
            yield Static(id="budget-chart", classes="panel")
            yield Static(id="budget-whatif")
            yield Static(id="budget-notes", markup=False)

    def on_mount(self) -> None:
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
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._show, report)

    def _failed(self, exc: BinderctlError) -> None:
        self.query_one("#budget-figures", Static).update(
            Text(f"cannot compute the budget: {inert(str(exc), 400)}", style="bold red")
        )

    def _show(self, report: BudgetReport) -> None:
        self.query_one("#budget-figures", Static).update(figures(report))
        chart = self.query_one("#budget-chart", Static)
        chart.border_title = "This month: spent █  projected ▒  cap ─"
        chart.update(month_chart(report))
        self.query_one("#budget-whatif", Static).update(what_if_table(report))
        self.query_one("#budget-notes", Static).update("\n".join(report.notes))
