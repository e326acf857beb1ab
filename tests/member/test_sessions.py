"""Launches, the launch quota, and the idle culler (simulated time). How a changed quota
reaches BinderHub (install Job, binder rollout) is in test_with_control_plane.py."""

from __future__ import annotations

from collections.abc import Callable

from binderctl.demo.kube import types
from binderctl.demo.member.simulation import Member
from tests.member.memberkit import log_text, pod_named, session_pods


def _history(member: Member) -> tuple[list[str], list[str]]:
    hub = log_text(member, pod_named(member, "hub-"), "hub")
    binder = log_text(member, pod_named(member, "binder-"), "binder")
    return sorted(p["metadata"]["name"] for p in session_pods(member)), [hub, binder]


def test_same_seed_same_member(make_member: Callable[..., Member]) -> None:
    runs = []
    for seed in (11, 11, 12):
        member = make_member(seed=seed, sessions=40, launches_per_minute=30.0, quota=45)
        member.advance(3 * 3600)
        runs.append(_history(member))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert "Culling server" in runs[0][1][0]


def test_launches_beyond_the_quota_are_refused(make_member: Callable[..., Member]) -> None:
    member = make_member(sessions=20, quota=20, launches_per_minute=60.0)
    member.advance(120)
    assert len(session_pods(member)) == 20
    assert member.hub.refused > 50
    binder = log_text(member, pod_named(member, "binder-"), "binder")
    assert "BinderHub is full: 20/20" in binder


def test_idle_and_old_sessions_are_culled(make_member: Callable[..., Member]) -> None:
    member = make_member(sessions=60)
    member.advance(1)
    assert len(session_pods(member)) == 60
    member.advance(6 * 3600 + 2 * 660)
    assert session_pods(member) == []
    hub = log_text(member, pod_named(member, "hub-"), "hub")
    assert "Culling server" in hub
    assert "(inactive for 00:" in hub
    assert "JupyterHub spawner:3282] Deleting pod binderhub/jupyter-" in hub
    chp = log_text(member, pod_named(member, "proxy-"), "chp")
    assert "Removing route /user/" in chp


def test_deleted_session_pod_is_gone(make_member: Callable[..., Member]) -> None:
    member = make_member(sessions=3)
    member.advance(1)
    victim = session_pods(member)[0]["metadata"]["name"]
    member.store.delete(types.PODS, "binderhub", victim)
    member.advance(1)
    assert victim not in member.hub.sessions
    assert victim not in {p["metadata"]["name"] for p in session_pods(member)}
    hub = log_text(member, pod_named(member, "hub-"), "hub")
    assert "server stopped, with exit code: 1" in hub
