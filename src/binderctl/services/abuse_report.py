"""What an abuse desk asks for, in one document: the member's public IPv4, the time
window in UTC, the sessions (pod, repository and ref, start and end, bytes and packets
out, peak CPU) and the actions taken, each with its audit record.

Sessions are those the operator names (``--session``, ``--repo``), else the ones
``services/abuse.py`` suspects now; each with the counters the kubelet served: read now
for a running session, recorded by ``ban --kill`` for one it ended
(``services/evidence.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from binderctl import __version__
from binderctl.config import MemberConfig
from binderctl.formatting import cpu, size
from binderctl.services import audit, evidence, mapping
from binderctl.services.cluster import ClusterIndex, read_traffic
from binderctl.services.evidence import SessionEvidence
from binderctl.services.kube import PODS, Kube
from binderctl.services.repos import repo_matches

DEFAULT_SINCE = 86400.0


@dataclass(frozen=True)
class AbuseReport:
    member: str
    ipv4: str | None
    start: float  # the window, UTC
    end: float
    sessions: tuple[SessionEvidence, ...]
    actions: tuple[audit.AuditRecord, ...]
    generated: float

    def to_json(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "public_ipv4": self.ipv4,
            "window": {"start": _iso(self.start), "end": _iso(self.end)},
            "generated": _iso(self.generated),
            "sessions": [
                {**s.to_json(), "started": _iso(s.started), "ended": _iso(s.ended)}
                for s in self.sessions
            ],
            "actions": [record.to_json() for record in self.actions],
            "generator": f"binderctl {__version__}",
        }


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def _utc(moment: float | None) -> str:
    if moment is None:
        return "-"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ipv4(member: MemberConfig, kube: Kube) -> str | None:
    from binderctl.services.hetzner import member_server_flags

    flags = member_server_flags(member)
    if flags is not None and flags.ipv4:
        return flags.ipv4
    return kube.host or None


def _live(
    kube: Kube, member: MemberConfig, session: str | None, repo: str | None
) -> list[SessionEvidence]:
    """The running sessions the report is about, with the kubelet's counters now."""
    pods = [
        p
        for p in kube.list(PODS, labelSelector=mapping.SESSION_SELECTOR)
        if (p.get("status") or {}).get("phase") not in mapping.TERMINAL_PHASES
    ]
    counters = read_traffic(kube)
    index = ClusterIndex(member)
    index.pods.sync(pods)
    index.set_traffic(counters)
    sessions, traffic = index.pods.sessions, index.traffic.rows
    if session is not None:
        keys = {k for k, s in sessions.items() if s.pod == session}
    elif repo is not None:
        keys = {k for k, s in sessions.items() if repo_matches(repo, s.repo)}
    else:
        keys = {s.key for s in index.suspicions if s.flagged}
    chosen = [p for p in pods if mapping.key_of(p) in keys]
    read = evidence.by_key(counters, chosen)
    return [
        evidence.of_pod(
            pod,
            read.get(key := mapping.key_of(pod)),
            peak=(t.cpu_peak if (t := traffic.get(key)) else None),
        )
        for pod in chosen
    ]


def _wanted(item: SessionEvidence, session: str | None, repo: str | None) -> bool:
    if session is not None:
        return item.pod == session
    if repo is not None:
        return repo_matches(repo, item.repo)
    return True


def _about(record: audit.AuditRecord, pods: set[str], repos: Iterable[str]) -> bool:
    """Whether an audit record acted on one of the sessions or repositories."""
    if pods & set(record.targets):
        return True
    words = [record.target, *record.targets, json.dumps(record.parameters, default=str)]
    return any(repo_matches(repo, word) or repo in word for repo in repos for word in words)


def abuse_report(
    member: MemberConfig,
    kube: Kube,
    *,
    since: float = DEFAULT_SINCE,
    session: str | None = None,
    repo: str | None = None,
    now: float | None = None,
) -> AbuseReport:
    moment = time.time() if now is None else now
    horizon = moment - since
    recorded = [
        item for item in evidence.read(member.name, horizon) if _wanted(item, session, repo)
    ]
    live = _live(kube, member, session, repo)
    seen = {item.uid for item in recorded}
    sessions = sorted(
        [*recorded, *(item for item in live if item.uid not in seen)], key=lambda s: s.started
    )
    pods = {s.pod for s in sessions}
    repos = {s.repo for s in sessions} | ({repo} if repo else set())
    actions = [r for r in audit.read(member.name, horizon) if _about(r, pods, repos)]
    start = max(horizon, min((s.started for s in sessions), default=horizon))
    running = any(s.ended is None for s in sessions)
    end = moment if running or not sessions else max(s.ended or moment for s in sessions)
    return AbuseReport(
        member.name, _ipv4(member, kube), start, end, tuple(sessions), tuple(actions), moment
    )


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _session_lines(item: SessionEvidence) -> list[str]:
    ended = f"ended {_utc(item.ended)}" + (f" ({item.ended_by})" if item.ended_by else "")
    return [
        f"- pod {item.pod} (namespace {item.namespace}), user {item.user}",
        f"  repository {item.repo} at {item.ref or '-'}",
        f"  started {_utc(item.started)}, {ended if item.ended else 'still running'}",
        f"  sent {_count(item.tx_bytes)} bytes ({size(item.tx_bytes)}) in "
        f"{_count(item.tx_packets)} packets; received {_count(item.rx_bytes)} bytes "
        f"({size(item.rx_bytes)}) in {_count(item.rx_packets)} packets",
        f"  CPU peak {cpu(item.cpu_peak)} of a {cpu(item.cpu_limit)} limit (average since "
        f"start {cpu(item.cpu_average)}); counted by the kubelet at {_utc(item.read_at)}",
    ]


def _action_lines(record: audit.AuditRecord) -> list[str]:
    lines = [
        f"- {_utc(record.time)}  {record.action} {record.target} by {record.user}: "
        f"{record.outcome} ({record.detail})"
    ]
    lines += [f"    {name}: {outcome}" for name, outcome in record.targets.items()]
    return lines


def render(report: AbuseReport) -> str:
    lines: list[str] = [
        f"Abuse report for the BinderHub member {report.member}",
        f"Public IPv4:  {report.ipv4 or 'unknown'}",
        f"Window:       {_utc(report.start)} to {_utc(report.end)}",
        f"Generated:    {_utc(report.generated)} by binderctl {__version__}",
        "",
        f"Sessions ({len(report.sessions)}):",
    ]
    for item in report.sessions:
        lines += _session_lines(item)
    if not report.sessions:
        lines.append("- none found in the window")
    lines += ["", f"Actions taken ({len(report.actions)}, from the audit log):"]
    for record in report.actions:
        lines += _action_lines(record)
    if not report.actions:
        lines.append("- none")
    return "\n".join(lines) + "\n"


def file_name(report: AbuseReport, extension: str) -> str:
    stamp = datetime.fromtimestamp(report.generated, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"abuse-report-{report.member}-{stamp}.{extension}"
