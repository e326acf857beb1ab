"""Follow the logs of a component, a pod or a session, or read a container's previous
instance (`:logs hub --previous`, the API's ``previous=true``)."""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from binderctl.errors import BinderctlError
from binderctl.formatting import inert
from binderctl.models import COMPONENTS
from binderctl.paths import app_dir, write_private
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.screens.messages import Back
from binderctl.widgets.log_view import LogView

SOURCES: tuple[str, ...] = (*COMPONENTS, "builds")
DEFAULT_SOURCE = "binder"  # what the screen follows when nothing was asked for
TAKE_SECONDS = 0.25
LOG_TAIL = 1000  # lines of each container's past shown when following starts
PREVIOUS = "--previous"


@dataclass(frozen=True)
class Source:
    """What the Logs screen shows: ``name`` (a component, ``builds`` or a pod) followed,
    or with ``previous`` the ended instance of its containers, read once."""

    name: str
    previous: bool = False

    @classmethod
    def parse(cls, text: str) -> Source:
        """`hub`, `jupyter-x --previous`; ValueError says what is allowed."""
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise ValueError(f"cannot read the log source: {exc}") from None
        previous = PREVIOUS in words or "-p" in words
        names = [w for w in words if w not in (PREVIOUS, "-p")]
        if len(names) != 1 or names[0].startswith("-"):
            raise ValueError(
                "logs takes one source and maybe --previous, like :logs hub or "
                ":logs jupyter-x --previous"
            )
        return cls(names[0], previous)

    def __str__(self) -> str:
        return f"{self.name} {PREVIOUS}" if self.previous else self.name


def save_path(source: str, now: float) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", source)[:60] or "logs"
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return app_dir("state") / "logs" / f"{safe}-{stamp}.log"


