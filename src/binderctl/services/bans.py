"""Repositories kept out of the member: BinderHub's ``banned_specs``, as binderctl sets them.

Where a ban lives, on the member itself, in the ``binderhub`` HelmChart:

- its patterns in the chart's values, ``config.<repo provider>.banned_specs`` (one per
  provider that can launch the repository: ``repos.ban_patterns``), where BinderHub
  reads them when its pod starts; a change reaches it as the launch quota does (the
  chart's install Job, then a binder rollout). ``--provision`` keeps them
  (``charts.keep_bans``);
- who banned it, when and why in the HelmChart's annotation ``binderctl/bans`` (JSON),
  written by the same patch. Every operator, and ``kubectl get helmchart -o yaml``, sees
  the same list, whichever machine banned it; helm-controller installs only on
  changes of the spec, so the annotation starts no install of its own.

Patterns in ``banned_specs`` that no ban of binderctl's put there (set by hand, or
mybinder's own list) are kept as they are and listed by ``bans`` as such.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from binderctl.errors import BinderctlError
from binderctl.services import mapping
from binderctl.services.binderhub import read_chart, update_chart
from binderctl.services.kube import PODS, Kube, Obj
from binderctl.services.repos import ban_patterns, repo_matches

ANNOTATION = "binderctl/bans"


@dataclass(frozen=True)
class Ban:
    repo: str  # the repository's URL
    patterns: dict[str, str]  # repo provider class -> its banned_specs pattern
    reason: str
    user: str
    time: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BanList:
    bans: tuple[Ban, ...]  # binderctl's, oldest first
    other: tuple[tuple[str, str], ...] = field(default=())  # (provider, pattern) not ours

    def find(self, repo: str) -> Ban | None:
        return next((b for b in self.bans if b.repo == repo), None)


def _recorded(chart: Obj) -> list[Ban]:
    text = ((chart.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION) or "[]"
    try:
        items = json.loads(text)
    except ValueError:
        raise BinderctlError(
            f"the binderhub HelmChart's annotation {ANNOTATION} is not JSON",
            hint="fix or remove it: kubectl -n kube-system edit helmchart binderhub",
        ) from None
    bans = []
    for item in items if isinstance(items, list) else ():
        try:
            bans.append(
                Ban(
                    str(item["repo"]),
                    {str(k): str(v) for k, v in dict(item["patterns"]).items()},
                    str(item.get("reason") or ""),
                    str(item.get("user") or ""),
                    float(item.get("time") or 0.0),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return bans


def _specs(values: dict[str, Any]) -> dict[str, list[str]]:
    config = values.get("config") or {}
    found = {}
    for name, section in config.items():
        specs = section.get("banned_specs") if isinstance(section, dict) else None
        if isinstance(specs, list):
            found[name] = [str(s) for s in specs]
    return found


def _others(values: dict[str, Any], bans: Sequence[Ban]) -> tuple[tuple[str, str], ...]:
    ours = {(p, pattern) for b in bans for p, pattern in b.patterns.items()}
    return tuple(
        (provider, pattern)
        for provider, specs in _specs(values).items()
        for pattern in specs
        if (provider, pattern) not in ours
    )


def read_bans(kube: Kube) -> BanList:
    chart, values = read_chart(kube)
    bans = _recorded(chart)
    return BanList(tuple(bans), _others(values, bans))


def _set_specs(values: dict[str, Any], old: Sequence[Ban], new: Sequence[Ban]) -> None:
    """``banned_specs`` with ``old``'s patterns replaced by ``new``'s (others kept)."""
    config = values.setdefault("config", {})
    dropped = {(p, pattern) for b in old for p, pattern in b.patterns.items()}
    wanted: dict[str, list[str]] = {}
    for provider, specs in _specs(values).items():
        wanted[provider] = [s for s in specs if (provider, s) not in dropped]
    for ban in new:
        for provider, pattern in ban.patterns.items():
            specs = wanted.setdefault(provider, [])
            if pattern not in specs:
                specs.append(pattern)
    for provider, specs in wanted.items():
        section = config.setdefault(provider, {})
        if specs:
            section["banned_specs"] = specs
        else:
            section.pop("banned_specs", None)
            if not section:
                del config[provider]


def change_bans(kube: Kube, edit: Callable[[list[Ban]], list[Ban]]) -> tuple[BanList, bool]:
    """Replace binderctl's bans by ``edit(current bans)``, in the values and the
    annotation at once; returns the new list and whether ``banned_specs`` changed."""
    changed = False

    def change(values: dict[str, Any], chart: Obj) -> dict[str, str]:
        nonlocal changed
        old = _recorded(chart)
        new = edit(list(old))
        before = _specs(values)
        _set_specs(values, old, new)
        changed = _specs(values) != before
        return {ANNOTATION: json.dumps([b.to_json() for b in new], sort_keys=True)}

    update_chart(kube, change)
    return read_bans(kube), changed


def new_ban(repo: str, reason: str, user: str, now: float | None = None) -> Ban:
    patterns = ban_patterns(repo)
    return Ban(repo, patterns, reason, user, time.time() if now is None else now)


def describe(ban: Ban) -> str:
    return "; ".join(f"{provider} {pattern}" for provider, pattern in ban.patterns.items())


def repo_pods(kube: Kube, repos: Sequence[str]) -> tuple[list[Obj], list[Obj]]:
    """The running sessions and the builds in progress of ``repos``."""
    sessions = [
        p
        for p in kube.list(PODS, labelSelector=mapping.SESSION_SELECTOR)
        if (p.get("status") or {}).get("phase") not in mapping.TERMINAL_PHASES
        and not p["metadata"].get("deletionTimestamp")
        and any(repo_matches(r, mapping.session_from_pod(p).repo) for r in repos)
    ]
    now = time.time()
    builds = [
        p
        for p in kube.list(PODS, labelSelector=mapping.BUILD_SELECTOR)
        if (build := mapping.build_from_pod(p, now, mapping.STUCK_AFTER_SECONDS)).phase
        in ("Pending", "Running")
        and not p["metadata"].get("deletionTimestamp")
        and any(repo_matches(r, build.repo) for r in repos)
    ]
    return sessions, builds
