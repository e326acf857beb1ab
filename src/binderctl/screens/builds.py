"""Image builds; stuck ones are marked and can be deleted."""

from __future__ import annotations

from collections.abc import Iterable

from binderctl.formatting import age, repo_label
from binderctl.models import Build
from binderctl.screens import keymap
from binderctl.screens.table import TableScreen
from binderctl.widgets.live_table import CellValue, Column, Row


def build_row(build: Build, now: float) -> Row:
    state = "STUCK" if build.stuck else ""
    return (
        CellValue(repo_label(build.repo), build.repo),
        CellValue(build.ref, build.ref),
        CellValue(build.phase, build.phase),
        CellValue(age(now - build.started), -build.started),
        CellValue(state, build.stuck, "bold red" if build.stuck else ""),
        CellValue(build.pod, build.pod, "dim"),
    )


class BuildsScreen(TableScreen):
    BINDINGS = list(keymap.selection_bindings("builds"))
    PODS = "builds"
    KINDS = frozenset({"build", "clock", "connection"})
    NOUN = "builds"
    EMPTY = "no image builds running: one starts when a repository is launched without an image"
    COLUMNS = (
        Column("repo", "Repository"),
        Column("ref", "Ref", 12),
        Column("phase", "Phase", 9),
        Column("age", "Age", 6),
        Column("stuck", "Stuck", 5),
        Column("pod", "Pod", 30),
    )
    SORT_BY = "age"

    def table_rows(self) -> Iterable[tuple[str, Row, str]]:
        model = self.console.model
        if model is None:
            return
        now = self.console.clock()
        for pod, build in model.builds.items():
            stuck = "stuck" if build.stuck else ""
            yield (
                pod,
                build_row(build, now),
                f"{pod} {build.repo} {build.ref} {build.phase} {stuck}",
            )

    def open_details(self, key: str) -> None:
        from binderctl.screens.build_detail import BuildDetailScreen

        self.app.push_screen(BuildDetailScreen(key))
