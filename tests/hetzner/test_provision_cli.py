"""`binderctl --provision` and `binderctl teardown` as subprocesses against the demo world."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import hcloud
import pytest
from hcloud.images import Image
from hcloud.server_types import ServerType

from binderctl.demo.hetzner import HetznerEmulator
from binderctl.demo.world import DemoWorld
from binderctl.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_REFUSED, EXIT_USAGE
from binderctl.services.provision import STEPS
from tests.kit.cli import RunCli, run_on_terminal, start_cli
from tests.kit.worlds import NOTHING, ONE_OF_EACH

Labelled = Callable[[], dict[str, list[str]]]
# step -> the request that creates its resource, and where the emulator keeps it
CREATES = {
    "ssh-key": ("/ssh_keys", "ssh_keys"),
    "firewall": ("/firewalls", "firewalls"),
    "primary-ip": ("/primary_ips", "primary_ips"),
    "server": ("/servers", "servers"),
}


TITLES = {step.title for step in STEPS}


def outcomes(stderr: str) -> list[str]:
    """The outcome column of the finished-step lines (not notices or waiting lines)."""
    return [
        line[17:23].strip()
        for line in stderr.splitlines()
        if line[:16].strip() in TITLES and line[17:20] != "..."
    ]


def state_file(world: DemoWorld) -> Path:
    return world.home / "state" / "demo" / "provision.json"


def test_provision_twice_creates_nothing_the_second_time(
    cli: RunCli, world: DemoWorld, labelled: Labelled
) -> None:
    first = cli("--provision", "--yes")
    assert first.returncode == 0, first.stderr
    assert outcomes(first.stderr) == ["done"] * len(STEPS)
    assert "Member demo is provisioned." in first.stdout
    assert "*.demo.binder.test" in first.stdout
    second = cli("--provision", "-o", "json")
    assert second.returncode == 0, second.stderr
    assert outcomes(second.stderr) == ["ok"] * len(STEPS)
    document = json.loads(second.stdout)
    ipv4 = document["server"]["ipv4"]
    assert ipv4 in [str(host) for host in world.network.hosts()]
    assert document["dns"] == [
        {"name": "demo.binder.test", "type": "A", "value": ipv4},
        {"name": "*.demo.binder.test", "type": "A", "value": ipv4},
    ]
    assert labelled() == ONE_OF_EACH


def test_dry_run_shows_the_plan_and_changes_nothing(
    cli: RunCli, labelled: Labelled, emulator: HetznerEmulator
) -> None:
    plan = cli("--provision", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert [line.split()[:2] for line in plan.stdout.splitlines()[1:]] == [
        ["create", "SSH"],
        ["create", "firewall"],
        ["create", "primary"],
        ["create", "server"],
    ]
    document = json.loads(cli("--provision", "--dry-run", "-o", "json").stdout)
    assert [item["action"] for item in document["plan"]] == ["create"] * 4
    assert labelled() == NOTHING
    assert not (emulator.project.servers or emulator.project.ssh_keys)


def test_a_lost_answer_fails_clearly_and_the_next_run_finishes(
    cli: RunCli, emulator: HetznerEmulator, labelled: Labelled
) -> None:
    emulator.faults.fail("POST", "/servers", reset=True, after=True)
    failed = cli("--provision", "--yes")
    assert failed.returncode == EXIT_FAILED
    assert "(connection lost)" in failed.stderr and "Traceback" not in failed.stderr
    finished = cli("--provision", "--yes")
    assert finished.returncode == 0, finished.stderr
    assert labelled() == ONE_OF_EACH


@pytest.mark.parametrize("step", list(CREATES))
def test_ctrl_c_at_each_step_then_the_next_run_finishes(
    step: str, world: DemoWorld, emulator: HetznerEmulator, labelled: Labelled, cli: RunCli
) -> None:
    path, kept_in = CREATES[step]
    emulator.faults.fail("POST", path, delay=60, status=None, after=True)
    process = start_cli(world, "--provision", "--yes")
    deadline = time.monotonic() + 30
    while not getattr(emulator.project, kept_in):
        assert process.poll() is None and time.monotonic() < deadline, "never got there"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == EXIT_INTERRUPTED
    assert "binderctl: interrupted" in stderr and "Traceback" not in stderr
    assert json.loads(state_file(world).read_text())["steps"][step]["state"] == "interrupted"
    finished = cli("--provision", "--yes")
    assert finished.returncode == 0, finished.stderr
    assert labelled() == ONE_OF_EACH


def test_teardown_leaves_nothing_and_asks_first(
    cli: RunCli, world: DemoWorld, labelled: Labelled
) -> None:
    assert cli("--provision", "--yes").returncode == 0
    refused = cli("teardown")
    assert refused.returncode == EXIT_REFUSED
    assert "no terminal to ask on" in refused.stderr and "--yes" in refused.stderr
    assert labelled() == ONE_OF_EACH
    kept = cli("teardown", "--yes", "--keep-ip")
    assert kept.returncode == 0, kept.stderr
    assert "kept    primary IP binderctl-demo-ipv4" in kept.stdout
    assert labelled() == {**NOTHING, "primary_ips": ["binderctl-demo-ipv4"]}
    assert not state_file(world).exists()
    assert cli("--provision", "--yes").returncode == 0
    gone = cli("teardown", "--yes", "-o", "json")
    assert gone.returncode == 0, gone.stderr
    assert len(json.loads(gone.stdout)["deleted"]) == 4
    assert labelled() == NOTHING
    audit = (world.home / "state" / "demo" / "audit.jsonl").read_text().splitlines()
    outcomes = [(r["action"], r["outcome"]) for r in map(json.loads, audit)]
    assert ("teardown", "refused") in outcomes and outcomes[-1] == ("teardown", "ok")
    again = cli("teardown", "--yes")
    assert again.returncode == 0 and "has nothing at Hetzner" in again.stderr


def test_read_only_refuses(cli: RunCli, labelled: Labelled) -> None:
    result = cli("--provision", "--yes", "--readonly")
    assert result.returncode == EXIT_REFUSED and "read-only" in result.stderr
    assert labelled() == NOTHING


def other_config(world: DemoWorld, **changes: str) -> dict[str, str]:
    text = world.config_path.read_text()
    for key, value in changes.items():
        text = "\n".join(
            f'{key} = "{value}"' if line.startswith(f"{key} =") else line
            for line in text.splitlines()
        )
    path = world.directory / "other.toml"
    path.write_text(text)
    return {"BINDERCTL_CONFIG": str(path)}


def test_each_api_error_has_its_message_and_exit_code(
    cli: RunCli, world: DemoWorld, emulator: HetznerEmulator, api: hcloud.Client
) -> None:
    outputs: list[str] = []

    def fails(expected: str, code: int, *args: str, env: dict[str, str] | None = None) -> None:
        result = cli("--provision", "--yes", *args, env=env)
        outputs.extend((result.stdout, result.stderr))
        assert result.returncode == code, result.stderr
        assert expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr

    fails("refused the token", EXIT_USAGE, env={"HCLOUD_TOKEN": "wrong-token-0123456789"})
    fails("no Hetzner API token", EXIT_USAGE, env={"HCLOUD_TOKEN": ""})
    fails(
        "offered there: ccx13, ccx23, ccx33, ccx43, ccx53, ccx63, cpx11, cpx21, cpx31",
        EXIT_USAGE,
        env=other_config(world, location="sin", server_type="cx22"),
    )
    emulator.faults.server_limit = 0
    fails("the Hetzner project has reached an account limit", EXIT_FAILED)
    emulator.faults.server_limit = None
    api.servers.create(
        "binderctl-demo", server_type=ServerType(name="cx22"), image=Image(name="ubuntu-24.04")
    )
    fails("already has a resource with the same name", EXIT_FAILED)
    emulator.rate_limit.remaining = 0
    fails("rate limit is used up", EXIT_FAILED)
    assert "retry after" in outputs[-1]
    emulator.rate_limit.remaining = 3600
    emulator.faults.error_rate = 1.0
    emulator.faults.error_statuses = (503,)
    fails("the Hetzner API failed (unavailable", EXIT_FAILED)
    emulator.faults.error_rate = 0.0
    assert all("wrong-token" not in text and world.token not in text for text in outputs)


def test_the_token_appears_nowhere(cli: RunCli, world: DemoWorld) -> None:
    outputs = []
    for args in (
        ["--provision", "--dry-run"],
        ["--provision", "--yes", "-o", "json"],
        ["--provision", "--yes"],
        ["teardown", "--yes", "--keep-ip"],
        ["--provision", "--yes"],
    ):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        outputs += [result.stdout, result.stderr]
    assert all(world.token not in text for text in outputs)
    files = [p for p in world.directory.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"config.toml", "provision.json", "audit.jsonl"}
    assert all(world.token.encode() not in p.read_bytes() for p in files)


def test_on_a_terminal_it_asks_and_no_is_the_default(world: DemoWorld, labelled: Labelled) -> None:
    declined = run_on_terminal(world, "\n", "--provision")
    assert declined.returncode == EXIT_REFUSED
    assert "create  server" in declined.stderr and "[y/N]" in declined.stderr
    assert labelled() == NOTHING
    accepted = run_on_terminal(world, "y\n", "--provision")
    assert accepted.returncode == 0, accepted.stderr
    assert "Member demo is provisioned." in accepted.stdout
    kept = run_on_terminal(world, "no\n", "teardown")
    assert kept.returncode == EXIT_REFUSED and "not confirmed" in kept.stderr
    assert labelled() == ONE_OF_EACH
    gone = run_on_terminal(world, "yes\n", "teardown")
    assert gone.returncode == 0, gone.stderr
    assert labelled() == NOTHING
