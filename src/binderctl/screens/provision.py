"""Create or edit the member's config, see the plan, run the pipeline and watch each step."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static

from binderctl.config import Config, MemberConfig
from binderctl.errors import BinderctlError
from binderctl.paths import write_private
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.screens.messages import Failed, MemberChosen, Provisioned, ask
from binderctl.services.federation import entry_yaml
from binderctl.services.kube import kubeconfig_path
from binderctl.widgets.cells import plain
from binderctl.widgets.config_form import ConfigForm, config_text, member_values, read_document
from binderctl.widgets.steps import steps_table

if TYPE_CHECKING:
    from binderctl.services.hetzner import PlanItem
    from binderctl.services.provision import ProgressEvent, Summary


class ProvisionScreen(ConsoleScreen):
    BINDINGS = list(keymap.PROVISION_BINDINGS)

    @property
    def config_path(self) -> Path:
        return self.console.config_path

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="provision-layout"):
            with Vertical(id="provision-form", classes="panel") as form:
                form.border_title = "Member configuration"
                yield ConfigForm(member_values(self.console.member), id="form")
                with Horizontal(id="provision-buttons"):
                    yield Button("Save", id="save", compact=True)
                    yield Button("Plan", id="plan", variant="primary", compact=True)
                    yield Button(
                        "Provision",
                        id="provision",
                        variant="warning",
                        disabled=self.console.readonly,
                        compact=True,
                    )
            with VerticalScroll(id="provision-run", classes="panel") as run:
                run.border_title = "Pipeline"
                yield Static(id="provision-status", markup=False)
                yield Static(id="steps")
                yield Static(id="provision-summary")

    def __init__(self) -> None:
        super().__init__()
        self.steps: dict[str, ProgressEvent] = {}  # the latest event of each step, in order

    def on_mount(self) -> None:
        self._status("Edit the configuration, then Plan (dry run) or Provision.")
        if self.console.demo:
            self.action_provision()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "provision" and self.console.readonly)

    def _status(self, message: str, style: str = "") -> None:
        self.query_one("#provision-status", Static).update(plain(message, style, limit=400))

    def _validated(self) -> Config | None:
        from binderctl.widgets.config_form import validate

        form = self.query_one(ConfigForm)
        try:
            document = read_document(self.config_path)
        except BinderctlError as exc:
            self._status(str(exc), "bold red")
            return None
        config, field, message = validate(self.config_path, form.values, document)
        form.show_error(field, message)
        if config is None:
            self._status(f"Not valid: {message}", "bold red")
        return config

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"save": self.action_save, "plan": self.action_plan}
        actions.get(event.button.id or "", self.action_provision)()

    def action_save(self) -> None:
        config = self._validated()
        if config is None:
            return
        form = self.query_one(ConfigForm)
        text = config_text(form.values, read_document(self.config_path))
        try:
            write_private(self.config_path, text)
        except OSError as exc:
            self._status(f"cannot write {self.config_path}: {exc}", "bold red")
            return
        self._status(f"Saved {self.config_path}.", "green")
        self.post_message(MemberChosen(config.member(self._member_name())))

    def action_plan(self) -> None:
        config = self._validated()
        if config is not None:
            self._plan(config)

    def action_provision(self) -> None:
        config = self._validated()
        if config is not None:
            self._provision(config)

    # -- workers: their results come back as messages -----------------------------------

    @dataclass
    class Status(Message):
        text: str

    @dataclass
    class Planned(Message):
        items: list[PlanItem]

    @dataclass
    class Step(Message):
        event: ProgressEvent

    @dataclass
    class Finished(Message):
        member: MemberConfig
        summary: Summary
        outcome: str

    @dataclass
    class PipelineFailed(Message):
        error: BinderctlError

    @work(thread=True, exclusive=True, group="provision")
    def _plan(self, config: Config) -> None:
        self.console.services_ready.wait()
        from binderctl.services import provision as pipeline
        from binderctl.services.hetzner import HetznerService

        member = config.member(self._member_name())
        self.post_message(self.Status("Planning (dry run: nothing is changed)…"))
        try:
            items = pipeline.plan(member, HetznerService.for_member(member))
        except BinderctlError as exc:
            self.post_message(self.PipelineFailed(exc))
            return
        self.post_message(self.Planned(items))

    @work(thread=True, exclusive=True, group="provision")
    def _provision(self, config: Config) -> None:
        self.console.services_ready.wait()
        from binderctl.services import provision as pipeline
        from binderctl.services.actions import Action, ActionRunner, Prepared
        from binderctl.services.hetzner import HetznerService

        member = config.member(self._member_name())

        def on_event(event: ProgressEvent) -> None:
            self.post_message(self.Step(event))

        action, summaries = pipeline.provision_action(
            member,
            HetznerService.for_member(member),
            on_event,
            lambda items: "; ".join(
                f"{i.action} {i.kind} {i.name}" for i in items if i.action != "keep"
            ),
            federation=config.federation,
        )

        def confirm(action: Action, prepared: Prepared) -> bool:
            return self.console.demo or ask(self, action, prepared)

        runner = ActionRunner(member, readonly=self.console.readonly, confirm=confirm)
        self.post_message(self.Status(f"Provisioning member {member.name}…"))
        try:
            outcome = runner.run(action)
            if self.console.after_provision is not None:
                self.console.after_provision()
        except BinderctlError as exc:
            self.post_message(self.PipelineFailed(exc))
            return
        self.post_message(self.Finished(member, summaries[0], outcome))

    @on(Status)
    def _on_status(self, message: Status) -> None:
        self._status(message.text)

    @on(Planned)
    def _planned(self, message: Planned) -> None:
        self._show_plan(message.items)

    @on(Step)
    def _step(self, message: Step) -> None:
        self.show_step(message.event)

    @on(Finished)
    def _on_finished(self, message: Finished) -> None:
        self._finished(message.member, message.summary, message.outcome)

    @on(PipelineFailed)
    def _pipeline_failed(self, message: PipelineFailed) -> None:
        self._status(str(message.error), "bold red")
        self.post_message(Failed(message.error))

    def _member_name(self) -> str:
        return self.query_one(ConfigForm).values["name"].strip()

    def _show_plan(self, items: list[PlanItem]) -> None:
        table = Table(title="Plan (dry run)", title_justify="left", expand=True)
        for header in ("Action", "Resource", "Name", "Detail"):
            table.add_column(header)
        for item in items:
            style = {"create": "green", "change": "yellow"}.get(item.action, "dim")
            table.add_row(
                Text(item.action, style=style),
                item.kind,
                plain(item.name, limit=60),
                plain(item.detail, limit=120),
            )
        self.query_one("#provision-summary", Static).update(table)
        self._status("Plan ready: press Provision to create what it lists.", "green")

    def _finished(self, member: MemberConfig, summary: Summary, outcome: str) -> None:
        self._status(outcome, "bold green")
        self.query_one("#provision-summary", Static).update(summary_renderable(summary))
        self.post_message(Provisioned(member))

    def show_step(self, event: ProgressEvent) -> None:
        self.steps[event.step] = event
        self.query_one("#steps", Static).update(steps_table(self.steps.values()))
        if event.notice:  # the DNS records to create: shown below the steps until the end
            self.query_one("#provision-summary", Static).update(Text(event.notice))


def summary_renderable(summary: Summary) -> Group:
    """The end of a run: where the server is, its DNS records, what next."""
    facts = Table(show_header=False, box=None, padding=(0, 2), pad_edge=False)
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    facts.add_row("Server", f"{summary.server_name} (id {summary.server_id})")
    facts.add_row("IPv4", summary.ipv4 or "-")
    kubeconfig = kubeconfig_path(summary.member)
    facts.add_row("Kubeconfig", str(kubeconfig) if kubeconfig.exists() else "not fetched yet")
    dns = Table(title="DNS records (keep them)", title_justify="left")
    for header in ("Name", "Type", "Value"):
        dns.add_column(header)
    for name, kind, value in summary.dns:
        dns.add_row(name, kind, value)
    steps = Text.assemble(
        ("Next steps\n", "bold"),
        "1. Keep the DNS records above: provisioning checked that they resolve "
        "(unless --skip-dns-wait).\n",
        "2. Press 1 for the dashboard (or run `binderctl status`).\n",
        "3. Once /health is OK, ask for this entry under federationRedirect.hosts "
        "(mybinder.org-deploy config/prod.yaml); press 9 for the federation:",
    )
    parts: list[RenderableType] = [facts, Text(), dns, Text(), steps]
    if summary.federation:
        parts.append(Text(entry_yaml(summary.federation), style="cyan"))
    parts += [Text(f"warning: {w}", style="bold yellow") for w in summary.warnings]
    return Group(*parts)
