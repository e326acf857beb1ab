"""The status bar on top of every screen: is the member healthy, in rotation, affordable?

Rotation, health and the sessions-to-quota figure take the colour of the worst
attention item about them (``services/attention.py``), the Dashboard's panel says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from binderctl.formatting import inert
from binderctl.models import Attention, ConnectionState, Rotation, RotationVerdict, Severity
from binderctl.services.attention import HEALTH_KINDS, QUOTA_KINDS, ROTATION_KINDS, worst
from binderctl.widgets.attention import SEVERITY_STYLE


@dataclass(frozen=True)
class HeaderState:
    member: str
    readonly: bool = False
    connection: ConnectionState | None = None  # None: not watching a cluster
    rotation: Rotation | None = None  # what binderctl asked for: the quota, the cordon
    observed: RotationVerdict | None = None  # by the redirector's rules
    health_ok: bool | None = None
    sessions: int | None = None
    month_to_date: str | None = None  # formatted, e.g. "EUR 12.40 of 300 this month"
    budget_level: str = "ok"  # ok, warn, over
    attention: tuple[Attention, ...] = ()  # what needs attention, worst first


def _asked(rotation: Rotation | None) -> str:
    if rotation is None or rotation.quota_error is not None:
        return ""
    return " + ".join(
        reason
        for reason, applies in (("quota 0", rotation.quota == 0), ("cordoned", rotation.cordoned))
        if applies
    )


def _observed_why(verdict: RotationVerdict) -> str:
    if verdict.reason == "check":
        return f"check {verdict.check}"
    return verdict.reason or ""


# The few words the rotation segment says when an error puts the rotation in doubt.
IN_DOUBT = {
    "health-unreachable": "/health down",
    "health-failing": "/health failing",
    "quota-unreadable": "quota unreadable",
    "out-of-rotation": "redirector",
}


# Hetzner's answers to abuse (attention kinds) and how the header says them.
SERVER_MARKS = {"server-locked": "SERVER LOCKED", "ipv4-blocked": "IPv4 BLOCKED"}


def _rotation(state: HeaderState) -> tuple[str, str]:
    text, style = _rotation_asked_and_observed(state.rotation, state.observed)
    severity = worst(state.attention, ROTATION_KINDS)
    if severity is None:
        return text, style
    if severity == "error" and "OUT OF ROTATION" not in text:  # in, or not known: say why
        cause = next(i.kind for i in state.attention if i.kind in ROTATION_KINDS)
        text = f"◌ ROTATION ? ({IN_DOUBT.get(cause, cause)})"
    return text, SEVERITY_STYLE[severity]


def _rotation_asked_and_observed(
    rotation: Rotation | None, observed: RotationVerdict | None
) -> tuple[str, str]:
    """By the redirector's rules once they are known, with what binderctl asked for."""
    asked = _asked(rotation)
    if observed is not None:
        if observed.in_rotation is None:
            return f"◌ ROTATION ? ({_observed_why(observed)})", "bold yellow"
        if observed.in_rotation:
            note = f" (asked: {asked})" if asked else ""
            return f"● IN ROTATION{note}", "bold green" if not asked else "bold yellow"
        why = _observed_why(observed) + (f"; asked: {asked}" if asked else "")
        return f"○ OUT OF ROTATION ({why})", "bold yellow"
    if rotation is None or rotation.quota_error is not None:
        return "rotation ?", "dim"
    if rotation.in_rotation:
        return "● IN ROTATION", "bold green"
    return f"○ OUT OF ROTATION ({asked})", "bold yellow"


def _health(ok: bool | None, severity: Severity | None) -> tuple[str, str]:
    if ok is None:
        return ("health DOWN", SEVERITY_STYLE[severity]) if severity else ("health ?", "dim")
    return ("health OK", "green") if ok else ("health FAILING", "bold red")


def render_header(state: HeaderState) -> Text:
    member = inert(state.member, 40) or "new member"
    parts: list[tuple[str, str] | str] = [(f" {member} ", "bold reverse"), " "]
    parts.append(_rotation(state))
    parts.append("  ")
    parts.append(_health(state.health_ok, worst(state.attention, HEALTH_KINDS)))
    sessions = "?" if state.sessions is None else str(state.sessions)
    quota = "?"
    if state.rotation is not None and state.rotation.quota_error is None:
        quota = "∞" if state.rotation.quota is None else str(state.rotation.quota)
    severity = worst(state.attention, QUOTA_KINDS)
    style = SEVERITY_STYLE[severity] if severity else ""
    parts.extend(["  ", (f"sessions {sessions}/{quota}", style)])
    if state.month_to_date:
        style = {"warn": "yellow", "over": "bold red"}.get(state.budget_level, "")
        parts.extend(["  ", (state.month_to_date, style)])
    for item in state.attention:
        mark = SERVER_MARKS.get(item.kind)
        if mark is not None:
            parts.extend(["  ", (f" {mark} ", "bold white on red")])
    if state.readonly:
        parts.extend(["  ", (" READ-ONLY ", "bold black on cyan")])
    if state.connection in ("reconnecting", "disconnected"):
        parts.extend(["  ", (f" {state.connection.upper()} ", "bold white on red")])
    elif state.connection == "connecting":
        parts.extend(["  ", ("connecting…", "italic")])
    return Text.assemble(*parts, no_wrap=True, overflow="ellipsis")


class StatusHeader(Widget):
    """Renders the app's ``header_state``; every screen has one."""

    state: reactive[HeaderState | None] = reactive(None)

    def render(self) -> Text:
        return Text("") if self.state is None else render_header(self.state)
