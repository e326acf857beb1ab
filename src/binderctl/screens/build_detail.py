"""One image build in full (Enter on Builds): repository, ref, phase, how long it has
run, and its last log line with its age (a hung build has written nothing for long)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from binderctl.formatting import age, inert, moment, repo_label
from binderctl.models import Build
from binderctl.screens import keymap
from binderctl.screens.base import ConsoleScreen
from binderctl.widgets.cells import fields_table, plain

LAST_LINE_SECONDS = 5.0  # how often the last log line is read again


@dataclass(frozen=True)
class LastLine:
    text: str  # its message
    time: float | None


def build_fields(
    build: Build, last: LastLine | None, read: bool, now: float
) -> list[tuple[str, Text]]:
    phase = Text(build.phase, style="bold red" if build.stuck else "")
    if build.stuck:
        phase.append(f"  stuck: running for {age(now - build.started)}", style="bold red")
    if last is None:
        line = Text("reading…" if not read else "no log line yet", style="dim")
    else:
        said = "" if last.time is None else f"{age(now - last.time)} ago: "
        line = Text.assemble((said, "bold"), inert(last.text, 1000))
    return [
        ("Repository", Text(inert(repo_label(build.repo), 300))),
        ("Ref", Text(inert(build.ref, 200))),
        ("Phase", phase),
        ("Started", Text(moment(build.started, now))),
        ("Pod", Text(inert(f"{build.namespace}/{build.pod}", 300))),
        ("Last log line", line),
    ]


class BuildDetailScreen(ConsoleScreen):
    KINDS = frozenset({"build", "clock"})
    BINDINGS = [
        *keymap.DETAIL_BINDINGS,
        Binding("l", "logs", "Logs"),
        *keymap.selection_bindings("builds"),
    ]

    @dataclass
    class Read(Message):
        line: LastLine | None

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key  # namespace/pod
        self.build: Build | None = None
        self.last: LastLine | None = None
        self.read = False

    def compose_body(self) -> ComposeResult:
        yield Static(plain(f"Build {self.key.rsplit('/', 1)[-1]}", "bold"), classes="title")
        yield Static(id="detail", classes="panel")

    def on_mount(self) -> None:
        self._read_last_line()
        self.set_interval(LAST_LINE_SECONDS, self._read_last_line)

    @work(thread=True, exclusive=True, group="build-detail")
    def _read_last_line(self) -> None:
        self.console.services_ready.wait()
        from binderctl.services.kube import Kube, parse_time
        from binderctl.services.logs import last_line, message_of

        namespace, _, pod = self.key.rpartition("/")
        kube = self.console.kube or Kube(self.console.member)
        line = last_line(kube, namespace, pod)
        read = None if line is None else LastLine(message_of(line.text), parse_time(line.time))
        self.post_message(self.Read(read))

    @on(Read)
    def _last_line(self, message: Read) -> None:
        self.last, self.read = message.line, True
        self.render_model()

    def render_model(self) -> None:
        model = self.console.model
        build = None if model is None else model.builds.get(self.key)
        self.build = build or self.build
        detail = self.query_one("#detail", Static)
        if self.build is None:
            detail.update(plain("This build has ended (or the model is not connected yet)."))
            return
        gone = build is None
        fields = build_fields(self.build, self.last, self.read, self.console.clock())
        if gone:
            fields.append(("", Text("the build pod is gone", style="dim")))
        detail.update(fields_table(fields))

    def action_logs(self) -> None:
        self.show("logs", self.key)

    def selected_targets(self) -> list[str]:
        return [self.key.rsplit("/", 1)[-1]]
