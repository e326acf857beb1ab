"""Image builds, and why one looks hung: its phase, how long it has run, how long it
has been silent (the time of its last log line) and that line; stuck ones (running
longer than the threshold, `:builds --stuck-after 10m`) are marked and can be deleted."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from binderctl.formatting import age, inert, repo_label
from binderctl.models import Build
from binderctl.parsing import parse_duration
from binderctl.screens import keymap
from binderctl.screens.messages import StuckAfter
from binderctl.screens.table import TableScreen
from binderctl.services.catalogue import STUCK_AFTER
from binderctl.widgets.live_table import CellValue, Column, Row

QUIET_WARNING = 300.0  # a build that has logged nothing for this long may be hung


def quiet(build: Build, now: float) -> float | None:
    """How long a running build has logged nothing (None: not known, or not running)."""
    if build.phase != "Running" or build.last_log_time is None:
        return None
    return max(0.0, now - build.last_log_time)


def quiet_style(seconds: float | None, stuck_after: float) -> str:
    if seconds is None:
        return "dim"
    if seconds >= stuck_after:
        return "bold red"
    return "yellow" if seconds >= QUIET_WARNING else ""


def build_row(build: Build, now: float, stuck_after: float) -> Row:
    state = "STUCK" if build.stuck else ""
    silent = quiet(build, now)
    silence = -1.0 if silent is None else silent
    return (
        CellValue(repo_label(build.repo), build.repo),
        CellValue(build.ref, build.ref),
        CellValue(build.phase, build.phase),
        CellValue(age(now - build.started), -build.started),
        CellValue(age(silent), silence, quiet_style(silent, stuck_after)),
        CellValue(state, build.stuck, "bold red" if build.stuck else ""),
        CellValue(build.pod, build.pod, "dim"),
    )


def last_log_text(build: Build, now: float) -> Text:
    """The build's last log line and how long ago it came."""
    if build.last_log is None or build.last_log_time is None:
        return Text(f"{inert(build.pod, 100)}: no log line read yet", style="dim")
    silent = quiet(build, now)
    when = f"last log line {age(now - build.last_log_time)} ago: "
    return Text.assemble(
        (when, quiet_style(silent, float("inf")) or "dim"),
        inert(build.last_log, 300),
        no_wrap=True,
        overflow="ellipsis",
    )


def parse_argument(argument: str) -> tuple[str, float | None]:
    """`:builds [--stuck-after D] [FILTER]` -> (filter, threshold or None); ValueError
    says what is wrong. D is read as the CLI's ``--stuck-after`` reads it."""
    words = argument.split()
    flag = STUCK_AFTER.name
    threshold = None
    rest = []
    index = 0
    while index < len(words):
        word = words[index]
        if word == flag or word.startswith(flag + "="):
            value = word.partition("=")[2] if "=" in word else None
            if value is None:
                index += 1
                if index == len(words):
                    raise ValueError(f"{flag} needs a duration, like :builds {flag} 10m")
                value = words[index]
            seconds = parse_duration(value)
            if seconds <= 0:
                raise ValueError(f"{flag} must be longer than 0s")
            threshold = float(seconds)
        else:
            rest.append(word)
        index += 1
    return " ".join(rest), threshold


class BuildsScreen(TableScreen):
    BINDINGS = list(keymap.selection_bindings("builds"))
    PODS = "builds"
    KINDS = frozenset({"build", "clock", "connection"})
    NOUN = "builds"
    EMPTY = "no image builds running: one starts when a repository is launched without an image"
    COLUMNS = (
        Column("repo", "Repository", middle=True),
        Column("ref", "Ref", 12),
        Column("phase", "Phase", 9),
        Column("age", "Age", 6),
        Column("quiet", "Quiet", 6),
        Column("stuck", "Stuck", 5),
        Column("pod", "Pod", middle=True),
    )
    SORT_BY = "age"

    def compose_body(self) -> ComposeResult:
        yield from super().compose_body()
        yield Static(id="last-log", classes="status-line", markup=False)

    def table_rows(self) -> Iterable[tuple[str, Row, str]]:
        model = self.console.model
        if model is None:
            return
        now = self.console.clock()
        for key, build in model.builds.items():
            stuck = "stuck" if build.stuck else ""
            yield (
                key,
                build_row(build, now, model.stuck_after),
                f"{build.pod} {build.repo} {build.ref} {build.phase} {stuck}",
            )

    def render_model(self) -> None:
        super().render_model()
        self._show_last_log()

    def status_parts(self) -> list[str]:
        model = self.console.model
        if model is None:
            return []
        stuck = sum(1 for b in model.builds.values() if b.stuck)
        threshold = f"stuck: running > {age(model.stuck_after)} ({STUCK_AFTER.name} D changes it)"
        return [f"{stuck} {threshold}"]

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_last_log()

    def _show_last_log(self) -> None:
        model = self.console.model
        key = self.table.current_key
        build = None if model is None or key is None else model.builds.get(key)
        line = self.query_one("#last-log", Static)
        line.display = build is not None
        if build is not None:
            line.update(last_log_text(build, self.console.clock()))

    def apply_argument(self, argument: str) -> None:
        try:
            text, threshold = parse_argument(argument)
        except ValueError as exc:
            self.notify(str(exc), title=":builds", severity="warning", markup=False)
            return
        if threshold is not None:
            self.post_message(StuckAfter(threshold))
            self.notify(f"builds running longer than {age(threshold)} count as stuck now")
        super().apply_argument(text)

    def open_details(self, key: str) -> None:
        from binderctl.screens.build_detail import BuildDetailScreen

        self.app.push_screen(BuildDetailScreen(key))
