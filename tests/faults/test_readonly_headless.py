"""Read-only mode cannot be bypassed through a headless command: every action command,
with ``--readonly`` before the subcommand, after it, and with ``readonly = true`` in the
config, exits 3 with one refused audit record each, and nothing changes: not the
cluster, not Hetzner, not the node, not binderctl's own state."""

from __future__ import annotations

import argparse
import hashlib
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tomli_w

from binderctl.cli import build_parser
from binderctl.demo.kube import types
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.errors import EXIT_REFUSED
from binderctl.paths import CONFIG_ENV
from binderctl.services import audit
from tests.kit.cli import run_cli
from tests.kit.worlds import on_loop

# one command line per action command (the parser's, walked below, must all be named)
ACTIONS: dict[str, list[str]] = {
    "drain": ["drain", "--wait", "--force-after", "1s"],
    "resume": ["resume"],
    "restart": ["restart", "proxy"],
    "rollback": ["rollback", "hub"],
    "kill-session": ["kill-session", "--older-than", "1s"],
    "delete-build": ["delete-build", "build-nothing"],
    "delete-builds": ["delete-builds"],
    "prune-images": ["prune-images"],
    "reboot": ["reboot", "--hard"],
    "renew-certs": ["renew-certs"],
    "ban": ["ban", "org/repo", "--kill", "--reason", "mining"],
    "unban": ["unban", "org/repo"],
    "teardown": ["teardown"],
    "node forget-host-key": ["node", "forget-host-key"],
    "upgrade k3s": ["upgrade", "k3s", "--force-after", "1s"],
    "upgrade charts": ["upgrade", "charts"],
    "upgrade schedule": ["upgrade", "schedule", "--day", "sunday"],
    # the catalogue's aliases
    "kill": ["kill", "jupyter-nobody"],
    "prune": ["prune"],
    "restart-dind": ["restart-dind"],
}
# commands that read (`abuse report` writes its file in binderctl's state dir), or manage
# binderctl's own config and keyring entry, or break the demo world on purpose (drills,
# through its control endpoint): not actions on a member
NOT_ACTIONS = {
    "abuse report", "audit", "auth login", "bans", "auth logout", "auth status", "budget", "builds",
    "config check", "config init", "config path", "demo drill list",
    "demo drill start", "demo drill status", "demo drill stop", "events", "federation",
    "logs", "sessions", "status", "upgrade plan",
    "watch",  # its own auto-actions go through the action runner (read-only refuses them)
}  # fmt: skip


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[str]:
    """Every leaf command of the CLI, e.g. ``drain`` and ``node forget-host-key``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = list(commands(sub, f"{prefix}{name} "))
                yield from nested or [f"{prefix}{name}"]


def readonly_config(world: DemoWorld, path: Path) -> Path:
    document = tomllib.loads(world.config_path.read_text())
    document["members"][MEMBER]["readonly"] = True
    path.write_text(tomli_w.dumps(document))
    return path


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def snapshot(world: DemoWorld) -> dict[str, object]:
    """What any of the actions would change."""
    k3s = world.cluster()
    project = world.hetzner.project

    def read() -> dict[str, object]:
        store = k3s.store
        return {
            "pods": sorted(
                (p["metadata"]["uid"], p["metadata"].get("deletionTimestamp") or "")
                for p in store.list(types.PODS)
            ),
            "nodes": [n["spec"] for n in store.list(types.NODES)],
            "deployments": [d["spec"]["template"] for d in store.list(types.DEPLOYMENTS)],
            "charts": [c["spec"] for c in store.list(types.HELMCHARTS)],
            "hetzner": sorted(
                (kind, rid)
                for kind, kept in (
                    ("server", project.servers),
                    ("firewall", project.firewalls),
                    ("ssh key", project.ssh_keys),
                    ("ip", project.primary_ips),
                )
                for rid in kept
            ),
            "servers": [s.status for s in project.servers.values()],
            "hetzner actions": len(project.actions),
            "node disk": k3s.member.disk_usage(),
        }

    state = world.home / "state" / MEMBER
    data = world.home / "data" / MEMBER
    files = {
        name: digest(path)
        for name, path in {
            "kubeconfig": data / "kubeconfig",
            "known_hosts": data / "known_hosts",
            "provision.json": state / "provision.json",
            "drain.json": state / "drain.json",
        }.items()
    }
    return {**on_loop(world, read), **files}


def test_every_action_command_is_named_here() -> None:
    found = set(commands(build_parser()))
    assert found == set(ACTIONS) | NOT_ACTIONS, found ^ (set(ACTIONS) | NOT_ACTIONS)


def test_readonly_refuses_every_action_in_every_form(live: DemoWorld, tmp_path: Path) -> None:
    config = {CONFIG_ENV: str(readonly_config(live, tmp_path / "readonly.toml"))}
    lines = [*ACTIONS.values(), ["--provision"]]
    runs: list[tuple[list[str], dict[str, str]]] = []
    for line in lines:
        runs += [(["--readonly", *line, "--yes"], {}), ([*line, "--yes"], config)]
        if line != ["--provision"]:  # a flag has no "after the subcommand"
            runs.append(([*line, "--readonly", "--yes"], {}))
    before = snapshot(live)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda run: run_cli(live, *run[0], env=run[1]), runs))
    for (args, env), done in zip(runs, results, strict=True):
        what = (args, "config" if env else "flag", done.stdout, done.stderr)
        assert done.returncode == EXIT_REFUSED, what
        assert "read-only mode: refused" in done.stderr and "Traceback" not in done.stderr, what
    assert snapshot(live) == before
    records = audit.read(MEMBER)
    assert len(records) == len(runs) and {r.outcome for r in records} == {"refused"}


def test_readonly_teardown_with_nothing_at_hetzner_keeps_the_local_state(
    demo_world: DemoWorld,
) -> None:
    """With nothing at Hetzner, teardown only forgets provision.json: not when read-only."""
    demo_world.hetzner.faults.fail("GET", "/server_types", status=503, times=10)
    failed = run_cli(demo_world, "--provision", "--yes")  # records its state, makes nothing
    assert failed.returncode == 1, failed.stderr
    state = demo_world.home / "state" / MEMBER / "provision.json"
    before = digest(state)
    assert before is not None
    kept = run_cli(demo_world, "teardown", "--readonly", "--yes")
    assert kept.returncode == 0 and "nothing at Hetzner" in kept.stderr, kept.stderr
    assert digest(state) == before
    assert run_cli(demo_world, "teardown", "--yes").returncode == 0
    assert digest(state) is None  # without read-only it does forget it
