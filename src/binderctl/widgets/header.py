"""The status bar on top of every screen: is the member healthy, in rotation, affordable?"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from binderctl.formatting import inert
from binderctl.models import ConnectionState, Rotation, RotationVerdict


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


def _rotation(rotation: Rotation | None, observed: RotationVerdict | None) -> tuple[str, str]:
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


def render_header(state: HeaderState) -> Text:
    member = inert(state.member, 40) or "new member"
    parts: list[tuple[str, str] | str] = [(f" {member} ", "bold reverse"), " "]
    parts.append(_rotation(state.rotation, state.observed))
    parts.append("  ")
    if state.health_ok is None:
        parts.append(("health ?", "dim"))
    elif state.health_ok:
        parts.append(("health OK", "green"))
    else:
        parts.append(("health FAILING", "bold red"))
    sessions = "?" if state.sessions is None else str(state.sessions)
    quota = "?"
    if state.rotation is not None and state.rotation.quota_error is None:
        quota = "∞" if state.rotation.quota is None else str(state.rotation.quota)
    parts.append(f"  sessions {sessions}/{quota}")
    if state.month_to_date:
        style = {"warn": "yellow", "over": "bold red"}.get(state.budget_level, "")
        parts.extend(["  ", (state.month_to_date, style)])
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
