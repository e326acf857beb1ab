"""The console: a Textual app over the live model and the action runner.

Screens never call a client library: the app owns the services, starts them in thread
workers, and tells the shown screen what changed (coalesced, at most a few times a
second). Every action goes through ``request_action`` -> the action runner, which refuses
in read-only mode, asks for confirmation through ``confirm`` and writes the audit record.
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, ScreenStackError, SystemCommand
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.federation_config import PRODUCTION_CHECK
from binderctl.models import Attention, Change, History, RotationVerdict
from binderctl.paths import assets_dir, default_config_path
from binderctl.screens import keymap
from binderctl.screens.base import ALL_KINDS, ConsoleScreen
from binderctl.services.startup import Startup, connect
from binderctl.widgets.header import HeaderState, StatusHeader

if TYPE_CHECKING:
    from binderctl.federation_config import CheckSettings
    from binderctl.services.actions import Action, Prepared
    from binderctl.services.cluster import ClusterModel, ClusterState
    from binderctl.services.kube import Kube
    from binderctl.services.logs import LogStream

# At most this often the shown screen redraws for model changes.
REDRAW_SECONDS = 0.25
CLOCK_SECONDS = 1.0
BUDGET_SECONDS = 600.0
CERTIFICATE_SECONDS = 60.0
LOG_TAIL = 1000
# How long a busy thread (a log flood's reader) may hold the GIL while the UI thread
# waits for it; Python's default of 5 ms made key presses wait hundreds of ms.
GIL_SWITCH_SECONDS = 0.0005


def _screen_factory(spec: keymap.ScreenSpec) -> Callable[[], Screen]:
    def make() -> Screen:
        module = importlib.import_module(f"binderctl.screens.{spec.module}")
        return getattr(module, spec.cls)()

    return make


class ModelChanged(Message):
    """Posted (from any thread) when the live model changed; handled coalesced."""


class BinderctlApp(App[int]):
    TITLE = "binderctl"
    CSS_PATH = str(assets_dir() / "binderctl.tcss")
    BINDINGS = keymap.GLOBAL_BINDINGS
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
        self.DEFAULT_MODE = start
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
        self._confirmations: set[Future[bool]] = set()
        # The service layer, imported in one thread once the first frame is drawn; it
        # connects to the member at once unless the console starts on the Provision screen.
        self.startup = Startup(None if start == "provision" else member)
        self.services_ready = self.startup.ready
        self.set_reactive(
            BinderctlApp.header_state, HeaderState(member=member.name, readonly=readonly)
        )
        self.cluster: ClusterModel | None = None
        self.kube: Kube | None = None
        self.log_request: str | None = None  # what the Logs screen follows when it shows
        self.model: ClusterState | None = None  # the latest consistent copy, for screens
        self.cert_expiry: float | None = None
        self.cert_error: str | None = None  # why the client certificate cannot be read
        self.pod_headroom = PRODUCTION_CHECK.pod_headroom  # the config's, once it is read
        self.connect_error: str | None = None  # why there is no live model
        self._frozen = False  # long-lived objects moved out of the collector's reach
        self._switch_interval = sys.getswitchinterval()  # the process's, given back at exit

    # -- lifecycle --------------------------------------------------------------------

    def on_mount(self) -> None:
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        # The first frame (the screen's frame, "connecting" placeholders) goes out before
        # the service layer's imports and the first lists compete with it for the GIL.
        self.call_after_refresh(self.startup.start)
        self.sub_title = self.member.name
        self.set_interval(CLOCK_SECONDS, lambda: self.model_changed({"clock"}))
        self.set_interval(BUDGET_SECONDS, self.refresh_budget)
        self.set_interval(CERTIFICATE_SECONDS, self.refresh_certificate)
        if self.start_mode == "provision":
            self.connect_error = "not provisioned yet: run the pipeline on the Provision screen"
        else:
            self.connect()
            self.refresh_budget()
            self.refresh_rotation()
        self.set_interval(self.check_settings().period, self.refresh_rotation)

    @property
    def history(self) -> History:
        """The plot samples, copied under the model's lock (its poll thread appends)."""
        return History() if self.cluster is None else self.cluster.history_copy()

    def on_unmount(self) -> None:
        for future in list(self._confirmations):
            if not future.done():
                future.set_result(False)
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
        self.call_from_thread(self._update_header, connection="connecting")
        try:
            cluster = self.startup.take_model()
            if cluster is None:
                self.services_ready.wait()
                cluster = connect(self.member, self.services_ready)
        except BinderctlError as exc:
            self.connect_error = str(exc)
            self.call_from_thread(self.report_error, exc)
            self.call_from_thread(self._update_header, connection="disconnected")
            self.model_changed({"connection"})
            return
        self._attach(cluster)
        self.call_from_thread(self._settle, cluster.kube)

    def _attach(self, cluster: ClusterModel) -> None:
        """Show ``cluster``, the live model (from any thread)."""
        self.connect_error = None
        self.kube = cluster.kube
        self.cluster = cluster
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

    def _read_certificate(self, kube: Kube, *, report: bool = False) -> None:
        """The client certificate's expiry, from the kubeconfig file (from a worker)."""
        from binderctl.services.kube import client_cert_expiry

        try:
            self.cert_expiry, self.cert_error = client_cert_expiry(kube.path), None
        except BinderctlError as exc:
            self.cert_error = exc.message
            if report:
                self.call_from_thread(self.report_error, exc)

    @work(thread=True, exclusive=True, group="certificate")
    def refresh_certificate(self) -> None:
        """Read the expiry again: the kubeconfig may have been replaced meanwhile."""
        if self.kube is not None and self.services_ready.is_set():
            self._read_certificate(self.kube)

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
            self.call_from_thread(self._update_header, month_to_date="budget ?")
            return
        spent, cap = summary.month_to_date.rounded().net, summary.cap.rounded().net
        text = f"{summary.currency} {spent} of {cap:.0f} this month"
        self.call_from_thread(self._update_header, month_to_date=text, budget_level=summary.level)

    def check_settings(self) -> CheckSettings:
        """The federation redirector's check settings (the config's, else production's)."""
        from binderctl.config import load_config

        try:
            return load_config(self.config_path).federation.check
        except BinderctlError:
            return PRODUCTION_CHECK

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
        self.call_from_thread(self.observed, verdict)

    def observed(self, verdict: RotationVerdict | None) -> None:
        self._update_header(observed=verdict)
        self.model_changed({"rotation"})  # what needs attention may change with it

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
            self.observed(None)
            self.connect()
            self.refresh_budget()
            self.refresh_rotation()
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
        )
        return judge(state, facts, self.clock())

    def _update_header(self, **fields: Any) -> None:
        self.header_state = replace(self.header_state, **fields)

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

    def action_show(self, name: str) -> None:
        if keymap.screen_spec(name) is None:
            self.notify(f"no screen named {name!r}", severity="warning", markup=False)
            return
        self.switch_mode(name)

    def action_help(self) -> None:
        from binderctl.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_command_line(self) -> None:
        from binderctl.screens.command_line import CommandLineScreen

        self.push_screen(CommandLineScreen(), self.run_command_line)

    def run_command_line(self, text: str | None) -> None:
        from binderctl.screens.command_line import parse_command

        if not text:
            return
        try:
            command = parse_command(text)
        except ValueError as exc:
            self.notify(str(exc), title="Command", severity="warning", markup=False)
            return
        command.run(self)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in keymap.SCREENS:
            yield SystemCommand(
                f"Screen: {spec.title}",
                f"[{spec.key}] {spec.help}",
                lambda name=spec.name: self.action_show(name),
            )
        from binderctl.screens import drills

        yield from drills.system_commands(self)
        if self.readonly:
            return
        for action in keymap.ACTIONS:
            for target in action.targets or (None,):
                title = f"{action.title} {target}" if target else action.title
                yield SystemCommand(
                    f"Action: {title}",
                    f"[{action.key}] {action.help}",
                    lambda name=action.name, target=target: self.request_action(name, target),
                )

    # -- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "act" and self.readonly)

    def action_act(self, name: str) -> None:
        spec = keymap.action_spec(name)
        if spec is None:
            return
        if not spec.targets:
            self.request_action(name, None)
            return
        from binderctl.screens.choose import ChooseScreen

        self.push_screen(
            ChooseScreen(f"{spec.title} which component?", spec.targets),
            lambda target: target and self.request_action(name, target),
        )

    def request_action(self, name: str, target: str | None, **params: Any) -> None:
        """Run an action through the action runner (read-only refusal, confirm, audit)."""
        self._run_actions(name, target, params)

    def _actions(self, name: str, target: str | None, params: dict[str, Any]) -> list[Action]:
        from binderctl.services.actions import Operations

        ops = Operations(self.member, self.kube, check=self.check_settings())
        if name == "kill":
            pods = params.get("pods") or [target]
            return [ops.kill_sessions(name=pod) for pod in pods]
        builders: dict[str, Callable[[], Action]] = {
            "drain": ops.drain,
            "resume": ops.resume,
            "restart": lambda: ops.restart(target or ""),
            "delete-builds": ops.delete_builds,
            "prune": ops.prune_images,
            "reboot": ops.reboot,
            "renew-certs": ops.renew_certs,
        }
        return [builders[name]()]

    @work(thread=True, group="actions")
    def _run_actions(self, name: str, target: str | None, params: dict[str, Any]) -> None:
        self.services_ready.wait()
        from binderctl.services.actions import ActionRunner

        answers: list[bool] = []

        def confirm_once(action: Action, prepared: Prepared) -> bool:
            if not answers:
                answers.append(self.confirm(action, prepared, count))
            return answers[0]

        try:
            actions = self._actions(name, target, params)
            count = len(actions)
            runner = ActionRunner(
                self.member,
                readonly=self.readonly,
                confirm=confirm_once,
                progress=lambda line: self.call_from_thread(
                    self.notify, line, title=name, markup=False
                ),
            )
            outcomes = [runner.run(action) for action in actions]
        except BinderctlError as exc:
            self.call_from_thread(self.report_error, exc)
            return
        self.call_from_thread(self.notify, "; ".join(outcomes), title=name, markup=False)
        if name == "renew-certs":
            self.call_from_thread(self.connect)  # the old client holds the old certificate
        elif self.cluster is not None:
            self.cluster.poll()  # show the quota and cordon now, not at the next poll

    def confirm(self, action: Action, prepared: Prepared, count: int = 1) -> bool:
        """Ask the operator (from a worker thread); False unless they say yes."""
        from binderctl.screens.confirm import ConfirmScreen

        question = f"{action.name} {action.target}?"
        if count > 1:
            question = f"{action.name}: {count} selected, starting with {action.target}?"
        dialog = ConfirmScreen(question, prepared.details, action.blast_radius)
        future: Future[bool] = Future()
        self._confirmations.add(future)
        try:
            self.call_from_thread(self.push_screen, dialog, future.set_result)
            return future.result()
        finally:
            self._confirmations.discard(future)

    def log_stream(self, source: str) -> LogStream:
        """A started, following log stream of a component or pod (from a worker)."""
        from binderctl.services.kube import Kube
        from binderctl.services.logs import LogOptions, LogStream, log_target

        kube = self.kube or Kube(self.member)
        options = LogOptions(follow=True, tail=LOG_TAIL, timestamps=True)
        return LogStream(kube, log_target(source), options).start()

    def show_logs(self, source: str | None) -> None:
        """Switch to the Logs screen, following ``source`` when given."""
        from binderctl.screens.logs import LogsScreen

        if isinstance(self.screen, LogsScreen):
            if source:
                self.screen.follow_source(source)
            return
        self.log_request = source
        self.switch_mode("logs")

    def report_error(self, exc: BinderctlError) -> None:
        severity = "warning" if exc.exit_code == 3 else "error"
        self.notify(str(exc), title="binderctl", severity=severity, markup=False, timeout=8)
