"""Upgrades: what runs against what is current and what the prime runs, and a staged
upgrade (k3s or the charts) with each step live.

The plan is read in a thread worker (``services/upgrade_plan``: the cluster, k3s's
channels, the prime) when the screen is shown and on ``g``. ``k`` and ``c`` run
``upgrade-k3s`` and ``upgrade-charts`` of the action catalogue through the action
runner (read-only refusal, the confirmation, the audit records), with the run's step
events posted back to the screen; an unfinished run's recorded steps are shown as they
were left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from binderctl.errors import BinderctlError
from binderctl.formatting import inert
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.screens.messages import Failed, ask
from binderctl.services import catalogue
from binderctl.widgets.steps import steps_table

if TYPE_CHECKING:
    from binderctl.services.stages import ProgressEvent, StepState
    from binderctl.services.upgrade_plan import UpgradePlan, Version
    from binderctl.services.upgrades import Kind

STATUS_STYLE = {
    "current": "green",
    "behind": "yellow",
    "ahead": "cyan",
    "out of support": "bold red",
    "differs from the prime": "bold red",
    "?": "dim",
}
RUNS: tuple[tuple[str, Kind], ...] = (("upgrade-k3s", "k3s"), ("upgrade-charts", "charts"))


def _version(version: Version | None) -> Text:
    if version is None:
        return Text("-", style="dim")
    return Text(inert(version.value, 60) or "?", style="" if version.value else "dim")


def plan_table(plan: UpgradePlan) -> RenderableType:
    """The components side by side, then what to do."""
    table = Table(expand=True, box=None, pad_edge=False, header_style="bold")
    for header in ("Component", "Running", "Current", "Prime", "Status"):
        table.add_column(header, overflow="fold")
    for c in plan.components:
        table.add_row(
            Text(c.name, style="bold"),
            _version(c.running),
            _version(c.current),
            _version(c.prime),
            Text(c.status, style=STATUS_STYLE[c.status]),
        )
    todo = [
        Text(f"{c.name}: {inert(c.note, 300)}" if c.note else c.name, style="yellow")
        + Text(f"  {catalogue.hint(c.action)}" if c.action else "", style="bold")
        for c in plan.components
        if c.note or c.action
    ]
    parts: list[RenderableType] = [table]
    if todo:
        parts += [Text(), Text("To do", style="bold"), *todo]
    if plan.channels_error:
        parts.append(Text(f"k3s channels: {inert(plan.channels_error, 300)}", style="yellow"))
    parts += [Text(f"warning: {inert(w, 300)}", style="yellow") for w in plan.warnings]
    return Group(*parts)


class UpgradesScreen(ConsoleScreen):
    KINDS: frozenset[str] = frozenset()
    BINDINGS = list(keymap.UPGRADE_BINDINGS)
    DEFAULT_CSS = """
    UpgradesScreen #upgrades-body { padding: 0 1; }
    UpgradesScreen #upgrades-plan { height: auto; }
    UpgradesScreen #upgrades-run-title { margin-top: 1; text-style: bold; }
    UpgradesScreen #upgrades-steps { height: auto; }
    UpgradesScreen #upgrades-status { color: $text-muted; margin-top: 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.steps: dict[str, ProgressEvent] = {}
        self.running = False

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="upgrades-body"):
            yield Static(Text("reading versions…", style="dim"), id="upgrades-plan")
            yield Static(id="upgrades-run-title")
            yield Static(id="upgrades-steps")
            yield Static(id="upgrades-status")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self._status(
            "g reads again · k upgrades k3s · c upgrades the charts (each asks first; "
            "read-only mode refuses them)"
        )
        if not self.running:
            self.action_reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "upgrade":
            return not self.console.readonly and not self.running
        return super().check_action(action, parameters)

    # -- workers -------------------------------------------------------------------------

    @dataclass
    class Planned(Message):
        plan: UpgradePlan

    @dataclass
    class PlanFailed(Message):
        error: BinderctlError

    @dataclass
    class Recorded(Message):
        title: str
        events: list[ProgressEvent]

    @dataclass
    class Step(Message):
        event: ProgressEvent

    @dataclass
    class Finished(Message):
        outcome: str | None  # None: it failed (the error went to the console)

    def action_reload(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="upgrade-plan")
    def _read(self) -> None:
        self.console.services_ready.wait()
        from binderctl.config import load_config
        from binderctl.services import upgrade_charts, upgrade_k3s
        from binderctl.services.upgrade_plan import upgrade_plan
        from binderctl.services.upgrades import load_state

        member = self.console.member
        titles = {s.name: s.title for s in (*upgrade_k3s.STEPS, *upgrade_charts.STEPS)}
        try:
            config = load_config(self.console.config_path)
            for action, kind in RUNS:
                state = load_state(member, kind)
                if state is not None:
                    self.post_message(self.Recorded(*_recorded(action, state, titles)))
            plan = upgrade_plan(config.member(member.name), config.federation, config.upgrades)
        except BinderctlError as exc:
            self.post_message(self.PlanFailed(exc))
            return
        self.post_message(self.Planned(plan))

    def action_upgrade(self, name: str) -> None:
        self.running = True
        self.steps = {}
        self.refresh_bindings()
        self._run(name)

    @work(thread=True, exclusive=True, group="upgrade-run")
    def _run(self, name: str) -> None:
        self.console.services_ready.wait()
        from binderctl.config import load_config
        from binderctl.services.actions import ActionRunner, Operations

        member = self.console.member
        try:
            config = load_config(self.console.config_path)
            operations = Operations(
                member, check=config.federation.check, federation=config.federation,
                upgrades=config.upgrades, events=self._post_step,
            )  # fmt: skip
            action = catalogue.build(operations, catalogue.request(name))
            self.post_message(self.Recorded(f"{action.name} {action.target}", []))
            runner = ActionRunner(
                member,
                readonly=self.console.readonly,
                confirm=lambda action, prepared: ask(self, action, prepared),
            )
            outcome = runner.run(action)
        except BinderctlError as exc:
            self.post_message(Failed(exc))
            self.post_message(self.Finished(None))
            return
        self.post_message(self.Finished(outcome))

    def _post_step(self, event: ProgressEvent) -> None:
        self.post_message(self.Step(event))

    @on(Planned)
    def _planned(self, message: Planned) -> None:
        self.show_plan(message.plan)

    @on(PlanFailed)
    def _plan_failed(self, message: PlanFailed) -> None:
        self.query_one("#upgrades-plan", Static).update(
            Text(f"cannot read the versions: {inert(str(message.error), 400)}", style="bold red")
        )

    @on(Recorded)
    def _recorded(self, message: Recorded) -> None:
        if self.running and message.events:
            return  # a run is shown live
        self.query_one("#upgrades-run-title", Static).update(message.title)
        self.steps = {event.step: event for event in message.events}
        self._draw_steps()

    @on(Step)
    def _step(self, message: Step) -> None:
        self.show_step(message.event)

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.running = False
        self.refresh_bindings()
        if message.outcome is not None:
            self._status(message.outcome, "bold green")
        self.action_reload()

    # -- drawing -----------------------------------------------------------------------

    def show_plan(self, plan: UpgradePlan) -> None:
        self.query_one("#upgrades-plan", Static).update(plan_table(plan))

    def show_step(self, event: ProgressEvent) -> None:
        self.steps[event.step] = event
        self._draw_steps()

    def _draw_steps(self) -> None:
        self.query_one("#upgrades-steps", Static).update(steps_table(self.steps.values()))

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#upgrades-status", Static).update(Text(inert(text, 400), style=style))


def _recorded(
    action: str, state: dict[str, Any], titles: dict[str, str]
) -> tuple[str, list[ProgressEvent]]:
    """A recorded run as step events: (its title, the steps as they were left)."""
    from binderctl.services.stages import ProgressEvent

    facts = state["facts"]
    about = f" {facts.get('from')} -> {facts.get('to')}" if "to" in facts else ""
    finished = "finished" if state.get("finished") else "unfinished: run it again to finish it"
    events = []
    for name, record in state["steps"].items():
        if not isinstance(record, dict):
            continue
        kept = record.get("state")
        shown: StepState = "running"
        if kept == "done":
            shown = "done"
        elif kept in ("failed", "interrupted"):
            shown = "failed"
        events.append(
            ProgressEvent(
                str(name), titles.get(str(name), str(name)), shown,
                str(record.get("message", "")),
                float(record.get("elapsed") or 0.0),
            )
        )  # fmt: skip
    return f"{action}{about} ({finished})", events
