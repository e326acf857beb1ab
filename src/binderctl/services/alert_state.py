"""When a finding becomes a notification: hysteresis ("for"), repeats and resolutions.

Pure and clock-free: ``AlertTracker.step`` takes the time and what the policy found now,
and returns the notices to send. Its state is plain JSON, kept on disk by the watcher, so
a restart neither fires a rule again nor forgets to resolve it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
NoticeState = Literal["firing", "resolved"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Finding:
    """One thing that needs attention now; ``key`` tells repeated findings apart."""

    key: str
    kind: str
    severity: Severity
    text: str
    command: str | None = None  # the one command to run, e.g. "binderctl prune-images"


@dataclass(frozen=True)
class RuleSettings:
    for_seconds: float
    repeat_seconds: float
    enabled: bool = True
    severity: Severity | None = None  # overrides the policy's severity when set
    auto_action: str | None = None


@dataclass(frozen=True)
class Notice:
    id: str
    member: str
    kind: str
    key: str
    state: NoticeState
    severity: Severity
    text: str
    command: str | None
    since: float
    at: float
    repeat: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Notice:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass
class _Track:
    since: float
    severity: Severity
    text: str
    command: str | None
    kind: str
    fired_at: float | None = None
    last_sent: float | None = None
    repeat: int = 0


@dataclass
class AlertTracker:
    member: str
    tracks: dict[str, _Track] = field(default_factory=dict)

    def firing(self) -> dict[str, float]:
        """key -> since, for the findings that have fired and not resolved."""
        return {k: t.since for k, t in self.tracks.items() if t.fired_at is not None}

    def pending(self) -> dict[str, float]:
        """key -> since, for the findings still waiting out their "for"."""
        return {k: t.since for k, t in self.tracks.items() if t.fired_at is None}

    def step(
        self,
        now: float,
        findings: Iterable[Finding],
        rule_for: Callable[[Finding], RuleSettings],
    ) -> list[Notice]:
        notices: list[Notice] = []
        seen: set[str] = set()
        for finding in findings:
            rule = rule_for(finding)
            if not rule.enabled:
                continue
            seen.add(finding.key)
            severity = rule.severity or finding.severity
            track = self.tracks.get(finding.key)
            if track is None:
                track = self.tracks[finding.key] = _Track(
                    now, severity, finding.text, finding.command, finding.kind
                )
            track.severity, track.text, track.command = severity, finding.text, finding.command
            if track.fired_at is None:
                if now - track.since >= rule.for_seconds:
                    track.fired_at = track.last_sent = now
                    notices.append(self._notice(finding.key, track, "firing", now))
            elif track.last_sent is not None and now - track.last_sent >= rule.repeat_seconds:
                track.last_sent = now
                track.repeat += 1
                notices.append(self._notice(finding.key, track, "firing", now))
        for key in sorted(set(self.tracks) - seen):
            track = self.tracks.pop(key)
            if track.fired_at is not None:
                notices.append(self._notice(key, track, "resolved", now))
        return notices

    def _notice(self, key: str, track: _Track, state: NoticeState, now: float) -> Notice:
        suffix = f"{state}-{track.repeat}" if state == "firing" else state
        return Notice(
            id=f"{self.member}/{key}/{track.since:.3f}/{suffix}",
            member=self.member,
            kind=track.kind,
            key=key,
            state=state,
            severity=track.severity,
            text=track.text,
            command=track.command,
            since=track.since,
            at=now,
            repeat=track.repeat,
        )

    def to_json(self) -> dict[str, Any]:
        return {"member": self.member, "tracks": {k: asdict(t) for k, t in self.tracks.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlertTracker:
        tracks = {str(k): _Track(**v) for k, v in dict(data.get("tracks") or {}).items()}
        return cls(member=str(data["member"]), tracks=tracks)
