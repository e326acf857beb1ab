"""One core component in full (Enter on the Dashboard's components): its rollout and
why it is stuck, its pods (phase, readiness, restarts, last termination), its
conditions and revisions, and the events of all of these; its logs, previous logs,
restart and rollback are a key away."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from binderctl.errors import BinderctlError
from binderctl.formatting import age, image_label, images_label, inert
from binderctl.models import Component, ComponentDetail, ComponentName, PodDetail
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.services import catalogue
from binderctl.services.attention import rollout_fix
from binderctl.widgets.cells import plain
from binderctl.widgets.components import component_row, rollout_cell
from binderctl.widgets.live_table import CellValue, Column, LiveTable, Row

REFRESH_SECONDS = 2.0  # how often the pods, conditions and events are read again
POD_COLUMNS = (
    Column("pod", "Pod", 30),
    Column("phase", "Phase", 11),
    Column("ready", "Ready", 5),
    Column("restarts", "Restarts", 8),
    Column("age", "Age", 5),
    Column("revision", "Revision", 10),
    Column("image", "Image", 24),
    Column("why", "Why not ready / last termination"),
)


def pod_row(pod: PodDetail, now: float) -> Row:
    problem = pod.problem
    if problem is not None:
        why = CellValue(f"{problem.reason}: {problem.message}", problem.reason, "bold red")
    elif pod.last_termination is not None:
        ended = pod.last_termination
        when = "" if ended.finished is None else f", {age(now - ended.finished)} ago"
        code = "" if ended.exit_code is None else f" (exit code {ended.exit_code})"
        why = CellValue(f"last: {ended.reason}{code}{when}", ended.reason, "yellow")
    else:
        why = CellValue("", "")
    return (
        CellValue(pod.name, pod.name),
        CellValue(pod.phase, pod.phase, "" if pod.phase == "Running" else "yellow"),
        CellValue("yes" if pod.ready else "no", pod.ready, "green" if pod.ready else "red"),
        CellValue(str(pod.restarts), pod.restarts, "yellow" if pod.restarts else ""),
        CellValue(age(now - pod.created), -pod.created),
        CellValue(pod.revision, pod.revision, "dim"),
        CellValue(image_label(pod.image), pod.image, "dim"),
        why,
    )


def summary(component: Component | None, now: float) -> RenderableType:
    if component is None:
        return Text("not in the live model (yet): no workload or pod of it is read", style="dim")
    row = component_row(component)
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    counts = (
        f"{component.ready}/{component.desired} ready, {component.updated} updated, "
        f"{component.available} available"
    )
    table.add_row("Pods", Text(counts, style=row[1].style))
    started = None if component.started is None else age(now - component.started)
    table.add_row("Restarts", str(component.restarts))
    if started is not None:
        table.add_row("Running for", f"{started} (its oldest running pod)")
    rollout = rollout_cell(component)
    problem = component.problem
    if problem is not None:
        fix = rollout_fix(component.name, problem, component.revision)[1]
        text = f"stuck: pod {problem.pod} {problem.describe()}; {fix}"
        table.add_row("Rollout", Text(inert(text, 800), style=rollout.style))
    elif component.waiting:
        table.add_row("Rollout", Text(f"waiting for {component.waiting}", style="yellow"))
    else:
        table.add_row("Rollout", Text("done", style="green"))
    table.add_row("Image", images_label(component.running, component.image))
    if component.revision:
        table.add_row("Revision", str(component.revision))
    return table


def detail_panels(detail: ComponentDetail, now: float) -> RenderableType:
    """Conditions, revisions and events."""
    parts: list[RenderableType] = [Text(f"{detail.workload} (strategy {detail.strategy or '?'})")]
    if detail.conditions:
        conditions = Table("Condition", "Status", "Reason", "Since", "Message", box=None)
        for c in detail.conditions:
            style = "green" if c.status == "True" else "yellow"
            since = "" if c.since is None else age(now - c.since)
            conditions.add_row(c.type, Text(c.status, style=style), c.reason, since, c.message)
        parts.append(conditions)
    if detail.revisions:
        revisions = Table("Revision", "Image", "Pods", "Change cause", box=None)
        for r in detail.revisions:
            revisions.add_row(str(r.number), image_label(r.image), str(r.pods), r.cause or "-")
        parts.append(revisions)
    events = Table("Age", "Type", "Reason", "Object", "Count", "Message", box=None)
    for e in detail.events:
        style = "yellow" if e.type == "Warning" else ""
        events.add_row(
            age(now - e.time), Text(e.type, style=style), e.reason, e.object, str(e.count),
            Text(inert(e.message, 500)),
        )  # fmt: skip
    parts.append(events if detail.events else Text("no events", style="dim"))
    return Group(*parts)


class ComponentDetailScreen(ConsoleScreen):
    KINDS = frozenset({"component", "clock", "connection"})
    AUTO_FOCUS = "#component-pods"
    BINDINGS = [
        *keymap.DETAIL_BINDINGS,
        Binding("l", "logs", "Logs", tooltip="the logs of the pod under the cursor"),
        Binding("p", "previous", "Previous logs", tooltip="its container's run before this"),
        *keymap.component_bindings(),
    ]

    @dataclass
    class Loaded(Message):
        detail: ComponentDetail | None
        error: str | None = None

    def __init__(self, name: ComponentName) -> None:
        super().__init__()
        self.component = name
        self.detail: ComponentDetail | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(plain(f"Component {self.component}", "bold"), classes="title")
        with VerticalScroll():
            yield Static(id="component-summary", classes="panel")
            yield LiveTable(POD_COLUMNS, sort_by="age", id="component-pods", classes="panel")
            yield Static(Text("reading…", style="dim"), id="component-more", classes="panel")

    def on_mount(self) -> None:
        self.query_one("#component-summary").border_title = "Rollout"
        self.query_one("#component-pods").border_title = "Pods"
        self.query_one("#component-more").border_title = "Conditions, revisions, events"
        self._load()
        self.set_interval(REFRESH_SECONDS, self._load)

    @work(thread=True, exclusive=True, group="component-detail")
    def _load(self) -> None:
        self.console.services_ready.wait()
        from binderctl.services.component_detail import component_detail
        from binderctl.services.kube import Kube

        try:
            kube = self.console.kube or Kube(self.console.member)
            self.post_message(self.Loaded(component_detail(kube, self.component)))
        except BinderctlError as exc:
            self.post_message(self.Loaded(None, str(exc)))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        more = self.query_one("#component-more", Static)
        if message.detail is None:
            more.update(Text(f"cannot read it: {inert(message.error or '', 300)}", style="red"))
            return
        self.detail = message.detail
        now = self.console.clock()
        self.query_one(LiveTable).sync({p.name: pod_row(p, now) for p in self.detail.pods})
        more.update(detail_panels(self.detail, now))

    def render_model(self) -> None:
        model = self.console.model
        component = None if model is None else model.components.get(self.component)
        now = self.console.clock()
        self.query_one("#component-summary", Static).update(summary(component, now))

    # -- keys -------------------------------------------------------------------------
    def _pod(self) -> str | None:
        """The pod under the cursor, else the newest Ready one, as NAMESPACE/NAME."""
        if self.detail is None:
            return None
        name = self.query_one(LiveTable).current_key
        if name is None:
            ready = [p.name for p in self.detail.pods if p.ready]
            name = ready[0] if ready else None
        return None if name is None else f"{self.detail.namespace}/{name}"

    def action_logs(self) -> None:
        pod = self._pod()
        self.show_logs(pod or self.component)

    def action_previous(self) -> None:
        pod = self._pod()
        if pod is None:
            self.notify("no pod to read the previous logs of", severity="warning")
            return
        self.show_logs(f"{pod} --previous", "p")

    def action_act_on_component(self, name: str) -> None:
        action = catalogue.spec(name)
        if self.component not in action.choices:
            choices = ", ".join(action.choices)
            self.notify(f"{name} is for {choices}, not {self.component}", severity="warning")
            return
        self.request_by_key(action.key, catalogue.request(name, [self.component]))
