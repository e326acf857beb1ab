"""Every host of the federation side by side, as the redirector's rules judge it.

Polls every host's public ``/health`` and ``/versions`` (and the prime's ``/versions``)
in a thread worker, concurrently and bounded by the redirector's timeout, every
``period`` of the configured check settings and on ``g``. ``enter`` on a host that is one
of our configured members switches the console to that member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Static

from binderctl.errors import BinderctlError
from binderctl.formatting import age, inert
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.screens.messages import OpenMember, RotationObserved
from binderctl.widgets.live_table import CellValue, Column, LiveTable, Row

if TYPE_CHECKING:
    from binderctl.services.federation import FederationReport, HostReport

ROTATION_STYLE = {"IN": "bold green", "OUT": "bold yellow", "?": "bold red"}


def host_row(report: FederationReport, host: HostReport, now: float) -> Row:
    from binderctl.services import federation_rows as f

    verdict = host.verdict
    state = f.rotation_words(verdict)
    role = "prime" if host.host.prime else "ours" if host.member else ""
    checked = age(now - host.checked) if host.checked else "-"
    versions = f.versions_words(host, report.prime_versions is not None)
    return (
        CellValue(inert(host.host.name, 40), host.host.name),
        CellValue(inert(role, 30), role),
        CellValue(f"{host.host.weight:g}", host.host.weight),
        CellValue(inert(f"{state} {f.why_words(verdict)}", 40), state, ROTATION_STYLE[state]),
        CellValue(inert(f.checks_words(host), 60), f.checks_words(host)),
        CellValue(inert(f.pods_words(host, report.settings.pod_headroom), 40), host.host.name),
        CellValue(inert(versions, 60), versions, "bold red" if host.differences else ""),
        CellValue(checked, host.checked),
    )


class FederationScreen(ConsoleScreen):
    KINDS: frozenset[str] = frozenset()
    BINDINGS = list(keymap.FEDERATION_BINDINGS)
    AUTO_FOCUS = "LiveTable"
    COLUMNS = (
        Column("host", "Host", 13),
        Column("role", "Role", 5),
        Column("weight", "Wt", 3),
        Column("rotation", "Rotation", 21),
        Column("checks", "/health", 10),
        Column("pods", "Pods+room/quota", 15),
        Column("versions", "/versions", None),
        Column("checked", "Age", 5),
    )
    DEFAULT_CSS = """
    FederationScreen #federation-detail { padding: 0 1; height: auto; }
    FederationScreen #federation-status { padding: 0 1; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.report: FederationReport | None = None
        self._timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield LiveTable(self.COLUMNS, sort_by="host", id="federation-table")
        yield Static(Text("checking every host…", style="dim"), id="federation-detail")
        yield Static(id="federation-status", markup=False)

    @property
    def table(self) -> LiveTable:
        return self.query_one(LiveTable)

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.action_reload()

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def action_reload(self) -> None:
        self._poll()

    @work(thread=True, exclusive=True, group="federation")
    def _poll(self) -> None:
        self.console.services_ready.wait()
        from binderctl.config import load_config
        from binderctl.services.federation import federation_report

        try:
            report = federation_report(load_config(self.console.config_path))
        except BinderctlError as exc:
            self.post_message(self.PollFailed(exc))
            return
        self.post_message(self.Polled(report))

    @dataclass
    class Polled(Message):
        report: FederationReport

    @dataclass
    class PollFailed(Message):
        error: BinderctlError

    @on(Polled)
    def _polled(self, message: Polled) -> None:
        self._show(message.report)

    @on(PollFailed)
    def _poll_failed(self, message: PollFailed) -> None:
        self._failed(message.error)

    def _failed(self, exc: BinderctlError) -> None:
        self.query_one("#federation-detail", Static).update(
            Text(f"cannot check the federation: {inert(str(exc), 400)}", style="bold red")
        )

    def _show(self, report: FederationReport) -> None:
        self.report = report
        now = self.console.clock()
        self.table.sync({h.host.name: host_row(report, h, now) for h in report.hosts})
        self._describe()
        for host in report.hosts:
            if host.member == self.console.member.name:
                self.post_message(RotationObserved(host.verdict))
        settings = report.settings
        prime = (
            f"prime versions from {report.prime_url}"
            if report.prime_error is None
            else f"PRIME UNREACHABLE: {report.prime_error}"
        )
        self.query_one("#federation-status", Static).update(
            f"{prime}  ·  check every {settings.period:g} s, failed_period "
            f"{settings.failed_period:g} s, timeout {settings.timeout:g} s, pod_headroom "
            f"{settings.pod_headroom}  ·  g checks again, enter opens one of our members"
        )
        if self._timer is None and self.is_current:
            self._timer = self.set_interval(settings.period, self.action_reload)

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._describe()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open()  # enter on the table

    def _selected(self) -> HostReport | None:
        key = self.table.current_key
        if self.report is None or key is None:
            return None
        return next((h for h in self.report.hosts if h.host.name == key), None)

    def _describe(self) -> None:
        host = self._selected()
        detail = self.query_one("#federation-detail", Static)
        if host is None:
            return
        verdict = host.verdict
        state = {True: "in rotation", False: "OUT of rotation", None: "rotation unknown"}
        text = Text.assemble(
            (f"{inert(host.host.name, 40)}", "bold"),
            f"  {inert(host.host.url, 80)}  ",
            (
                state[verdict.in_rotation],
                ROTATION_STYLE[{True: "IN", False: "OUT", None: "?"}[verdict.in_rotation]],
            ),
            f"\n{inert(verdict.detail, 400)}",
        )
        for key, ours, prime in host.differences:
            shown = f"this host {inert(repr(ours), 120)}, prime {inert(repr(prime), 120)}"
            text.append(f"\n  {inert(key, 60)}: {shown}")
        if host.health is not None:
            for check in host.health.checks:
                extra = {k: v for k, v in check.detail.items() if not k.startswith("_")}
                words = ", ".join(f"{k} {v}" for k, v in extra.items())
                text.append(f"\n  {inert(check.service, 40)}: {'ok' if check.ok else 'FAIL'}")
                if words:
                    text.append(f" ({inert(words, 200)})", style="dim")
        if host.member:
            text.append("\nenter: switch the console to member ", style="dim")
            text.append(inert(host.member, 40), style="bold")
        detail.update(text)

    def action_open(self) -> None:
        host = self._selected()
        if host is None or host.member is None:
            self.notify("not one of our configured members", severity="warning", markup=False)
            return
        self.post_message(OpenMember(host.member))
