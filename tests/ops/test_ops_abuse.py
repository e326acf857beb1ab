"""Abuse response on a simulated member: a miner's repository banned with --kill (its
sessions gone, a new launch refused by BinderHub with its own message, `bans` lists the
ban, one audit record), unbanned again, and the abuse report quoting what the kubelet
served for the sessions the ban ended."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from binderctl.demo.member import incidents
from binderctl.demo.member.usage import MINER, SCANNER
from binderctl.services import audit
from tests.kit.cli import run_cli
from tests.kit.launches import launch_events
from tests.kit.waiting import wait_for
from tests.kube.kube_kubectl import needs_kubectl
from tests.ops.ops_world import MEMBER, OpsWorld

SPEED = 20.0  # the install job and a binder start take under a second
REFUSED = "Sorry, {spec} is not allowed to launch. Please contact admins for more info!"


def launch(world: OpsWorld, spec: str) -> list[dict]:
    return launch_events(world.member, "127.0.0.1", spec)


def running(world: OpsWorld, repo: str) -> list[str]:
    return [
        p["metadata"]["name"]
        for p in world.pods("singleuser-server")
        if not p["metadata"].get("deletionTimestamp")
        and (p.get("status") or {}).get("phase") == "Running"
        and any(e.get("value") == repo for c in p["spec"]["containers"] for e in c["env"])
    ]


def misbehave(world: OpsWorld, kind: str, count: int) -> tuple[str, list[str]]:
    repo, pods = world.on_loop(incidents.misbehave, world.sim, kind, count)
    wait_for(lambda: len(running(world, repo)) == count, 30, f"{kind} sessions running")
    return repo, pods


@pytest.fixture
def abused(make_world: Callable[..., OpsWorld]) -> OpsWorld:
    return make_world(sessions=8, speed=SPEED, cull_timeout=86400.0)


def test_ban_kill_keeps_the_miner_out_with_one_record_and_the_evidence(
    abused: OpsWorld,
) -> None:
    world = abused
    repo, pods = misbehave(world, MINER, 2)
    spec = repo.removeprefix("https://github.com/") + "/HEAD"
    assert launch(world, spec)[-1]["phase"] == "ready"  # not banned: it launches
    wait_for(lambda: len(running(world, repo)) == 3, 30, "the third session")
    uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in world.pods("singleuser-server")}
    miners = set(running(world, repo))
    others = len(uids) - len(miners)

    done = run_cli(world, "ban", repo, "--kill", "--reason", "mining", "--yes")
    assert done.returncode == 0, done.stderr
    assert "killed 3 session(s)" in done.stdout
    wait_for(lambda: not running(world, repo), 10, "the miner's sessions gone")
    assert len(world.pods("singleuser-server")) >= others  # nothing else was killed

    refused = launch(world, spec)
    assert refused == [{"phase": "failed", "message": REFUSED.format(spec=spec)}]
    assert launch(world, spec.upper())[-1]["message"].startswith("Sorry")  # any case
    assert not running(world, repo)

    bans = json.loads(run_cli(world, "bans", "-o", "json").stdout)
    (ban,) = bans["bans"]
    assert ban["repo"] == repo and ban["reason"] == "mining" and ban["user"]
    assert ban["patterns"]["GitHubRepoProvider"] == "^demo-abuse/gpu-notebook-free(?:\\.git)?/"

    (record,) = audit.read(world.member.name)
    assert record.action == "ban" and record.outcome == "ok"
    assert record.targets[repo] == "banned"
    killed = {name for name, outcome in record.targets.items() if outcome == "deleted"}
    assert killed == miners and set(pods) < miners

    reported = run_cli(world, "abuse", "report", "--repo", repo, "-o", "json")
    assert reported.returncode == 0, reported.stderr
    path = Path(reported.stdout.strip())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    report = json.loads(path.read_text())
    assert report["public_ipv4"] == "127.0.0.1"  # the node's address (no Hetzner here)
    assert report["window"]["start"] and report["window"]["end"]
    served = world.on_loop(lambda: dict(world.sim.kubelet_stats.served))
    assert {s["pod"] for s in report["sessions"]} == miners
    for session in report["sessions"]:
        counted = ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")
        read_by_the_ban = served[uids[session["pod"]]][-1]
        assert tuple(session[name] for name in counted) == read_by_the_ban
        assert session["ended_by"] == "ban --kill" and session["ended"]
        assert session["cpu_peak"] >= 0.9  # a miner at its limit of one core
    assert [a["action"] for a in report["actions"]] == ["ban"]

    undone = run_cli(world, "unban", repo, "--yes")
    assert undone.returncode == 0, undone.stderr
    assert launch(world, spec)[-1]["phase"] == "ready"
    assert json.loads(run_cli(world, "bans", "-o", "json").stdout)["bans"] == []


def test_status_names_the_miner_and_the_scanner(abused: OpsWorld) -> None:
    miner, _ = misbehave(abused, MINER, 1)
    scanner, _ = misbehave(abused, SCANNER, 1)
    done = run_cli(abused, "status", "-o", "json")
    items = [i for i in json.loads(done.stdout)["attention"] if i["kind"] == "abuse-suspected"]
    assert {i["target"] for i in items} == {miner, scanner}
    assert all(i["action"] == "ban" for i in items)
    text = " ".join(i["text"] for i in items)
    assert "CPU at" in text and "pkt/s out" in text


def test_bad_repositories_are_usage_errors(abused: OpsWorld) -> None:
    for words in (["ban", "not a repo"], ["ban", "ftp://x.org/a/b"], ["unban", "org"]):
        done = run_cli(abused, *words, "--yes")
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
    unbanned = run_cli(abused, "unban", "org/never-banned", "--yes")
    assert unbanned.returncode == 1 and "not banned by binderctl" in unbanned.stderr


@needs_kubectl
def test_kubectl_reads_the_kubelets_stats_through_the_node_proxy(world: OpsWorld) -> None:
    def kubectl(path: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": str(world.home / "data" / MEMBER / "kubeconfig")}
        return subprocess.run(
            ["kubectl", "get", "--raw", path], capture_output=True, text=True, env=env, timeout=60
        )

    summary = json.loads(kubectl("/api/v1/nodes/demo/proxy/stats/summary").stdout)
    assert summary["node"]["nodeName"] == "demo"
    assert sum(1 for p in summary["pods"] if p["podRef"]["name"].startswith("jupyter-")) == 30
    metrics = kubectl("/api/v1/nodes/demo/proxy/metrics/cadvisor").stdout
    assert "# TYPE container_network_transmit_packets_total counter" in metrics
    missing = kubectl("/api/v1/nodes/demo/proxy/stats/nothing")
    assert missing.returncode == 1 and "NotFound" in missing.stderr
    nowhere = kubectl("/api/v1/nodes/elsewhere/proxy/stats/summary")
    assert nowhere.returncode == 1 and 'nodes "elsewhere" not found' in nowhere.stderr
