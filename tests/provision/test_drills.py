"""Fire drills end to end: each drill started through `binderctl demo drill` on a
provisioned demo member, named by `binderctl status -o json`, resolved by the action it
names (run through the CLI), and scored with that audited action; the control
endpoint refuses requests without the world's token and listens on loopback only."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from binderctl.demo.drills.catalogue import DRILLS
from binderctl.demo.drills.client import CONTROL_ENV, CONTROL_TOKEN_ENV
from binderctl.demo.world import DemoWorld
from tests.kit.cli import run_cli
from tests.kit.worlds import QUICK

RESOLVE_WITHIN = 60.0  # seconds (not a measurement: a bound on a hung test)


@pytest.fixture(scope="module")
def member(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    folder: Path = tmp_path_factory.mktemp("drills") / "demo"
    with DemoWorld(folder, **QUICK, sessions=20) as world:
        world.provision()
        yield world


def cli_json(world: DemoWorld, *args: str) -> dict:
    done = run_cli(world, *args, "-o", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def drill_state(world: DemoWorld) -> dict:
    return cli_json(world, "demo", "drill", "status")["current"]


def wait_resolved(world: DemoWorld, name: str) -> dict:
    deadline = time.monotonic() + RESOLVE_WITHIN
    while (run := drill_state(world))["state"] != "resolved" or run["name"] != name:
        assert run["state"] == "running", run
        assert time.monotonic() < deadline, f"drill {name} did not resolve: {run}"
        time.sleep(0.3)
    return run


def named_by_status(world: DemoWorld, name: str) -> str:
    """The text of the attention item of `binderctl status -o json` that names the drill
    (an item of one of its kinds), once one does (a chart change takes the install
    Job's time to show)."""
    kinds = DRILLS[name].kinds
    deadline = time.monotonic() + RESOLVE_WITHIN
    while True:
        done = run_cli(world, "status", "-o", "json")
        assert done.returncode in (0, 1), done.stderr  # 1: an error-level item
        items = json.loads(done.stdout)["attention"]
        named = [item["text"] for item in items if item["kind"] in kinds]
        if named:
            return named[0]
        assert time.monotonic() < deadline, f"status does not name drill {name}: {items}"
        time.sleep(0.3)


@pytest.mark.parametrize(
    ("name", "fix", "action"),
    [
        ("hung-build", ("restart", "dind"), "restart"),
        ("disk-pressure", ("prune-images",), "prune-images"),
        ("launch-storm", ("kill-session", "--repo", "REPO"), "kill-session"),
        ("cert-expiring", ("renew-certs",), "renew-certs"),
        ("hub-crashloop", ("--provision",), "provision"),
        ("versions-drift", ("--provision",), "provision"),
        ("node-unreachable", ("reboot",), "reboot"),
    ],
)
def test_a_drill_is_named_by_status_and_resolved_by_its_action(
    member: DemoWorld, name: str, fix: tuple[str, ...], action: str
) -> None:
    started = cli_json(member, "demo", "drill", "start", name)
    assert started["state"] == "running" and started["name"] == name
    named_by_status(member, name)
    assert drill_state(member)["state"] == "running"  # nothing resolves it but the action
    if "REPO" in fix:
        repo = started["detail"].rsplit("github.com/", 1)[1]
        fix = tuple(repo if part == "REPO" else part for part in fix)
    done = run_cli(member, *fix, "--yes")
    assert done.returncode == 0, done.stderr
    run = wait_resolved(member, name)
    assert run["detected_at"] is not None and run["seconds_to_detect"] >= 0
    assert run["seconds_to_resolve"] >= run["seconds_to_detect"]
    assert [a["action"] for a in run["resolved_by"]] == [action]
    assert run["resolved_by"][0]["outcome"] == "ok"


def test_the_abusive_session_drill_is_resolved_by_a_ban_with_kill(member: DemoWorld) -> None:
    started = cli_json(member, "demo", "drill", "start", "abusive-session")
    repos = re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", started["detail"])
    assert len(repos) == 2  # the miner's and the scanner's
    assert "like abuse" in named_by_status(member, "abusive-session")
    done = run_cli(member, "ban", *repos, "--kill", "--reason", "drill", "--yes")
    assert done.returncode == 0, done.stderr
    run = wait_resolved(member, "abusive-session")
    assert [a["action"] for a in run["resolved_by"]] == ["ban"]
    assert run_cli(member, "unban", *repos, "--yes").returncode == 0  # as it was


@pytest.mark.parametrize(
    ("name", "named"), [("registry-down", "Docker registry"), ("hetzner-down", "Hetzner API")]
)
def test_a_drill_that_ends_by_itself(member: DemoWorld, name: str, named: str) -> None:
    # 100 simulated seconds at the world's speed: five real seconds
    started = cli_json(member, "demo", "drill", "start", name, "--duration", "100")
    assert started["resolves_itself"]
    assert named in named_by_status(member, name)
    run = wait_resolved(member, name)
    assert run["resolved_by"] == []


def test_stop_undoes_the_fault_and_one_drill_at_a_time(member: DemoWorld) -> None:
    cli_json(member, "demo", "drill", "start", "hung-build")
    second = run_cli(member, "demo", "drill", "start", "disk-pressure")
    assert second.returncode == 1
    assert "drill hung-build is running" in second.stderr
    stopped = cli_json(member, "demo", "drill", "stop")
    assert stopped["state"] == "stopped"
    items = json.loads(run_cli(member, "status", "-o", "json").stdout)["attention"]
    assert "builds-stuck" not in {item["kind"] for item in items}
    assert run_cli(member, "demo", "drill", "stop").returncode == 1


def test_unknown_drill_and_bad_duration_are_usage_errors(member: DemoWorld) -> None:
    unknown = run_cli(member, "demo", "drill", "start", "meteor-strike")
    assert unknown.returncode == 2
    assert "no drill 'meteor-strike'" in unknown.stderr and "hung-build" in unknown.stderr
    bad = run_cli(member, "demo", "drill", "start", "registry-down", "--duration", "soon")
    assert bad.returncode == 2 and "not a number" in bad.stderr
    assert "Traceback" not in unknown.stderr + bad.stderr


def test_without_the_demo_the_drill_commands_say_how_to_get_one(member: DemoWorld) -> None:
    done = run_cli(member, "demo", "drill", "list", env={CONTROL_ENV: "", CONTROL_TOKEN_ENV: ""})
    assert done.returncode == 1
    assert "no demo to drill" in done.stderr and "binderctl demo --env-file" in done.stderr


def test_the_control_endpoint_wants_the_token_and_listens_on_loopback(member: DemoWorld) -> None:
    url = member.env[CONTROL_ENV]
    assert httpx.URL(url).host == "127.0.0.1"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "token"}):
        for method, path in (("GET", "/drills"), ("POST", "/drills/hung-build/start")):
            answer = httpx.request(method, url + path, headers=headers)
            assert answer.status_code == 401, (method, path, headers)
    assert (
        drill_state(member) is None
        or drill_state(member)["name"] != "hung-build"
        or (drill_state(member)["state"] != "running")
    )
    good = {"Authorization": f"Bearer {member.env[CONTROL_TOKEN_ENV]}"}
    assert httpx.get(url + "/drills", headers=good).status_code == 200
