"""`binderctl watch` against a provisioned demo member and a real webhook receiver: each
fault fires one notice after its "for" and one resolved notice after; a flap shorter
than "for" fires nothing; with the receiver down, and across a SIGKILL of the watcher,
every notice arrives afterwards, in order, none twice; no secret shows anywhere."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from binderctl.demo.world import MEMBER, DemoWorld
from tests.kit.cli import BINDERCTL, run_cli, subprocess_env
from tests.kit.waiting import wait_for
from tests.kit.worlds import QUICK
from tests.watch.receiver import Receiver

WITHIN = 90.0  # seconds: a bound on a hung test, not a measurement
HOOK_ENV = "BINDERCTL_WATCH_HOOK"
SECRET_PATH = "/hook/s3cret-webhook-path"
WATCH_TABLE = """
[watch]
interval = "1s"
[watch.targets.hook]
kind = "webhook"
"""
DEFAULT_FOR = "2s"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    folder: Path = tmp_path_factory.mktemp("watch") / "demo"
    with DemoWorld(folder, sessions=20, **QUICK) as world:
        world.provision()
        text = world.config_path.read_text() + WATCH_TABLE
        text += "".join(
            f'[watch.rules.{kind}]\nfor = "{DEFAULT_FOR}"\n'
            for kind in (
                "disk-pressure", "disk-full", "certificate", "at-quota", "max-pods",
                "out-of-rotation", "health-failing", "budget-projection", "budget-over",
            )
        )  # fmt: skip
        world.config_path.write_text(text)
        yield world


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def start_watch(world: DemoWorld, receiver: Receiver, fresh: bool = True) -> subprocess.Popen[str]:
    """``binderctl watch`` on the world; ``fresh``: without what earlier tests' watchers
    left (their firing rules would resolve here)."""
    if fresh:
        shutil.rmtree(world.home / "state" / "watch", ignore_errors=True)
    return subprocess.Popen(
        [str(BINDERCTL), "watch"],
        env=subprocess_env(world, {HOOK_ENV: receiver.url + SECRET_PATH}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    return out, err


def of_kind(receiver: Receiver, kinds: set[str], state: str) -> list[dict[str, Any]]:
    return [n for n in receiver.notices() if n["kind"] in kinds and n["state"] == state]


def cli(world: DemoWorld, *args: str) -> dict[str, Any]:
    done = run_cli(world, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "-o" in args else {}


def fires_and_resolves(
    world: DemoWorld, receiver: Receiver, kinds: set[str], start: Callable[[], None],
    fix: Callable[[], None],
) -> None:  # fmt: skip
    start()
    fired = wait_for(lambda: of_kind(receiver, kinds, "firing"), WITHIN, f"{kinds} firing")
    fix()
    resolved = wait_for(lambda: of_kind(receiver, kinds, "resolved"), WITHIN, f"{kinds} resolved")
    time.sleep(2.5)  # a little more than one "for": nothing else of these kinds comes
    assert len(of_kind(receiver, kinds, "firing")) == 1, receiver.notices()
    assert len(of_kind(receiver, kinds, "resolved")) == 1, receiver.notices()
    notice = fired[0]
    assert notice["member"] == MEMBER and notice["severity"] in ("error", "warning")
    assert notice["since"] <= notice["at"]
    assert resolved[0]["since"] == notice["since"]


def drill(world: DemoWorld, name: str) -> Callable[[], None]:
    return lambda: cli(world, "demo", "drill", "start", name, "-o", "json") and None


def test_each_fault_fires_once_and_resolves_once(world: DemoWorld, receiver: Receiver) -> None:
    watcher = start_watch(world, receiver)
    try:
        fires_and_resolves(
            world, receiver, {"disk-pressure", "disk-full"}, drill(world, "disk-pressure"),
            lambda: cli(world, "prune-images", "--yes"),
        )  # fmt: skip
        fires_and_resolves(
            world, receiver, {"certificate"}, drill(world, "cert-expiring"),
            lambda: cli(world, "renew-certs", "--yes"),
        )  # fmt: skip
        fires_and_resolves(
            world, receiver, {"out-of-rotation"}, drill(world, "versions-drift"),
            lambda: cli(world, "demo", "drill", "stop", "-o", "json") and None,
        )  # fmt: skip
        text = world.config_path.read_text()
        fires_and_resolves(
            world, receiver, {"budget-projection", "budget-over"},
            lambda: world.config_path.write_text(text.replace(MEMBER_TABLE, MEMBER_TABLE + CAP)),
            lambda: world.config_path.write_text(text),
        )  # fmt: skip
    finally:
        _, err = stop(watcher)
        print(err[-5000:])
    assert "Traceback" not in err
    assert "s3cret" not in err


MEMBER_TABLE = f"[members.{MEMBER}]\n"
CAP = "budget_cap_eur = 1\n"  # the month's projection is over it at once


def test_a_flap_shorter_than_for_sends_nothing(world: DemoWorld, receiver: Receiver) -> None:
    text = world.config_path.read_text()
    slow = text.replace(f'[watch.rules.certificate]\nfor = "{DEFAULT_FOR}"', SLOW_RULE)
    assert slow != text
    world.config_path.write_text(slow)
    watcher = start_watch(world, receiver)
    try:
        drill(world, "cert-expiring")()
        wait_for(lambda: "certificate" in attention(world), WITHIN, "status to name the cert")
        time.sleep(3)  # several evaluations with the finding there, all inside its "for"
        cli(world, "renew-certs", "--yes")
        wait_for(lambda: "certificate" not in attention(world), WITHIN, "the renewal")
        time.sleep(2)
    finally:
        stop(watcher)
        world.config_path.write_text(text)
    assert of_kind(receiver, {"certificate"}, "firing") == []
    assert of_kind(receiver, {"certificate"}, "resolved") == []


SLOW_RULE = '[watch.rules.certificate]\nfor = "10m"'


def attention(world: DemoWorld) -> set[str]:
    done = run_cli(world, "status", "-o", "json")
    return {item["kind"] for item in json.loads(done.stdout)["attention"]}


def test_nothing_is_lost_or_repeated_while_the_receiver_is_down_and_across_sigkill(
    world: DemoWorld, receiver: Receiver
) -> None:
    receiver.down = True
    watcher = start_watch(world, receiver)
    try:
        drill(world, "cert-expiring")()
        wait_for(lambda: queued(world, "firing"), WITHIN, "the firing notice queued")
        cli(world, "renew-certs", "--yes")
        wait_for(lambda: queued(world, "resolved"), WITHIN, "the resolved notice queued")
    finally:
        stop(watcher, signal.SIGKILL)
    receiver.down = False
    watcher = start_watch(world, receiver, fresh=False)
    try:
        wait_for(lambda: len(cert_notices(receiver)) >= 2, WITHIN, "both notices")
        time.sleep(2)
    finally:
        stop(watcher)
    notices = cert_notices(receiver)
    assert [n["state"] for n in notices] == ["firing", "resolved"]
    assert len({n["id"] for n in notices}) == 2


def of_one_kind(receiver: Receiver, kind: str) -> list[dict[str, Any]]:
    return [n for n in receiver.notices() if n["kind"] == kind]


def cert_notices(receiver: Receiver) -> list[dict[str, Any]]:
    return of_one_kind(receiver, "certificate")


def disk_notices(receiver: Receiver) -> list[dict[str, Any]]:
    return of_one_kind(receiver, "disk-pressure")


def queued(world: DemoWorld, state: str) -> bool:
    """Whether the outbox holds a certificate notice in ``state``."""
    done = run_cli(world, "watch", "status", "-o", "json")
    assert done.returncode == 0, done.stderr
    outbox = json.loads(done.stdout)["outbox"]
    return any(q["kind"] == "certificate" and q["state"] == state for q in outbox)


def test_watch_status_and_once_say_what_fires_without_the_secret(
    world: DemoWorld, receiver: Receiver
) -> None:
    env = {HOOK_ENV: receiver.url + SECRET_PATH}
    once = run_cli(world, "watch", "--once", env=env)
    assert once.returncode in (0, 4), once.stderr
    status = run_cli(world, "watch", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert "target hook (webhook)" in status.stdout
    assert "environment variable BINDERCTL_WATCH_HOOK" in status.stdout
    for text in (once.stdout, once.stderr, status.stdout, status.stderr):
        assert "s3cret" not in text
    for path in (world.home / "state" / "watch").rglob("*"):
        if path.is_file():
            assert "s3cret" not in path.read_text(errors="replace")
            assert oct(path.stat().st_mode & 0o777) == "0o600", path


def test_an_auto_action_runs_by_itself_once_and_is_audited(
    world: DemoWorld, receiver: Receiver
) -> None:
    text = world.config_path.read_text()
    rule = f'[watch.rules.disk-pressure]\nfor = "{DEFAULT_FOR}"'
    world.config_path.write_text(text.replace(rule, rule + '\nauto_action = "prune-images"'))
    watcher = start_watch(world, receiver)
    try:
        drill(world, "disk-pressure")()
        wait_for(lambda: disk_notices(receiver), WITHIN, "the firing notice")
        # nobody prunes: the watcher does, and the pressure resolves
        wait_for(lambda: len(disk_notices(receiver)) >= 2, WITHIN, "the resolved notice")
    finally:
        _, err = stop(watcher)
        world.config_path.write_text(text)
    audit = json.loads(run_cli(world, "audit", "-o", "json").stdout)
    by_watch = [r for r in audit if r["user"].startswith("binderctl watch")]
    assert [(r["action"], r["outcome"]) for r in by_watch] == [("prune-images", "ok")], err
    assert by_watch[0]["user"] == "binderctl watch (rule disk-pressure)"


def test_a_quota_headroom_breach_fires_once_and_resolves_once(
    world: DemoWorld, receiver: Receiver
) -> None:
    """Last: the storm's sessions leave the member busy for the tests after it."""
    repo: list[str] = []

    def storm() -> None:
        started = cli(world, "demo", "drill", "start", "launch-storm", "-o", "json")
        repo.append(started["detail"].rsplit("github.com/", 1)[1])

    watcher = start_watch(world, receiver)
    try:
        fires_and_resolves(
            world, receiver, {"at-quota", "max-pods"}, storm,
            lambda: cli(world, "kill-session", "--repo", repo[0], "--yes"),
        )  # fmt: skip
    finally:
        stop(watcher)
