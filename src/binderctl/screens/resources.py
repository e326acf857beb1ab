"""History plots of the node and the sessions (the model's ring buffers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from binderctl.formatting import age, cores, size
from binderctl.screens.base import ConsoleScreen
from binderctl.widgets.plot import Plot

if TYPE_CHECKING:
    from binderctl.services.cluster import ClusterState


def _node(state: ClusterState, field: str) -> float | None:
    node = state.node
    return None if node is None else getattr(node, field)


def _quota(state: ClusterState) -> float | None:
    return None if state.rotation is None else state.rotation.quota


# (history attribute, title, how a value reads, the most it can be: the plot's top)
Limit = Callable[["ClusterState"], float | None]
SERIES: tuple[tuple[str, str, Callable[[float], str], Limit], ...] = (
    ("node_cpu", "Node CPU (cores)", cores, lambda m: _node(m, "cpu_allocatable")),
    ("node_memory", "Node memory", size, lambda m: _node(m, "memory_allocatable")),
    ("node_disk", "Node disk", size, lambda m: _node(m, "disk_capacity")),
    ("pods", "Pods", lambda v: f"{v:.0f}", lambda m: _node(m, "pods_max")),
    ("sessions", "Sessions", lambda v: f"{v:.0f}", _quota),
)


def caption(
    title: str,
    samples: Sequence[tuple[float, float]],
    show: Callable[[float], str],
    limit: float | None,
) -> Text:
    if not samples:
        return Text.assemble((title, "bold"), ("  no samples yet", "dim"))
    values = [v for _, v in samples]
    of = f" of {show(limit)}" if limit else ""
    if len(values) == 1:
        return Text.assemble(
            (title, "bold"),
            f"  now {show(values[0])}{of}",
            ("  (one sample; plots need two)", "dim"),
        )
    span = samples[-1][0] - samples[0][0]
    return Text.assemble(
        (title, "bold"),
        f"  now {show(values[-1])}{of}",
        (f"  min {show(min(values))}  max {show(max(values))}  over {age(span)}", "dim"),
    )


class ResourcesScreen(ConsoleScreen):
    KINDS = frozenset({"history"})

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="plots"):
            for name, *_ in SERIES:
                with Vertical(classes="plot"):
                    yield Static(id=f"{name}-caption", markup=False)
                    yield Plot(id=f"{name}-plot", classes="plot-line")

    def render_model(self) -> None:
        history = self.console.history
        model = self.console.model
        for name, title, show, limit_of in SERIES:
            samples = tuple(getattr(history, name))
            limit = None if model is None else limit_of(model)
            self.query_one(f"#{name}-caption", Static).update(caption(title, samples, show, limit))
            plot = self.query_one(f"#{name}-plot", Plot)
            plot.top = limit
            plot.values = tuple(v for _, v in samples)