class LogsScreen(ConsoleScreen):
    DEFAULT_CSS = """
    LogsScreen #log-note {
        dock: top;
        offset: 2 3;
        width: auto;
        max-width: 90%;
        height: auto;
        padding: 0 1;
        background: $surface;
    }
    """
    BINDINGS = list(keymap.LOG_BINDINGS)
    AUTO_FOCUS = "LogView"
    KINDS = frozenset({"connection"})

    @dataclass
    class Ended(Message):
        """The reading of one source (its view's ``generation``) ended: read to its
        end, or ``error`` (the pod is gone, no previous instance, ...)."""

        generation: int
        error: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.source: Source | None = None
        self.ended: str | None = None  # why the current source's lines stopped, if they did

    def compose_body(self) -> ComposeResult:
        yield Static(id="log-status", classes="status-line")
        yield Input(placeholder="filter / search (esc clears)", id="filter", classes="filter")
        yield LogView(id="log")
        yield Static(id="log-note", markup=False)  # why there are no lines

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self._show_status()

    def apply_argument(self, argument: str) -> None:
        try:
            source = Source.parse(argument)
        except ValueError as exc:
            self.notify(str(exc), title="Logs", severity="warning", markup=False)
            return
        self.follow_source(source)

    def render_model(self) -> None:
        """Once the cluster is reachable, follow the default source if none was picked."""
        if self.source is None and self.console.kube is not None:
            self.follow_source(Source(DEFAULT_SOURCE))

    def follow_source(self, source: Source) -> None:
        """Start reading ``source``: what was shown and counted before is cleared."""
        self.source = source
        self.ended = None
        view = self.log_view
        view.clear()
        view.follow = True
        view.show_pods = False
        view.pods_when_several = source.name in SOURCES
        self._show_status()
        self._read(source, view.generation)

    @work(thread=True, exclusive=True, group="logs")
    def _read(self, source: Source, generation: int) -> None:
        self.console.services_ready.wait()
        from binderctl.services.kube import Kube
        from binderctl.services.logs import LogOptions, LogStream, log_target

        worker = get_current_worker()
        view = self.log_view
        options = LogOptions(
            follow=not source.previous,
            tail=LOG_TAIL,
            timestamps=True,
            previous=source.previous,
        )
        try:
            kube = self.console.kube or Kube(self.console.member)
            with LogStream(kube, log_target(source.name), options).start() as stream:
                if stream.note:
                    self.notify(stream.note, title="Logs", markup=False)
                while not worker.is_cancelled and not stream.done:
                    lines = stream.take(TAKE_SECONDS)
                    if lines:
                        view.feed(lines, generation)  # from any thread; stale ones dropped
                errors = list(stream.errors)
                if stream.target_gone:
                    errors.append(f"pod {source.name} was deleted: nothing more will come")
        except BinderctlError as exc:
            self.post_message(self.Ended(generation, exc.message))
            return
        if not worker.is_cancelled:
            self.post_message(self.Ended(generation, "; ".join(errors) or None))

    @on(Ended)
    def _ended(self, message: Ended) -> None:
        if message.generation == self.log_view.generation:
            self.ended = message.error or "read to the end"
            self._show_status()

    def on_log_view_changed(self) -> None:
        self._show_status()

    def _show_status(self) -> None:
        view = self.query_one(LogView)
        status = self.query_one("#log-status", Static)
        note = self.query_one("#log-note", Static)
        note.display = self.source is not None and self.ended is not None and not view.received
        if self.source is None:
            status.update(
                Text.assemble(
                    ("no source yet: press ", "dim"),
                    ("p", "bold cyan"),
                    (" to pick a component or session (or ", "dim"),
                    ("l", "bold cyan"),
                    (" on a session)", "dim"),
                )
            )
            return
        what = (inert(self.source.name, 80), "bold cyan")
        previous = ("  previous instance", "bold") if self.source.previous else ""
        if note.display:
            note.update(Text(inert(self.ended or "", 600), style="bold red"))
            failed = ("✘ no lines: why below", "bold red")
            status.update(Text.assemble(("logs ", "bold"), what, previous, "  ", failed))
            return
        if self.ended is not None:
            state = (f"■ ended: {inert(self.ended, 120)}", "dim")
        elif view.follow:
            state = ("● following", "green")
        else:
            state = ("‖ paused (f or end)", "yellow")
        flags = [name for name, on in (("timestamps", view.timestamps), ("wrap", view.wrap)) if on]
        shown = f"{view.shown:,} lines"
        if view.pattern:
            shown = f"{view.shown:,} matching {inert(view.pattern, 40)!r}"
        status.update(
            Text.assemble(
                ("logs ", "bold"),
                what,
                previous,
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

    def action_clear_or_back(self) -> None:
        """Esc: clear the filter if there is one, else back to where the logs were asked."""
        box = self.query_one("#filter", Input)
        if box.value or box.has_class("shown"):
            box.value = ""
            box.remove_class("shown")
            self.log_view.focus()
        else:
            self.post_message(Back())

    def on_input_changed(self, event: Input.Changed) -> None:
        self.log_view.pattern = event.value

    def on_input_submitted(self) -> None:
        self.log_view.focus()

    def action_pick(self) -> None:
        from binderctl.screens.choose import ChooseScreen

        model = self.console.model
        pods = () if model is None else tuple(sorted(model.sessions))

        def chosen(name: str | None) -> None:
            if name:
                self.follow_source(Source(name))

        self.app.push_screen(
            ChooseScreen("Logs of which component or session?", (*SOURCES, *pods)), chosen
        )

    def action_save(self) -> None:
        if self.source is None:
            self.notify("nothing to save yet", severity="warning")
            return
        self._save(save_path(str(self.source), time.time()), list(self.log_view.export()))

    @work(thread=True, group="save")
    def _save(self, path: Path, lines: list[str]) -> None:
        try:
            write_private(path, "".join(line + "\n" for line in lines))
        except OSError as exc:
            self.notify(f"cannot save the logs: {exc}", severity="error", markup=False)
            return
        self.notify(f"saved {len(lines):,} lines to {path}", title="Logs", markup=False)
