"""Why sessions ended: a drop in the session count, explained.

A session pod goes away for one of a few reasons, and each leaves its own trace:

- binderctl deleted it (``kill-session``, a drain that evicts): the audit log names the
  pod among the action's targets, from the moment the action starts;
- the kubelet evicted it (disk or memory pressure): the pod's last state has
  ``status.reason: Evicted`` (an eviction through the API: the ``DisruptionTarget``
  condition);
- its server ended by itself, or never started: its containers terminated (the hub
  then deletes the pod), or it was still Pending;
- the hub stopped it: the idle culler (``jupyterhub-idle-culler``, a service the hub
  runs, so its lines are in the hub container's log) asks
  ``DELETE /hub/api/users/<name>/server``, as a user or an admin may; JupyterHub logs
  each request as ``204 DELETE /hub/api/users/<name>/server (<who>@<ip>) 12.34ms``
  (``jupyterhub/log.py``, ``log_request``) and the culler itself ``Culling server
  <name> (inactive for ...)``; KubeSpawner then deletes the pod.

What the pod's last state tells is known at once; the audit log and the hub's log are
read a moment later (``explain``); what nothing tells after ``PATIENCE`` seconds is
"deleted, by whom is not known".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from binderctl.formatting import age
from binderctl.models import Departure
from binderctl.services.kube import parse_time

PATIENCE = 60.0  # seconds a departure waits for the audit log or the hub's log
WINDOW = 600.0  # the departures the console explains: the last ten minutes'
BURST_GAP = 30.0  # departures closer than this are one drop
CULLER = "jupyterhub-idle-culler"

# `204 DELETE /hub/api/users/<name>/server (<who>@<ip>)`, or `/servers/<server>` (named)
_HUB_DELETE = re.compile(r"\b20[24] DELETE \S*/hub/api/users/([^/\s]+)/servers?\b[^(]*\(([^@)]*)@")
_CULLING = re.compile(r"\bCulling server ([^\s/]+)")


# The DisruptionTarget condition's reasons (k8s.io/api core/v1 types.go): who ended it.
_DISRUPTED_BY = {
    "TerminationByKubelet": ("evicted", "the kubelet"),
    "PreemptionByScheduler": ("evicted", "the scheduler (preemption)"),
    "DeletionByTaintManager": ("evicted", "the taint manager"),
    "DeletionByPodGC": ("deleted", "the pod garbage collector"),
    # someone asked the eviction API (a drain: binderctl's own, or kubectl's): the audit
    # log may say who, so the cause waits for ``explain``
    "EvictionByEvictionAPI": ("", "the eviction API"),
}


def _deletion_requested(meta: Mapping[str, Any]) -> float | None:
    """When the pod's deletion was asked for: its deletionTimestamp less its grace."""
    when = parse_time(meta.get("deletionTimestamp"))
    return None if when is None else when - (meta.get("deletionGracePeriodSeconds") or 0)


def left_as(final: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """(cause, by whom) that a session pod's last state tells, or None when it was
    deleted while it ran (``explain`` finds out who). A cause of "" with a "by" is a
    guess that the audit log may still correct.

    The kubelet deletes a pod only once its phase is terminal, and a container that was
    stopped for the deletion ends after it was asked for (or, never started, as
    ``ContainerStatusUnknown``: ``status_manager.go``, ``TerminatePod``); only a
    container that ended before that ended on its own."""
    if final is None:
        return None
    status = final.get("status") or {}
    for condition in status.get("conditions") or ():
        if condition.get("type") == "DisruptionTarget" and condition.get("status") == "True":
            reason = condition.get("reason") or ""
            told: tuple[str, str] = _DISRUPTED_BY.get(reason, ("evicted", reason or "Kubernetes"))
            return told
    if status.get("reason") == "Evicted":
        return "evicted", "the kubelet"
    containers = status.get("containerStatuses") or ()
    ends = [(c.get("state") or {}).get("terminated") for c in containers]
    if status.get("phase") == "Pending" or (
        ends and all(e and e.get("reason") == "ContainerStatusUnknown" for e in ends)
    ):
        return "never started", ""
    requested = _deletion_requested(final.get("metadata") or {})
    for end in ends:
        finished = parse_time((end or {}).get("finishedAt"))
        if finished is not None and (requested is None or finished < requested):
            return "finished", ""  # its server ended on its own; the hub then deleted it
    return None


def hub_stops(lines: Iterable[str]) -> dict[str, str]:
    """user name -> who asked the hub to stop that user's server, from the hub's log."""
    stops: dict[str, str] = {}
    for line in lines:
        found = _HUB_DELETE.search(line)
        if found is not None:
            stops[unquote(found.group(1))] = found.group(2) or "the hub"
            continue
        culling = _CULLING.search(line)
        if culling is not None:
            stops.setdefault(culling.group(1), CULLER)
    return stops


def explain(
    departure: Departure,
    acted: Mapping[str, str],
    stops: Mapping[str, str],
    now: float,
) -> Departure | None:
    """``departure`` with its cause, from the audit log (``acted``: pod name -> action)
    and the hub's log (``stops``: user -> who); None while it may still be told."""
    pod = departure.pod.rsplit("/", 1)[-1]
    action = acted.get(pod)
    if action is not None:
        return replace(departure, cause="killed", by=f"binderctl {action}")
    who = stops.get(departure.user)
    if who == CULLER:
        return replace(departure, cause="culled", by="the idle culler")
    if who is not None:
        by = "its user" if who == departure.user else who
        return replace(departure, cause="stopped", by=by)
    if now - departure.time < PATIENCE:
        return None
    if departure.by:  # what its last state told: evicted through the eviction API
        return replace(departure, cause="evicted")
    return replace(departure, cause="deleted", by="someone (not binderctl, not the hub)")


def phrase(departure: Departure) -> str:
    """``culled by the idle culler``, ``finished``, ``not told yet``."""
    if not departure.cause:
        return "not told yet"
    return f"{departure.cause} by {departure.by}" if departure.by else departure.cause


def _bursts(departures: Sequence[Departure]) -> list[list[Departure]]:
    bursts: list[list[Departure]] = []
    for departure in sorted(departures, key=lambda d: d.time):
        if bursts and departure.time - bursts[-1][-1].time <= BURST_GAP:
            bursts[-1].append(departure)
        else:
            bursts.append([departure])
    return bursts


def summary(departures: Sequence[Departure], now: float) -> str | None:
    """Sessions that ended in the last ``WINDOW``, with the biggest drop and why: ``171
    sessions ended in the last 10m: -169 in 8s (2m ago); 169 culled by the idle culler,
    2 evicted by the kubelet``; None when none did."""
    recent = [d for d in departures if now - d.time <= WINDOW]
    if not recent:
        return None
    causes = Counter(phrase(d) for d in recent).most_common()
    why = ", ".join(f"{count} {cause}" for cause, count in causes)
    text = f"{len(recent)} session{'s' if len(recent) > 1 else ''} ended in the last {age(WINDOW)}"
    drop = max(_bursts(recent), key=len)
    if len(drop) > 1:
        span = drop[-1].time - drop[0].time
        within = f"in {age(span)}" if span >= 1 else "at once"
        text += f": -{len(drop)} {within} ({age(now - drop[-1].time)} ago)"
    return f"{text}; {why}"
