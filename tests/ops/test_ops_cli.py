"""The headless read commands as a subprocess: status (text and JSON), sessions,
builds, events; missing or unreachable clusters give a clear message, not a traceback."""

from __future__ import annotations

import json
import os
import socket
import tomllib
from collections.abc import Callable

import pytest
import tomli_w

from binderctl.demo.kube import types
from binderctl.services.kube import EVENTS, Kube
from tests.kit.cli import run_cli
from tests.ops.ops_world import MEMBER, OpsWorld


def test_status_json_matches_the_cluster(world: OpsWorld) -> None:
    result = run_cli(world, "status", "-o", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    sessions = world.pods("singleuser-server")
    assert document["member"] == MEMBER
    assert document["sessions"]["total"] == len(sessions)
    assert document["sessions"]["quota"] == 100
    assert document["rotation"]["in_rotation"] is True
    assert document["health"]["ok"] is True
    assert {c["service"] for c in document["health"]["checks"]} == {
        "Docker registry",
        "JupyterHub API",
        "Pod quota",
    }
    node = document["node"]
    assert node["name"] == "demo" and node["pods"]["max"] == 336
    assert node["cpu"]["capacity"] == 48 and node["memory"]["used"] > 0
    assert set(document["components"]) == {"hub", "binder", "proxy", "dind"}
    assert document["certificate"]["seconds_left"] > 300 * 86400
    assert document["firewall"]["world_open_ports"] == []
    assert document["problems"] == []


def test_status_text_fits_80_columns(world: OpsWorld) -> None:
    env_columns = os.environ.get("COLUMNS")
    try:
        os.environ["COLUMNS"] = "80"
        result = run_cli(world, "status")
    finally:
        if env_columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = env_columns
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    text = result.stdout
    for label in ("health", "rotation", "sessions", "builds", "node", "components", "certificate"):
        assert any(line.startswith(label) for line in lines), label
    assert "IN ROTATION: launch quota 100" in text


def test_status_reports_problems(make_world: Callable[..., OpsWorld]) -> None:
    world = make_world(sessions=3, speed=1.0)
    world.sim.faults.registry_down = True

    def cordon(node: dict) -> None:
        node["spec"]["unschedulable"] = True

    world.on_loop(lambda: world.store.mutate(types.NODES, None, "demo", cordon))
    result = run_cli(world, "status", "-o", "json")
    document = json.loads(result.stdout)
    assert document["health"]["ok"] is False
    problems = " ".join(document["problems"])
    assert "Docker registry" in problems and "cordoned" in problems
    text = run_cli(world, "status").stdout
    assert "needs attention:" in text and "FAILING" in text


def test_lists(world: OpsWorld) -> None:
    sessions = run_cli(world, "sessions", "-o", "json")
    assert sessions.returncode == 0, sessions.stderr
    rows = json.loads(sessions.stdout)
    assert {r["pod"] for r in rows} == {
        p["metadata"]["name"] for p in world.pods("singleuser-server")
    }
    assert all(r["repo"].startswith("https://") and r["ref"] for r in rows)
    repo = rows[0]["repo"]
    one_repo = json.loads(run_cli(world, "sessions", "--repo", repo, "-o", "json").stdout)
    assert one_repo and {r["repo"] for r in one_repo} == {repo}
    table = run_cli(world, "sessions")
    assert table.stdout.splitlines()[0].split() == [
        "POD", "REPO", "REF", "AGE", "PHASE", "CPU", "MEM",
    ]  # fmt: skip
    assert run_cli(world, "builds", "-o", "json").returncode == 0
    events = run_cli(world, "events", "--limit", "5", "-o", "json")
    assert events.returncode == 0 and isinstance(json.loads(events.stdout), list)


def test_not_provisioned_and_unreachable(world: OpsWorld) -> None:
    kubeconfig = world.home / "data" / MEMBER / "kubeconfig"
    text = kubeconfig.read_text()
    kubeconfig.unlink()
    missing = run_cli(world, "status")
    assert missing.returncode == 2
    assert "not provisioned yet: run binderctl --provision" in missing.stderr
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    server = world.url
    kubeconfig.write_text(text.replace(server, f"https://127.0.0.1:{closed}"))
    unreachable = run_cli(world, "sessions")
    assert unreachable.returncode == 1
    assert "cannot reach the Kubernetes API" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr


def test_usage_errors_exit_2(world: OpsWorld) -> None:
    for args in (
        ["logs", "hub", "--tail", "-3"],
        ["drain", "--force-after", "soon"],
        ["kill-session"],
        ["kill-session", "jupyter-x", "--repo", "r"],
        ["restart", "everything"],
        ["audit", "--since", "1y"],
    ):
        result = run_cli(world, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_status_warns_when_the_firewall_is_open_to_the_world(world: OpsWorld) -> None:
    document = tomllib.loads(world.config_path.read_text())
    table = document["members"][MEMBER]
    table.update(ssh_allowed_cidrs=["0.0.0.0/0"], allow_world_access=True)
    world.config_path.write_text(tomli_w.dumps(document))
    result = run_cli(world, "status", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["firewall"]["world_open_ports"] == [22, 6443]  # the API list defaults to it
    assert any("port 22 to the whole internet" in p for p in report["problems"])


def test_events_to_a_pipe_are_whole_lines(world: OpsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """`binderctl events | cat`: nothing is cut when stdout is not a terminal (a
    terminal's width shortens the object in its middle and the message at its end)."""
    pod = f"jupyter-{'binder-2dexamples-2drequirements-' * 3}x7k2q"
    message = "0/1 nodes are available: " + "1 node(s) had untolerated taint. " * 12
    event = {
        "metadata": {"name": f"{pod}.1", "namespace": "binderhub"},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": "binderhub"},
        "reason": "FailedScheduling",
        "message": message,
        "type": "Warning",
        "count": 3,
    }
    with Kube(world.member) as kube:
        kube.post(EVENTS, event, namespace="binderhub")
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = run_cli(world, "events")
    assert piped.returncode == 0, piped.stderr
    (line,) = [line for line in piped.stdout.splitlines() if "FailedScheduling" in line]
    assert f"Pod/{pod}" in line and line.endswith(message.strip())
    narrow = run_cli(world, "events", env={"COLUMNS": "100"})
    (short,) = [line for line in narrow.stdout.splitlines() if "FailedScheduling" in line]
    assert len(short) <= 100 and short.split()[2].endswith("x7k2q")  # the name's end stays
