"""History plots of the node and the sessions (the model's ring buffers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Sparkline, Static

from binderctl.formatting import age, size
from binderctl.screens.base import ConsoleScreen

# (history attribute, title, how a value reads)
SERIES: tuple[tuple[str, str, Callable[[float], str]], ...] = (
    ("node_cpu", "Node CPU (cores)", lambda v: f"{v:.1f}"),
    ("node_memory", "Node memory", lambda v: size(v)),
    ("node_disk", "Node disk", lambda v: size(v)),
    ("pods", "Pods", lambda v: f"{v:.0f}"),
    ("sessions", "Sessions", lambda v: f"{v:.0f}"),
)


def caption(
    title: str, samples: Sequence[tuple[float, float]], show: Callable[[float], str]
) -> Text:
    if not samples:
        return Text.assemble((title, "bold"), ("  no samples yet", "dim"))
    values = [v for _, v in samples]
    if len(values) == 1:
        return Text.assemble(
            (title, "bold"), f"  now {show(values[0])}", ("  (one sample; plots need two)", "dim")
        )
    span = samples[-1][0] - samples[0][0]
    return Text.assemble(
        (title, "bold"),
        f"  now {show(values[-1])}",
        (f"  min {show(min(values))}  max {show(max(values))}  over {age(span)}", "dim"),
    )


class ResourcesScreen(ConsoleScreen):
    KINDS = frozenset({"history"})

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="plots"):
            for name, _, _ in SERIES:
                with Vertical(classes="plot"):
                    yield Static(id=f"{name}-caption", markup=False)
                    yield Sparkline([], id=f"{name}-plot", classes="plot-line")

    def render_model(self) -> None:
        history = self.console.history
        for name, title, show in SERIES:
            samples = tuple(getattr(history, name))
            self.query_one(f"#{name}-caption", Static).update(caption(title, samples, show))
            values = [v for _, v in samples]
            self.query_one(f"#{name}-plot", Sparkline).data = values if len(values) > 1 else []
