"""Rows of the live model for terminals (tables that fit the width) and for JSON.

Every string from the cluster is untrusted (a repo URL is typed by an anonymous user)
and goes through ``formatting.inert``.
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime

from binderctl.formatting import age, cells, cpu, inert, middle, repo_label, size, table
from binderctl.models import Build, Component, Session, WarningEvent

UNLIMITED = 1_000_000
MIN_FLEX_WIDTH = 4
MESSAGE_LIMIT = 4096  # characters kept of an event's message: all of any real one


def short_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso(timestamp: float | None) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def width() -> int:
    """The terminal's width; unlimited when output goes to a pipe (like kubectl) unless
    COLUMNS says otherwise."""
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        return UNLIMITED
    return max(60, shutil.get_terminal_size((80, 24)).columns)


def fit(
    headers: list[str],
    rows: list[list[str]],
    flex: tuple[int, ...],
    names: tuple[int, ...] = (),
) -> str:
    """``table`` narrowed to the terminal by shortening the ``flex`` columns, the
    widest first, down to their header's width; those of them in ``names`` lose their
    middle, not their end (``formatting.middle``). Names people copy (pods) are not
    flexible: a line that cannot fit stays long rather than lose them."""
    widths = [max([cells(h)] + [cells(r[i]) for r in rows]) for i, h in enumerate(headers)]
    excess = sum(widths) + 2 * (len(widths) - 1) - width()
    while excess > 0:
        column = max(flex, key=lambda i: widths[i] - len(headers[i]))
        if widths[column] <= max(len(headers[column]), MIN_FLEX_WIDTH):
            break
        widths[column] -= 1
        excess -= 1

    def cut(index: int, text: str) -> str:
        if index in names:
            return middle(text, widths[index])
        return inert(text, widths[index]) if index in flex else text

    return table(headers, [[cut(i, c) for i, c in enumerate(row)] for row in rows])


# -- sessions ------------------------------------------------------------------------
SESSION_HEADERS = ["POD", "REPO", "REF", "AGE", "PHASE", "CPU", "MEM"]


def _pod_cells(pod: Session | Build, now: float) -> list[str]:
    """POD, REPO, REF, AGE and PHASE: the cells sessions and builds share."""
    return [
        inert(pod.pod, 63),
        inert(repo_label(pod.repo), 100),
        inert(pod.ref[:7] if len(pod.ref) == 40 else pod.ref, 20),
        age(now - pod.started),
        inert(pod.phase, 12),
    ]


def session_row(s: Session, now: float) -> list[str]:
    return [
        *_pod_cells(s, now),
        cpu(s.cpu),
        size(s.memory),
    ]


def session_json(s: Session, now: float) -> dict[str, object]:
    return {
        "pod": s.pod,
        "namespace": s.namespace,
        "user": s.user,
        "repo": s.repo,
        "ref": s.ref,
        "started": iso(s.started),
        "age_seconds": int(now - s.started),
        "phase": s.phase,
        "cpu": s.cpu,
        "memory": s.memory,
        "restarts": s.restarts,
    }


# -- builds --------------------------------------------------------------------------
BUILD_HEADERS = ["POD", "REPO", "REF", "AGE", "PHASE", ""]


def build_row(b: Build, now: float) -> list[str]:
    return [
        *_pod_cells(b, now),
        "STUCK" if b.stuck else "",
    ]


def build_json(b: Build, now: float) -> dict[str, object]:
    return {
        "pod": b.pod,
        "namespace": b.namespace,
        "repo": b.repo,
        "ref": b.ref,
        "phase": b.phase,
        "started": iso(b.started),
        "age_seconds": int(now - b.started),
        "stuck": b.stuck,
    }


# -- warnings ------------------------------------------------------------------------
WARNING_HEADERS = ["AGE", "REASON", "OBJECT", "COUNT", "MESSAGE"]


def warning_row(w: WarningEvent, now: float) -> list[str]:
    """Whole: ``fit`` shortens the object and message on a terminal, not on a pipe."""
    return [
        age(now - w.time),
        inert(w.reason, 40),
        inert(w.object, 300),
        str(w.count),
        inert(w.message, MESSAGE_LIMIT),
    ]


def warning_json(w: WarningEvent) -> dict[str, object]:
    return {
        "time": iso(w.time),
        "first_seen": iso(w.first_seen),
        "namespace": w.namespace,
        "object": w.object,
        "reason": w.reason,
        "message": w.message,
        "count": w.count,
    }


def component_json(c: Component, now: float) -> dict[str, object]:
    problem = c.problem
    return {
        "ready": c.ready,
        "desired": c.desired,
        "updated": c.updated,
        "available": c.available,
        "restarts": c.restarts,
        "age_seconds": None if c.started is None else int(now - c.started),
        "image": c.image,  # the template's
        "running_images": list(c.running),  # what its Ready pods run
        "revision": c.revision or None,
        "rollout_waiting_for": c.waiting or None,
        "problem": None if problem is None else {
            "pod": problem.pod,
            "reason": problem.reason,
            "message": problem.message,
            "image": problem.image or None,
        },
    }  # fmt: skip


def component_text(c: Component) -> str:
    """``hub 1/1`` and, while it rolls out, for what: ``binder 1/1 (rollout stuck:
    ImagePullBackOff)``, ``proxy 1/1 (rolling out: 1 old pod(s) pending termination)``."""
    parts = []
    if c.problem is not None:
        parts.append(f"rollout stuck: {c.problem.reason}")
    elif c.waiting:
        parts.append(f"rolling out: {c.waiting}")
    if c.restarts:
        parts.append(f"{c.restarts} restarts")
    return f"{c.name} {c.ready}/{c.desired}" + (f" ({', '.join(parts)})" if parts else "")
