"""One build in full: what it builds, how long it has run, and its last log line with
how long ago it came (a hung build has fallen silent)."""

from __future__ import annotations

from rich.table import Table

from binderctl.formatting import age, moment
from binderctl.models import Build
from binderctl.screens import keymap
from binderctl.screens.builds import QUIET_WARNING, quiet
from binderctl.screens.detail import DetailScreen, fields


def build_table(build: Build, now: float, stuck_after: float) -> Table:
    silent = quiet(build, now)
    if build.last_log_time is None:
        last = "none read yet"
    else:
        last = f"{moment(build.last_log_time, now)}: {build.last_log or ''}"
    if build.stuck:
        verdict = f"STUCK: running for more than {age(stuck_after)}"
    elif silent is not None and silent >= QUIET_WARNING:
        verdict = f"silent for {age(silent)}: it may be hung"
    else:
        verdict = "working"
    return fields(
        [
            ("Pod", build.pod),
            ("Namespace", build.namespace),
            ("Repository", build.repo),
            ("Ref", build.ref),
            ("Phase", build.phase),
            ("Started", moment(build.started, now)),
            ("Last log line", last),
            ("Looks", verdict),
        ]
    )


class BuildDetailScreen(DetailScreen):
    KINDS = frozenset({"build", "clock"})
    BINDINGS = list(keymap.selection_bindings("builds"))
    NOUN = "Build"
    ENDED = "This build has ended (or the model is not connected yet)."

    def describe(self) -> Table | None:
        model = self.console.model
        build = None if model is None else model.builds.get(self.key)
        if model is None or build is None:
            return None
        return build_table(build, self.console.clock(), model.stuck_after)

    def action_logs(self) -> None:
        self.show_logs(self.key)

    def selected_targets(self) -> list[str]:
        return [self.key.rsplit("/", 1)[-1]]
