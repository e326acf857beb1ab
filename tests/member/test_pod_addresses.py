"""Pod addresses on the node: a /24 pod range (k3s's default node-cidr-mask-size) holds
253 pods, whatever max_pods says; past that the CNI gives no address and pods stay
Pending with FailedCreatePodSandBox, as on a real k3s node."""

from __future__ import annotations

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj
from binderctl.demo.member.incidents import launch_storm
from binderctl.demo.member.simulation import Member
from tests.member.memberkit import Running, session_pods, until


def _addressed(member: Member) -> set[str]:
    pods = member.store.list(types.PODS)
    return {p["status"]["podIP"] for p in pods if (p.get("status") or {}).get("podIP")}


def _no_sandbox(member: Member) -> list[Obj]:
    return [e for e in member.store.list(types.EVENTS) if e["reason"] == "FailedCreatePodSandBox"]


async def test_a_24_runs_out_of_pod_addresses_before_a_ccx63s_max_pods(
    running: Running,
) -> None:
    member = await running(max_pods=336, node_cidr_mask=24, quota=400)
    launch_storm(member, 300)
    await until(lambda: len(_addressed(member)) == 253)
    failed = await until(lambda: _no_sandbox(member))
    assert "no IP addresses available in range set: 10.42.0.2-10.42.0.254" in failed[0]["message"]
    assert "10.42.0.1" not in _addressed(member)  # the cni0 gateway
    pending = [p for p in session_pods(member) if p["status"].get("phase") == "Pending"]
    assert len(pending) >= 300 - 253
    node = member.store.get(types.NODES, None, member.options.node_name)
    assert node["spec"]["podCIDR"] == "10.42.0.0/24"


async def test_the_range_binderctl_asks_for_holds_max_pods(running: Running) -> None:
    member = await running(max_pods=336, quota=400)  # the mask cloud-init sets: a /23
    launch_storm(member, 300)
    await until(lambda: len(session_pods(member)) == 300 and all(
        p["status"].get("podIP") for p in session_pods(member)))  # fmt: skip
    assert not _no_sandbox(member)
