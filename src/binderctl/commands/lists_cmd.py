"""`binderctl sessions`, `builds`, `events`: one-shot lists through the live model's
mapping (no watches)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from binderctl.commands import Context, Subparsers, add_command
from binderctl.commands import rows as r
from binderctl.commands.arguments import add_stuck_after, whole_number
from binderctl.errors import BinderctlError
from binderctl.services import mapping
from binderctl.services.cluster import ClusterState, collect
from binderctl.services.kube import Kube
from binderctl.services.repos import repo_matches


def _collect(ctx: Context, parts: tuple[str, ...], selector: str | None = None) -> ClusterState:
    stuck_after = float(ctx.option("stuck_after", mapping.STUCK_AFTER_SECONDS))
    with Kube(ctx.member) as kube:
        state = collect(kube, ctx.member, parts, pod_selector=selector, stuck_after=stuck_after)
    missing = {k: v for k, v in state.errors.items() if k != "pod_metrics"}
    if missing:
        raise BinderctlError(next(iter(missing.values())))
    return state


T = TypeVar("T")


def _print_list(
    ctx: Context,
    items: Sequence[T],
    as_json: Callable[[T], object],
    empty: str,
    headers: list[str],
    as_row: Callable[[T], list[str]],
    flex: tuple[int, ...],
    names: tuple[int, ...] = (),
) -> bool:
    """Print `items` as JSON, as a table, or as the `empty` note; True when a table was printed."""
    if ctx.json_output:
        ctx.emit_json([as_json(item) for item in items])
        return False
    if not items:
        ctx.info(empty)
        return False
    print(r.fit(headers, [as_row(item) for item in items], flex=flex, names=names))
    return True


def _sessions(ctx: Context) -> int:
    state = _collect(ctx, ("pods", "pod_metrics"), mapping.SESSION_SELECTOR)
    now = time.time()
    sessions = sorted(state.sessions.values(), key=lambda s: s.started)
    repo = ctx.option("repo")
    if repo:
        sessions = [s for s in sessions if repo_matches(repo, s.repo)]
    shown = _print_list(
        ctx,
        sessions,
        lambda s: r.session_json(s, now),
        "no sessions" + (" of that repo" if repo else ""),
        r.SESSION_HEADERS,
        lambda s: r.session_row(s, now),
        flex=(1, 2),
        names=(1,),
    )
    if shown and "pod_metrics" in state.errors:
        ctx.info(f"(no CPU/memory figures: {state.errors['pod_metrics']})")
    return 0


def _builds(ctx: Context) -> int:
    state = _collect(ctx, ("pods",), mapping.BUILD_SELECTOR)
    now = time.time()
    builds = sorted(state.builds.values(), key=lambda b: b.started)
    _print_list(
        ctx,
        builds,
        lambda b: r.build_json(b, now),
        "no builds",
        r.BUILD_HEADERS,
        lambda b: r.build_row(b, now),
        flex=(1, 2),
        names=(1,),
    )
    return 0


def _events(ctx: Context) -> int:
    state = _collect(ctx, ("events",))
    now = time.time()
    limit = ctx.option("limit")
    warnings = list(state.warnings[:limit])
    _print_list(
        ctx,
        warnings,
        r.warning_json,
        "no warning events",
        r.WARNING_HEADERS,
        lambda w: r.warning_row(w, now),
        flex=(2, 4),
        names=(2,),
    )
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    sessions = add_command(sub, common, "sessions", "list running user sessions", _sessions)
    sessions.add_argument("--repo", metavar="R", help="only sessions of this repo")
    add_stuck_after(add_command(sub, common, "builds", "list builds (stuck ones marked)", _builds))
    events = add_command(sub, common, "events", "list recent warning events", _events)
    events.add_argument(
        "--limit",
        type=whole_number("--limit", 1, 10_000),
        default=50,
        metavar="N",
        help="newest N warnings (default 50)",
    )
