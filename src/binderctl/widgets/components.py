"""How a core component looks in a table: its counts, its rollout (stuck, and why, in
the attention policy's colours) and what it runs beside what its template names."""

from __future__ import annotations

from binderctl.formatting import images_label
from binderctl.models import Component
from binderctl.services.attention import component_severity, rollout_severity
from binderctl.widgets.attention import SEVERITY_STYLE
from binderctl.widgets.live_table import CellValue, Column, Row

# Restarts and ages are in a component's details: the image needs the width here.
COLUMNS = (
    Column("name", "Name", 6),
    Column("ready", "Ready", 5),
    Column("updated", "Updated", 7),
    Column("rollout", "Rollout"),  # as wide as a stuck reason needs, narrow when none
    Column("image", "Image", middle=True),  # running → template, while they differ
)


def rollout_cell(component: Component) -> CellValue:
    problem = component.problem
    if problem is not None:
        style = SEVERITY_STYLE[rollout_severity(component) or "warning"]
        return CellValue(problem.reason, problem.reason, style)
    if component.waiting:
        return CellValue("rolling out", component.waiting, "yellow")
    return CellValue("", "")


def component_row(component: Component) -> Row:
    severity = rollout_severity(component) or component_severity(component)
    counts = f"{component.updated}/{component.desired}" if component.desired_known else "-"
    return (
        CellValue(component.name, component.name, "bold"),
        CellValue(
            f"{component.ready}/{component.desired}",
            component.ready,
            SEVERITY_STYLE[severity] if severity else "green",
        ),
        CellValue(counts, component.updated),
        rollout_cell(component),
        CellValue(images_label(component.running, component.image), component.image, "dim"),
    )
