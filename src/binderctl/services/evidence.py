"""What a session did, as the kubelet counted it: the evidence an abuse report quotes.

The kubelet forgets a pod's counters when the pod is deleted, so ``ban --kill`` reads
them just before it deletes the sessions and appends them here (state dir
``abuse-evidence.jsonl``, 0600, one JSON line per session); ``abuse report`` reads
these and the counters of the sessions still running.

CPU: ``cpu_now`` is the kubelet's latest sample (``usageNanoCores``), ``cpu_average``
the average since the container started (``usageCoreNanoSeconds`` over its running
time); the kubelet keeps no history, so ``cpu_peak`` is the higher of the two and of
the highest sample the live model saw, when it saw one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from binderctl.paths import app_dir, append_private
from binderctl.services import mapping
from binderctl.services.kube import Obj
from binderctl.services.kubelet_stats import PodCounters

EVIDENCE_FILE = "abuse-evidence.jsonl"


@dataclass(frozen=True)
class SessionEvidence:
    pod: str
    namespace: str
    uid: str
    user: str
    repo: str
    ref: str
    started: float  # the pod's creation
    ended: float | None  # when binderctl ended it (None: running when read)
    read_at: float | None  # the kubelet's stats time
    tx_bytes: int | None
    rx_bytes: int | None
    tx_packets: int | None
    rx_packets: int | None
    cpu_now: float | None  # cores
    cpu_average: float | None  # cores, since the container started
    cpu_peak: float | None
    cpu_limit: float | None
    ended_by: str = ""  # the action that ended it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def evidence_path(member: str) -> Path:
    return app_dir("state") / member / EVIDENCE_FILE


def _peak(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def of_pod(
    pod: Obj,
    counters: PodCounters | None,
    *,
    ended: float | None = None,
    ended_by: str = "",
    peak: float | None = None,
) -> SessionEvidence:
    """A session pod with what the kubelet last counted for it (None: nothing)."""
    session = mapping.session_from_pod(pod)
    average = None
    if counters is not None:
        average = _average(counters)
    return SessionEvidence(
        pod=session.pod,
        namespace=session.namespace,
        uid=pod["metadata"].get("uid", ""),
        user=session.user,
        repo=session.repo,
        ref=session.ref,
        started=session.started,
        ended=ended,
        read_at=None if counters is None else counters.time,
        tx_bytes=None if counters is None else counters.tx_bytes,
        rx_bytes=None if counters is None else counters.rx_bytes,
        tx_packets=None if counters is None else counters.tx_packets,
        rx_packets=None if counters is None else counters.rx_packets,
        cpu_now=None if counters is None else counters.cpu_cores,
        cpu_average=average,
        cpu_peak=_peak(None if counters is None else counters.cpu_cores, average, peak),
        cpu_limit=mapping.cpu_limit(pod),
        ended_by=ended_by,
    )


def _average(counters: PodCounters) -> float | None:
    seconds, now, start = counters.cpu_seconds, counters.cpu_time, counters.cpu_start
    if seconds is None or now is None or start is None or now <= start:
        return None
    return seconds / (now - start)


def record(member: str, items: Iterable[SessionEvidence]) -> None:
    """Append ``items`` (0600 from creation)."""
    lines = "".join(json.dumps(item.to_json(), sort_keys=True) + "\n" for item in items)
    if lines:
        with append_private(evidence_path(member)) as fd:
            os.write(fd, lines.encode())
            os.fsync(fd)


def read(member: str, since: float | None = None) -> list[SessionEvidence]:
    """The recorded sessions ended at or after ``since``; unreadable lines are skipped."""
    path = evidence_path(member)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    names = {f.name for f in fields(SessionEvidence)}
    found = []
    for line in text.splitlines():
        try:
            document = json.loads(line)
            item = SessionEvidence(**{k: v for k, v in document.items() if k in names})
        except (ValueError, TypeError):
            continue
        if since is None or (item.ended or time.time()) >= since:
            found.append(item)
    return found


def by_key(counters: Mapping[str, PodCounters], pods: Iterable[Obj]) -> dict[str, PodCounters]:
    """The counters of ``pods``, by ``namespace/name``, if the same pod (uid) was read."""
    found = {}
    for pod in pods:
        key = mapping.key_of(pod)
        item = counters.get(key)
        if item is not None and item.uid in ("", pod["metadata"].get("uid", "")):
            found[key] = item
    return found
