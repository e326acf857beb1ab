"""Follow the logs of a component, a pod or a session."""

from __future__ import annotations

import re
import time
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from binderctl.errors import BinderctlError
from binderctl.formatting import inert
from binderctl.models import COMPONENTS
from binderctl.paths import app_dir, write_private
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.screens.messages import Failed
from binderctl.widgets.log_view import LogView

SOURCES: tuple[str, ...] = (*COMPONENTS, "builds")
DEFAULT_SOURCE = "binder"  # what the screen follows when nothing was asked for
TAKE_SECONDS = 0.25
LOG_TAIL = 1000  # lines of each container's past shown when following starts


def save_path(source: str, now: float) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", source)[:60] or "logs"
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return app_dir("state") / "logs" / f"{safe}-{stamp}.log"


class LogsScreen(ConsoleScreen):
    BINDINGS = list(keymap.LOG_BINDINGS)
    AUTO_FOCUS = "LogView"
    KINDS = frozenset({"connection"})

    def __init__(self) -> None:
        super().__init__()
        self.source: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="log-status", classes="status-line")
        yield Input(placeholder="filter / search (esc clears)", id="filter", classes="filter")
        yield LogView(id="log")

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self._show_status()

    def apply_argument(self, argument: str) -> None:
        self.follow_source(argument)

    def render_model(self) -> None:
        """Once the cluster is reachable, follow the default source if none was picked."""
        if self.source is None and self.console.kube is not None:
            self.follow_source(DEFAULT_SOURCE)

    def follow_source(self, source: str) -> None:
        """Start following ``source`` (a component, ``builds``, or a pod name)."""
        self.source = source
        self.log_view.clear()
        self.log_view.follow = True
        self.log_view.show_pods = False
        self.log_view.pods_when_several = source in SOURCES
        self._show_status()
        self._follow(source)

    @work(thread=True, exclusive=True, group="logs")
    def _follow(self, source: str) -> None:
        self.console.services_ready.wait()
        from binderctl.services.kube import Kube
        from binderctl.services.logs import LogOptions, LogStream, log_target

        worker = get_current_worker()
        view = self.log_view
        options = LogOptions(follow=True, tail=LOG_TAIL, timestamps=True)
        try:
            kube = self.console.kube or Kube(self.console.member)
            with LogStream(kube, log_target(source), options).start() as stream:
                if stream.note:
                    self.notify(stream.note, title="Logs", markup=False)
                while not worker.is_cancelled and not stream.done:
                    lines = stream.take(TAKE_SECONDS)
                    if lines:
                        view.feed(lines)  # the view takes lines from any thread
        except BinderctlError as exc:
            self.post_message(Failed(exc))

    def on_log_view_changed(self) -> None:
        self._show_status()

    def _show_status(self) -> None:
        view = self.query_one(LogView)
        if self.source is None:
            self.query_one("#log-status", Static).update(
                Text.assemble(
                    ("no source yet: press ", "dim"),
                    ("p", "bold cyan"),
                    (" to pick a component or session (or ", "dim"),
                    ("l", "bold cyan"),
                    (" on a session)", "dim"),
                )
            )
            return
        state = ("● following", "green") if view.follow else ("‖ paused (f or end)", "yellow")
        flags = [name for name, on in (("timestamps", view.timestamps), ("wrap", view.wrap)) if on]
        shown = f"{view.shown:,} lines"
        if view.pattern:
            shown = f"{view.shown:,} matching {inert(view.pattern, 40)!r}"
        self.query_one("#log-status", Static).update(
            Text.assemble(
                ("logs ", "bold"),
                (inert(self.source, 80), "bold cyan"),
                "  ",
                state,
                f"  {shown} ({view.received:,} received)",
                (f"  {' '.join(flags)}" if flags else "", "dim"),
            ),
            layout=False,  # one line whatever it says: a flood's counts cost no layout
        )

    # -- keys -------------------------------------------------------------------------

    def action_follow(self) -> None:
        self.log_view.follow = not self.log_view.follow

    def action_timestamps(self) -> None:
        self.log_view.timestamps = not self.log_view.timestamps

    def action_wrap(self) -> None:
        self.log_view.wrap = not self.log_view.wrap

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("shown")
        self.log_view.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.log_view.pattern = event.value

    def on_input_submitted(self) -> None:
        self.log_view.focus()

    def action_pick(self) -> None:
        from binderctl.screens.choose import ChooseScreen

        model = self.console.model
        pods = () if model is None else tuple(sorted(model.sessions))

        def chosen(source: str | None) -> None:
            if source:
                self.follow_source(source)

        self.app.push_screen(
            ChooseScreen("Logs of which component or session?", (*SOURCES, *pods)), chosen
        )

    def action_save(self) -> None:
        if self.source is None:
            self.notify("nothing to save yet", severity="warning")
            return
        self._save(save_path(self.source, time.time()), list(self.log_view.export()))

    @work(thread=True, group="save")
    def _save(self, path: Path, lines: list[str]) -> None:
        try:
            write_private(path, "".join(line + "\n" for line in lines))
        except OSError as exc:
            self.notify(f"cannot save the logs: {exc}", severity="error", markup=False)
            return
        self.notify(f"saved {len(lines):,} lines to {path}", title="Logs", markup=False)
