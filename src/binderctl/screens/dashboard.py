"""The first screen: what needs attention, is the node full, are the pieces up?

The Needs-attention panel on top shows the attention policy's items (the same as
``binderctl status``), each with its fix. Its frame and text panels are drawn first, with
"connecting" placeholders; the gauges and the components table (the costly widgets) are
mounted right after that first frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Static

from binderctl.formatting import age, cores, inert, middle, size
from binderctl.models import Health, History, NodeStatus, WarningEvent, component_named
from binderctl.screens import keymap
from binderctl.screens.base import ALL_KINDS, ConsoleScreen
from binderctl.screens.events import event_row, grouped
from binderctl.services import catalogue, departures
from binderctl.services.attention import certificate_severity, node_condition_severity
from binderctl.widgets import components
from binderctl.widgets.attention import SEVERITY_STYLE, attention_table, first_fix
from binderctl.widgets.live_table import LiveTable
from binderctl.widgets.metric import Metric

if TYPE_CHECKING:
    from binderctl.services.cluster import ClusterState

HOUR = 3600.0
LATEST_WARNINGS = 8
# What the panels show until the live model has its first picture of the member.
CONNECTING = Text("connecting to the member…", style="dim")


def _fraction(used: float | None, total: float | None) -> float | None:
    if used is None or not total:
        return None
    return used / total


def _values(samples: Iterable[tuple[float, float]]) -> list[float]:
    return [value for _, value in samples]


def _show_bytes(
    metric: Metric,
    used: int | None,
    total: int | None,
    samples: Iterable[tuple[float, float]],
) -> None:
    """Show a byte gauge (memory, disk): "<used> of <total>" and its history."""
    metric.show(_fraction(used, total), f"{size(used)} of {size(total)}", _values(samples))


def activity(state: ClusterState, now: float) -> Text:
    stuck = sum(1 for b in state.builds.values() if b.stuck)
    recent_builds = sum(1 for b in state.builds.values() if b.started >= now - HOUR)
    ended = departures.summary(state.departures, now)
    return Text.assemble(
        ("Sessions running  ", "bold"),
        f"{state.sessions_running}\n",
        *(((inert(ended, 300), "yellow"), "\n") if ended else ()),
        ("Launches, last hour  ", "bold"),
        f"{state.launches_last_hour}\n",
        ("Builds running  ", "bold"),
        f"{len(state.builds)}",
        (f"  ({stuck} stuck)", SEVERITY_STYLE["warning"]) if stuck else "",
        "\n",
        ("Builds started, last hour  ", "bold"),
        f"{recent_builds}",
    )


def health_table(health: Health | None) -> Table | Text:
    if health is None:
        return Text("no answer from /health yet", style="dim")
    if health.ok is None:
        return Text(f"/health unreachable: {inert(health.error or '', 200)}", style="bold red")
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(no_wrap=True, min_width=7)
    table.add_column(no_wrap=True, overflow="ellipsis")
    for check in health.checks:
        mark = Text("✔ OK", style="green") if check.ok else Text("✘ FAIL", style="bold red")
        table.add_row(mark, Text(inert(check.service, 60)))
    version = health.versions.get("binderhub")
    if version is not None:
        table.add_row(Text("version", style="dim"), Text(inert(str(version), 60), style="dim"))
    return table


def warnings_text(warnings: Sequence[WarningEvent], now: float) -> Text:
    """The latest warnings about what still exists; those whose pod has been deleted
    since are history: counted, and listed on the Events screen."""
    groups = grouped(warnings)
    live = [g for g in groups if not g.gone]
    gone = len(groups) - len(live)
    lines = []
    for group in live[:LATEST_WARNINGS]:
        when, reason, obj, _, message = event_row(group, now)
        lines.append(
            Text.assemble(
                (f"{when.text:>5} ", "dim"),
                (f"{inert(reason.text, 18):<18} ", reason.style),
                (f"{middle(inert(obj.text, 200), 40)}  ", ""),
                (inert(message.text, 120), "dim"),
                no_wrap=True,
                overflow="ellipsis",
            )
        )
    if not lines:
        lines.append(Text("no warnings", style="green"))
    if gone:
        about = "warning" if gone == 1 else "warnings"
        events = keymap.screen_spec("events")
        listed = f" ({events.key} {events.title} lists them)" if events else ""
        lines.append(Text(f"+{gone} {about} about pods that are gone{listed}", style="dim"))
    return Text("\n").join(lines)


def cert_text(expiry: float | None, now: float) -> Text:
    if expiry is None:
        return Text("client certificate: expiry unknown", style="dim")
    left = expiry - now
    severity = certificate_severity(expiry, now)
    style = SEVERITY_STYLE[severity] if severity else ""
    if left <= 0:
        return Text("client certificate EXPIRED", style=style)
    return Text(f"client certificate expires in {age(left)}", style=style)


class DashboardScreen(ConsoleScreen):
    KINDS = ALL_KINDS - {"budget"}
    BINDINGS = [
        *keymap.DASHBOARD_BINDINGS,
        Binding("enter", "details", "Details", show=False),
        Binding("l", "logs", "Logs", tooltip="the logs of the component under the cursor"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._filled = False  # the gauges and the table are mounted

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="panel", id="attention-panel") as panel:
            panel.border_title = "Needs attention"
            yield Static(CONNECTING, id="attention")
        with Grid(id="dashboard"):
            with Vertical(classes="panel", id="node-panel") as node:
                node.border_title = "Node"
                yield Static(CONNECTING, id="node-state", markup=False)
            with Vertical(classes="panel", id="activity-panel") as panel:
                panel.border_title = "Activity"
                yield Static(CONNECTING, id="activity", markup=False)
                yield Static(id="cert", markup=False)
            with Vertical(classes="panel", id="components-panel") as panel:
                panel.border_title = "Components"
                yield Static(CONNECTING, id="components-placeholder")
            with Vertical(classes="panel", id="health-panel") as panel:
                panel.border_title = "Health checks"
                yield Static(CONNECTING, id="health")
            with Vertical(classes="panel", id="warnings-panel") as panel:
                panel.border_title = "Latest warnings"
                yield Static(CONNECTING, id="warnings")

    def on_mount(self) -> None:
        self.call_after_refresh(self._fill)

    async def _fill(self) -> None:
        gauges = [Metric(label, id=label.lower()) for label in ("CPU", "Memory", "Disk", "Pods")]
        await self.query_one("#node-panel").mount_all(gauges, before="#node-state")
        table = LiveTable(components.COLUMNS, sort_by="name", id="components")
        await self.query_one("#components-placeholder").remove()
        await self.query_one("#components-panel").mount(table)
        if self.focused is None:  # as when it was there at the start (auto focus)
            table.focus()
        self._filled = True
        self.render_model()

    def action_fix(self) -> None:
        """Run the fix of the worst item that has one (it asks first, as every action)."""
        item = first_fix(self.console.header_state.attention)
        if item is None:
            self.notify("nothing that needs attention has a fix to run", severity="information")
            return
        targets = [item.target] if item.target else []
        self.request_by_key("f", catalogue.request(item.action or "", targets))

    def render_model(self) -> None:
        model = self.console.model
        now = self.console.clock()
        self.query_one("#cert", Static).update(cert_text(self.console.cert_expiry, now))
        if model is None:
            error = self.console.connect_error
            if error:
                not_connected = Text(f"Not connected: {inert(error, 300)}", style="bold red")
                self.query_one("#activity", Static).update(not_connected)
                self.query_one("#attention", Static).update(not_connected)
            return
        attention = attention_table(self.console.header_state.attention)
        self.query_one("#attention", Static).update(attention)
        self.query_one("#activity", Static).update(activity(model, now))
        self.query_one("#health", Static).update(health_table(model.health))
        self.query_one("#warnings", Static).update(warnings_text(model.warnings, now))
        if self._filled:
            self._render_node(model.node, self.console.history)
            self.query_one("#components", LiveTable).sync(
                {c.name: components.component_row(c) for c in model.components.values()}
            )

    def _component(self) -> str | None:
        """The component under the components table's cursor."""
        tables = self.query("#components")
        return tables.first(LiveTable).current_key if tables else None

    def action_details(self) -> None:
        name = self._component()
        if name is not None:
            self._open(name)

    def on_data_table_row_selected(self, event: LiveTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._open(event.row_key.value)

    def _open(self, name: str) -> None:
        from binderctl.screens.component_detail import ComponentDetailScreen

        if self.console.typing.amid("enter"):  # after a word typed here by mistake
            return
        component = component_named(name)
        if component is not None:
            self.app.push_screen(ComponentDetailScreen(component))

    def action_logs(self) -> None:
        name = self._component()
        if name is not None:
            self.show_logs(name)

    def _render_node(self, node: NodeStatus | None, history: History) -> None:
        if node is None:
            return
        cpu = self.query_one("#cpu", Metric)
        memory = self.query_one("#memory", Metric)
        disk = self.query_one("#disk", Metric)
        pods = self.query_one("#pods", Metric)
        cpu.show(
            _fraction(node.cpu_usage, node.cpu_allocatable),
            f"{cores(node.cpu_usage)} of {cores(node.cpu_allocatable)} cores",
            _values(history.node_cpu),
        )
        _show_bytes(memory, node.memory_usage, node.memory_allocatable, history.node_memory)
        _show_bytes(disk, node.disk_usage, node.disk_capacity, history.node_disk)
        pods.show(
            _fraction(node.pods_used, node.pods_max),
            f"{node.pods_used} of {node.pods_max} (max_pods)",
            _values(history.pods),
        )
        bad = {k: s for k, v in node.conditions.items() if (s := node_condition_severity(k, v))}
        style = SEVERITY_STYLE["error" if "error" in bad.values() else "warning"]
        state = Text.assemble(
            (f"{inert(node.name, 40)}  ", "bold"),
            ("cordoned  ", SEVERITY_STYLE["warning"]) if node.cordoned else "",
            (f"conditions: {', '.join(bad)}", style) if bad else ("conditions OK", "green"),
        )
        self.query_one("#node-state", Static).update(state)
