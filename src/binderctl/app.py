"""The console: a Textual app over the live model and the action runner.

Screens never call a client library and never import this module: the app owns the
services, starts them in thread workers, and tells the shown screen what changed
(coalesced, at most a few times a second). Screens read the app through
``screens.console.Console`` and ask for things with the messages of
``screens/messages.py``, which are handled here; the app's own workers report with
messages too. Every action goes through ``RequestAction`` -> ``perform`` -> the action
runner, which refuses in read-only mode, asks for confirmation (``Confirm``) and writes
the audit record.
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import App, ScreenStackError, SystemCommand
from textual.css.query import NoMatches
from textual.markup import escape
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import get_current_worker

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.federation_config import PRODUCTION_CHECK
from binderctl.models import Attention, Change, History
from binderctl.paths import assets_dir, default_config_path
from binderctl.screens import keymap
from binderctl.screens.base import ALL_KINDS, ConsoleScreen
from binderctl.screens.messages import (
    Back,
    Confirm,
    Failed,
    MemberChosen,
    OpenMember,
    PickTarget,
    Provisioned,
    Quit,
    RequestAction,
    RotationObserved,
    ShowHelp,
    ShowScreen,
    StuckAfter,
    ask,
)
from binderctl.screens.typing import Typing
from binderctl.services import catalogue
from binderctl.services.startup import Startup, connect
from binderctl.widgets.header import HeaderState, StatusHeader

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from binderctl.config import Config
    from binderctl.federation_config import CheckSettings
    from binderctl.screens.console import Console
    from binderctl.services.attention import K3sSupport
    from binderctl.services.cluster import ClusterModel, ClusterState
    from binderctl.services.hetzner import ServerFlags
    from binderctl.services.kube import Kube

# At most this often the shown screen redraws for model changes.
REDRAW_SECONDS = 0.25
CLOCK_SECONDS = 1.0
BUDGET_SECONDS = 600.0
CERTIFICATE_SECONDS = 5.0  # a local file read: as often as the model polls
SERVER_SECONDS = 60.0  # Hetzner's abuse flags of the server
# How long a busy thread (a log flood's reader) may hold the GIL while the UI thread
# waits for it; Python's default of 5 ms made key presses wait hundreds of ms.
GIL_SWITCH_SECONDS = 0.0005


def _screen_factory(spec: keymap.ScreenSpec) -> Callable[[], Screen]:
    def make() -> Screen:
        module = importlib.import_module(f"binderctl.screens.{spec.module}")
        return getattr(module, spec.cls)()

    return make


def _palette_help(key: str, text: str) -> str:
    """``[key] text`` as palette markup (where ``[D]`` alone would be read as a tag)."""
    return f"\\[{escape(key)}] {escape(text)}"


class ModelChanged(Message):
    """Posted (from any thread) when the live model changed; handled coalesced."""


@dataclass
class ServerObserved(Message):
    """What the Hetzner API says of the server (a lock, a blocked IPv4), or None."""

    flags: ServerFlags | None


@dataclass
class HeaderChanged(Message):
    """Fields of the header state a worker found (connection, budget)."""

    fields: dict[str, Any]


class BinderctlApp(App[int]):
    TITLE = "binderctl"
    CSS_PATH = str(assets_dir() / "binderctl.tcss")
    BINDINGS = list(keymap.GLOBAL_BINDINGS)
    MODES = {spec.name: _screen_factory(spec) for spec in keymap.SCREENS}

    header_state: reactive[HeaderState] = reactive(HeaderState(member=""), init=False)

    def __init__(
        self,
        member: MemberConfig,
        *,
        readonly: bool = False,
        start: str = "dashboard",
        clock: Callable[[], float] = time.time,
        demo: bool = False,
        config_path: Path | None = None,
        after_provision: Callable[[], None] | None = None,
    ) -> None:
        # The first screen is the start mode's, with no default screen drawn before it.
        self.DEFAULT_MODE = start  # type: ignore[misc]  # per instance: App.__init__ reads it
        super().__init__()
        self.member = member
        self.config_path = config_path or default_config_path()
        self.readonly = readonly
        self.demo = demo
        # Called from the pipeline's worker once it succeeded (the demo seeds sessions).
        self.after_provision = after_provision
        self.clock = clock
        self.start_mode = start
        self._dirty: set[str] = set()
        self._dirty_lock = threading.Lock()
        self._posted = False
        self._last_redraw = 0.0
        # The service layer, imported in one thread once the first frame is drawn; it
        # connects to the member at once unless the console starts on the Provision screen.
        self.startup = Startup(None if start == "provision" else member)
        self.services_ready = self.startup.ready
        self.set_reactive(
            BinderctlApp.header_state, HeaderState(member=member.name, readonly=readonly)
        )
        self.cluster: ClusterModel | None = None
        self.kube: Kube | None = None
        # A screen's `:` argument (a filter, a log source) until that screen shows.
        self._argument: tuple[str, str] | None = None
        self._previous_mode: str | None = None  # where Back goes
        self.stuck_after: float | None = None  # `:builds --stuck-after`, kept across models
        self.model: ClusterState | None = None  # the latest consistent copy, for screens
        self.cert_expiry: float | None = None
        self.cert_error: str | None = None  # why the client certificate cannot be read
        self.pod_headroom = PRODUCTION_CHECK.pod_headroom  # the config's, once it is read
        self.k3s_support: K3sSupport | None = None  # k3s's channels, as last read
        self.server_flags: ServerFlags | None = None  # Hetzner's, once it is asked
        self.connect_error: str | None = None  # why there is no live model
        self._frozen = False  # long-lived objects moved out of the collector's reach
        self.typing = Typing(self._typing_notice, self.set_timer)
        self._switch_interval = sys.getswitchinterval()  # the process's, given back at exit

    # -- lifecycle --------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.typing.pressed(event.time)  # before any binding: typed text is no command
        await super().on_event(event)

    def _typing_notice(self, text: str) -> None:
        self.notify(text, title="Typing", severity="warning", markup=False)

    def on_mount(self) -> None:
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        # The first frame (the screen's frame, "connecting" placeholders) goes out before
        # the service layer's imports and the first lists compete with it for the GIL.
        self.call_after_refresh(self.startup.start)
        self.sub_title = self.member.name
        self.set_interval(CLOCK_SECONDS, lambda: self.model_changed({"clock"}))
        self.set_interval(BUDGET_SECONDS, self.refresh_budget)
        self.set_interval(CERTIFICATE_SECONDS, self.refresh_certificate)
        self.set_interval(CERTIFICATE_SECONDS, self.refresh_k3s_support)
        if self.start_mode == "provision":
            self.connect_error = "not provisioned yet: run the pipeline on the Provision screen"
        else:
            self.connect()
            self.refresh_budget()
            self.refresh_rotation()
            self.refresh_server()
        self.set_interval(self.check_settings().period, self.refresh_rotation)
        self.set_interval(SERVER_SECONDS, self.refresh_server)

    @property
    def history(self) -> History:
        """The plot samples, copied under the model's lock (its poll thread appends)."""
        return History() if self.cluster is None else self.cluster.history_copy()

    def on_unmount(self) -> None:
        self.startup.close()
        if self.cluster is not None:
            self.cluster.stop()
        sys.setswitchinterval(self._switch_interval)

    @work(thread=True, exclusive=True, group="model")
    def connect(self) -> None:
        """Start the live model (watches and polls in its own threads): the first time
        the one the start made, later a new one."""
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None
        self.post_message(HeaderChanged({"connection": "connecting"}))
        try:
            cluster = self.startup.take_model()
            if cluster is None:
                self.services_ready.wait()
                cluster = connect(self.member, self.services_ready)
        except BinderctlError as exc:
            self.connect_error = str(exc)
            self.post_message(Failed(exc))
            self.post_message(HeaderChanged({"connection": "disconnected"}))
            self.model_changed({"connection"})
            return
        self._attach_cluster(cluster)
        self.call_later(self._settle, cluster.kube)  # a worker is started on the UI thread

    def _attach_cluster(self, cluster: ClusterModel) -> None:
        """Show ``cluster``, the live model (from any thread)."""
        self.connect_error = None
        self.kube = cluster.kube
        self.cluster = cluster
        if self.stuck_after is not None:
            cluster.set_stuck_after(self.stuck_after)
        cluster.subscribe(lambda changes: self._on_changes(cluster, changes))
        if cluster.listed:  # it listed before it had this subscriber: draw what it holds
            self.model = cluster.state()
            self.model_changed(ALL_KINDS)

    @work(thread=True, group="settle")
    def _settle(self, kube: Kube) -> None:
        """Once the whole service layer is in: freeze what it added (see ``_redraw``) and
        read the client certificate's expiry (cryptography is in by then)."""
        self.services_ready.wait()
        gc.freeze()
        self._read_certificate(kube, report=True)
        self.refresh_k3s_support()

    def _read_certificate(self, kube: Kube, *, report: bool = False) -> None:
        """The client certificate's expiry, from the kubeconfig file (from a worker)."""
        from binderctl.services.kube import client_cert_expiry

        try:
            self.cert_expiry, self.cert_error = client_cert_expiry(kube.path), None
        except BinderctlError as exc:
            self.cert_error = exc.message
            if report:
                self.post_message(Failed(exc))

    @work(thread=True, exclusive=True, group="certificate")
    def refresh_certificate(self) -> None:
        """Read the expiry again: the kubeconfig may have been replaced meanwhile."""
        if self.kube is not None and self.services_ready.is_set():
            self._read_certificate(self.kube)

    @work(thread=True, exclusive=True, group="k3s-support")
    def refresh_k3s_support(self) -> None:
        """What the last read of k3s's channels says (a file; the upgrades read them)."""
        self.services_ready.wait()
        from binderctl.services.k3s_releases import known_support

        config = self.config()
        if config is not None:
            upgrades = config.upgrades
            self.k3s_support = known_support(upgrades.channel_url, upgrades.channel)

    @work(thread=True, exclusive=True, group="budget")
    def refresh_budget(self) -> None:
        """The month-to-date figure for the header (the Budget screen says why it fails)."""
        self.services_ready.wait()
        from datetime import datetime

        from binderctl.services.budget_report import month_to_date_summary

        now = datetime.fromtimestamp(self.clock()).astimezone()
        try:
            summary = month_to_date_summary(self.member, now)
        except BinderctlError:
            self.post_message(HeaderChanged({"month_to_date": "budget ?"}))
            return
        spent, cap = summary.month_to_date.rounded().net, summary.cap.rounded().net
        text = f"{summary.currency} {spent} of {cap:.0f} this month"
        self.post_message(HeaderChanged({"month_to_date": text, "budget_level": summary.level}))

    def config(self) -> Config | None:
        """The config file (None when there is none, or it cannot be read)."""
        from binderctl.config import load_config

        try:
            return load_config(self.config_path)
        except BinderctlError:
            return None

    def check_settings(self) -> CheckSettings:
        """The federation redirector's check settings (the config's, else production's)."""
        config = self.config()
        return PRODUCTION_CHECK if config is None else config.federation.check

    @work(thread=True, exclusive=True, group="rotation")
    def refresh_rotation(self) -> None:
        """The member as the federation redirector's rules judge it, for the header."""
        self.services_ready.wait()
        from binderctl.config import load_config
        from binderctl.services.federation import member_verdict

        try:
            config = load_config(self.config_path)
            verdict = member_verdict(config, self.member).verdict
        except BinderctlError:
            return  # no config file (yet): the header keeps what binderctl asked for
        self.pod_headroom = config.federation.check.pod_headroom
        self.post_message(RotationObserved(verdict))

    @work(thread=True, exclusive=True, group="server")
    def refresh_server(self) -> None:
        """Whether Hetzner has locked the server or blocked its IPv4 (for the header)."""
        self.services_ready.wait()
        from binderctl.services.hetzner import member_server_flags

        self.post_message(ServerObserved(member_server_flags(self.member)))

    def open_member(self, name: str) -> None:
        """Switch the console to the configured member ``name`` (the Federation screen)."""
        from binderctl.config import load_config

        try:
            member = load_config(self.config_path).member(name)
        except BinderctlError as exc:
            self.report_error(exc)
            return
        if member.name != self.member.name:
            self.set_member(member)
            self._update_header(observed=None)
            self.connect()
            self.refresh_budget()
            self.refresh_rotation()
            self.refresh_server()
        self.switch_mode("dashboard")

    def set_member(self, member: MemberConfig) -> None:
        """The Provision screen saved or provisioned ``member``: the console is about it now."""
        self.member = member
        self._update_header(member=member.name)

    def provisioned(self, member: MemberConfig) -> None:
        """The pipeline finished for ``member``: watch it live (the demo lands there)."""
        self.set_member(member)
        self.connect()
        self.refresh_budget()
        if self.demo:
            self.switch_mode("dashboard")

    def _on_changes(self, cluster: ClusterModel, changes: list[Change]) -> None:
        """From the model's dispatcher thread: take a consistent copy, then redraw."""
        if cluster is not self.cluster:  # replaced by a reconnect
            return
        self.model = cluster.state()
        self.model_changed({change.kind for change in changes})

    # -- live model -> screens ----------------------------------------------------------

    def model_changed(self, kinds: Iterable[str]) -> None:
        """Note that ``kinds`` of data changed; safe to call from any thread."""
        with self._dirty_lock:
            self._dirty.update(kinds)
            if self._posted:
                return
            self._posted = True
        self.post_message(ModelChanged())

    def on_model_changed(self, _: ModelChanged) -> None:
        wait = self._last_redraw + REDRAW_SECONDS - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self._redraw)
        else:
            self._redraw()

    def _redraw(self) -> None:
        with self._dirty_lock:
            kinds = frozenset(self._dirty)
            self._dirty.clear()
            self._posted = False
        if not kinds:
            return
        state = self.model
        if state is not None and state.connection == "connected":
            # Until the watches have listed, each part is drawn as soon as it arrives.
            self._last_redraw = time.monotonic()
        if state is not None:
            self._update_header(
                connection=state.connection,
                rotation=state.rotation,
                health_ok=None if state.health is None else state.health.ok,
                sessions=state.sessions_running,
                attention=self.attention(state),
            )
        screen = self._shown_screen()
        if isinstance(screen, ConsoleScreen):
            try:
                screen.model_changed(kinds)
            except NoMatches:  # the screen is being taken down (the app is exiting)
                return
        if state is not None and state.connection == "connected" and not self._frozen:
            # Once the first whole model is drawn, what exists now (the modules, the
            # model, the tables built from it) lives as long as the app: keep the cyclic
            # garbage collector from scanning it again, which with 1,000 sessions would
            # stall the UI for 100-300 ms every few seconds.
            self._frozen = True
            gc.freeze()
            self.startup.drawn()  # the rest of the service layer loads now

    def attention(self, state: ClusterState) -> tuple[Attention, ...]:
        """What needs attention, judged as `binderctl status` judges it."""
        from binderctl.services.attention import Facts, judge, world_open_ports

        facts = Facts(
            cert_expiry=self.cert_expiry,
            cert_error=self.cert_error,
            open_ports=world_open_ports(self.member),
            observed=self.header_state.observed,
            pod_headroom=self.pod_headroom,
            k3s=self.k3s_support,
            server=self.server_flags,
        )
        return judge(state, facts, self.clock())

    def _update_header(self, **fields: Any) -> None:
        self.header_state = replace(self.header_state, **fields)

    # -- what screens and workers ask for (messages) -----------------------------------

    @on(HeaderChanged)
    def _header_changed(self, message: HeaderChanged) -> None:
        self._update_header(**message.fields)

    @on(ShowScreen)
    def _show_screen(self, message: ShowScreen) -> None:
        self.action_show(message.name, message.argument)

    @on(StuckAfter)
    def _stuck_after(self, message: StuckAfter) -> None:
        self.stuck_after = message.seconds
        if self.cluster is not None:
            self.cluster.set_stuck_after(message.seconds)

    @on(Back)
    def _back(self) -> None:
        previous = self._previous_mode
        self.action_show(previous if previous and previous != self.current_mode else "dashboard")

    @on(RequestAction)
    def _request_action(self, message: RequestAction) -> None:
        self.perform(message.request)

    @on(PickTarget)
    def _pick_target(self, message: PickTarget) -> None:
        self.choose_and_perform(message.action)

    @on(ShowHelp)
    def _show_help(self) -> None:
        self.action_help()

    @on(Quit)
    def _quit(self) -> None:
        self.exit(0)

    def action_ask_quit(self) -> None:
        """`q`: ask first (a stray q in typed text must not close the console)."""
        from binderctl.screens.confirm import ConfirmScreen

        def ask() -> None:
            dialog = ConfirmScreen("Quit binderctl?", "ctrl+q quits without asking", "")
            self.push_screen(dialog, lambda yes: self.exit(0) if yes else None)

        self.typing.hold("q", ask)

    @on(Confirm)
    def _confirm(self, message: Confirm) -> None:
        """Ask the operator; the worker that posted it waits for the answer."""
        from binderctl.screens.confirm import ConfirmScreen

        action, prepared = message.action, message.prepared
        dialog = ConfirmScreen(
            f"{action.name} {action.target}?",
            prepared.details,
            action.blast_radius,
            prepared.warnings,
        )
        self.push_screen(dialog, lambda yes: message.answer.set_result(bool(yes)))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.report_error(message.error)

    @on(RotationObserved)
    def _rotation_observed(self, message: RotationObserved) -> None:
        self._update_header(observed=message.verdict)
        self.model_changed({"rotation"})  # what needs attention may change with it

    @on(ServerObserved)
    def _server_observed(self, message: ServerObserved) -> None:
        self.server_flags = message.flags
        self.model_changed({"rotation"})  # what needs attention may change with it

    @on(OpenMember)
    def _open_member(self, message: OpenMember) -> None:
        self.open_member(message.name)

    @on(MemberChosen)
    def _member_chosen(self, message: MemberChosen) -> None:
        self.set_member(message.member)

    @on(Provisioned)
    def _provisioned(self, message: Provisioned) -> None:
        self.provisioned(message.member)

    def _shown_screen(self) -> Screen | None:
        try:
            return self.screen
        except ScreenStackError:  # a worker finished while the app was exiting
            return None

    def watch_header_state(self, state: HeaderState) -> None:
        screen = self._shown_screen()
        if screen is not None:
            for header in screen.query(StatusHeader):
                header.state = state

    # -- navigation ---------------------------------------------------------------------

    def action_go(self, name: str) -> None:
        """A screen's key: pressed amid typed keys it is a letter of a word, not a way
        to another screen (``screens/typing.py``)."""
        spec = keymap.screen_spec(name)
        if not self.typing.amid(spec.key if spec is not None else name):
            self.action_show(name)

    def action_show(self, name: str, argument: str | None = None) -> None:
        """Show the screen ``name``, giving it ``argument`` (`:sessions norvig`)."""
        if keymap.screen_spec(name) is None:
            self.notify(f"no screen named {name!r}", severity="warning", markup=False)
            return
        screen = self._shown_screen()
        if self.current_mode == name and isinstance(screen, ConsoleScreen):
            if argument:
                screen.apply_argument(argument)
            return
        self._argument = (name, argument) if argument else None
        self._previous_mode = self.current_mode
        self.switch_mode(name)

    def take_argument(self, screen: Screen) -> str | None:
        """The argument ``screen`` was asked to show with (once)."""
        if self._argument is None:
            return None
        name, argument = self._argument
        spec = keymap.screen_spec(name)
        if spec is None or type(screen).__name__ != spec.cls:
            return None
        self._argument = None
        return argument

    def action_help(self) -> None:
        from binderctl.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_command_line(self) -> None:
        from binderctl.screens.command_line import CommandLineScreen

        self.push_screen(CommandLineScreen(), self._command)

    def _command(self, command: Message | None) -> None:
        """What the `:` line asked for: the message its key or screen would post."""
        if command is not None:
            self.post_message(command)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in keymap.SCREENS:
            yield SystemCommand(
                f"Screen: {spec.title}",
                _palette_help(spec.key or f":{spec.name}", spec.help),
                lambda name=spec.name: self.action_show(name),
            )
        from binderctl.screens import drills

        yield from drills.system_commands(self)
        if self.readonly:
            return
        for action in catalogue.ACTIONS:
            if action.selection:
                continue  # it acts on a screen's rows
            for target in action.choices or (None,):
                title = f"{action.title} {target}" if target else action.title
                yield SystemCommand(
                    f"Action: {title}",
                    _palette_help(catalogue.hint(action.name, target), action.help),
                    lambda name=action.name, target=target: self.perform(
                        catalogue.request(name, [target] if target else [])
                    ),
                )

    # -- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "act":
            return not self.readonly
        if action == "refused":
            return self.readonly
        return True

    def action_act(self, name: str) -> None:
        """An action's key: only when pressed on its own (``screens/typing.py``)."""
        self.typing.hold(catalogue.spec(name).key, lambda: self.choose_and_perform(name))

    def choose_and_perform(self, name: str) -> None:
        """Ask which target when the action has several, then run it."""
        action = catalogue.spec(name)
        if not action.choices:
            self.perform(catalogue.request(name))
            return
        from binderctl.screens.choose import ChooseScreen

        def chosen(target: str | None) -> None:
            if target:
                self.perform(catalogue.request(name, [target]))

        title = f"{action.title} which component?"
        self.push_screen(ChooseScreen(title, action.choices, deliberate=True), chosen)

    def action_refused(self, name: str) -> None:
        """An action's key in read-only mode: say so instead of doing nothing."""
        action = catalogue.spec(name)
        self.notify(
            f"read-only mode: {action.title.lower()} ({action.key}) is refused; read-only "
            "comes from --readonly or `readonly = true` in the config",
            title=name,
            severity="warning",
            markup=False,
        )

    @work(thread=True, group="actions")
    def perform(self, request: catalogue.Request) -> None:
        """Run an action through the action runner (read-only refusal, confirm, audit)."""
        self.services_ready.wait()
        from binderctl.services.actions import ActionRunner, Operations

        name = request.action
        try:
            config = self.config()
            # the worker is cancelled when the console closes: waits for a rollout end then
            stop = get_current_worker().cancelled_event
            ops = Operations(self.member, self.kube, stop=stop)
            if config is not None:
                ops.check, ops.federation = config.federation.check, config.federation
                ops.upgrades = config.upgrades
            action = catalogue.build(ops, request)
            runner = ActionRunner(
                self.member,
                readonly=self.readonly,
                confirm=lambda action, prepared: ask(self, action, prepared),
                progress=lambda line: self.notify(line, title=name, markup=False),
            )
            outcome = runner.run(action)
        except BinderctlError as exc:
            self.post_message(Failed(exc))
            return
        spec, cluster = catalogue.spec(name), self.cluster
        if spec.reconnects:
            self.call_later(self.connect)  # the old client holds the old certificate
        elif cluster is not None:
            # What the action changed is shown with its outcome, not at the next poll.
            cluster.poll()  # the quota, the cordon
            if spec.changes_disk:
                cluster.refresh_disk()  # the gauge, as `status --disk` reads it: df
        self.notify(outcome, title=name, markup=False)

    def report_error(self, exc: BinderctlError) -> None:
        severity: SeverityLevel = "warning" if exc.exit_code == 3 else "error"
        self.notify(str(exc), title="binderctl", severity=severity, markup=False, timeout=8)


if TYPE_CHECKING:

    def _is_a_console(app: BinderctlApp) -> Console:
        return app  # a type checker proves that the app offers what screens read
