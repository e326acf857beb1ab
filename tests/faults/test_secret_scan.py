"""No secret is ever shown or written: the whole demo flow through the real CLI with a
recognisable Hetzner token and an SSH key whose passphrase is known (the key held by a
real ssh-agent), then every file under the world's folder, BINDERCTL_HOME and a scratch
HOME, every captured output, the audit log and the service objects' ``repr`` are
searched for both: zero hits."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from binderctl.auth import TOKEN_ENV, hetzner_token
from binderctl.config import load_config
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.paths import private_dir
from binderctl.services.actions import ActionRunner, Operations
from binderctl.services.audit import audit_path
from binderctl.services.cluster import ClusterModel
from binderctl.services.hetzner import HetznerService
from binderctl.services.kube import Kube
from binderctl.services.node import Node
from tests.faults.faultworld import OPTIONS
from tests.kit.cli import run_cli
from tests.kit.waiting import wait_for
from tests.kit.worlds import member_of

HAVE_AGENT = all(shutil.which(tool) for tool in ("ssh-agent", "ssh-add", "ssh-keygen"))
# the whole flow, as an operator would run it (each must exit 0): steps run in order,
# the commands of one step at once
FLOW: list[list[list[str]]] = [
    [["--provision", "--yes"]],
    [
        ["status"],
        ["status", "--disk", "-o", "json"],  # SSH to the node, with the key from the agent
        ["sessions"],
        ["sessions", "-o", "json"],
        ["builds"],
        ["events"],
        ["logs", "binder", "--tail", "20"],
        ["budget"],
        ["budget", "-o", "json"],
        ["auth", "status"],
    ],
    [["drain", "--yes"]],
    [["resume", "--yes"]],
    [["ban", "org/abusive", "--kill", "--reason", "scanning", "--yes"]],
    [["bans"], ["abuse", "report", "--repo", "org/abusive"], ["abuse", "report", "-o", "json"]],
    [["unban", "org/abusive", "--yes"]],
    [["prune-images", "--yes"]],
    [["renew-certs", "--yes"]],
    [["audit"], ["audit", "-o", "json"]],
    [["teardown", "--yes"]],
]


@contextmanager
def agent_holding(key: Path, passphrase: str) -> Iterator[str]:
    """A real ssh-agent with ``key`` added (the passphrase given through SSH_ASKPASS from
    a folder of its own, outside what is scanned); yields its socket."""
    folder = Path(tempfile.mkdtemp(prefix="bscan-"))  # short: socket paths are limited
    socket = folder / "agent.sock"
    askpass = folder / "askpass"
    askpass.write_text(f"#!/bin/sh\necho '{passphrase}'\n")
    askpass.chmod(0o700)
    agent = subprocess.Popen(
        ["ssh-agent", "-D", "-a", str(socket)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(socket.exists, 10, "ssh-agent listening")
        env = {
            **os.environ,
            "SSH_AUTH_SOCK": str(socket),
            "SSH_ASKPASS": str(askpass),
            "SSH_ASKPASS_REQUIRE": "force",
            "DISPLAY": ":0",
        }
        subprocess.run(
            ["ssh-add", str(key)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=True,
            timeout=30,
        )
        assert passphrase.encode() in askpass.read_bytes()  # the scan's positive control
        yield str(socket)
    finally:
        agent.terminate()
        agent.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def encrypted_key(path: Path, passphrase: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "scan", "-f", str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
        timeout=30,
    )


def found_in(secret: str, texts: dict[str, str], roots: list[Path]) -> list[str]:
    """Where ``secret`` occurs: names of texts, and files under ``roots``."""
    needle = secret.encode()
    hits = [name for name, text in texts.items() if needle in text.encode()]
    for root in roots:
        hits += [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]
    return hits


def service_reprs(world: DemoWorld) -> dict[str, str]:
    """``repr`` and ``str`` of what holds the token, the kubeconfig or the key."""
    member = member_of(world)
    with world.environment(), Kube(member) as kube:
        objects: list[object] = [
            hetzner_token(MEMBER),
            HetznerService.for_member(member),
            kube,
            ClusterModel(member, kube),
            Operations(member, kube),
            ActionRunner(member, readonly=False, confirm=lambda action, prepared: False),
            Node(member, kube.host),
            Node(member, kube.host).client,
            member,
            load_config(world.config_path),
            world,
            world.hetzner,
        ]
        return {f"repr/str of {type(o).__name__}": f"{o!r}\n{o!s}" for o in objects}


def test_the_whole_demo_flow_shows_and_writes_no_secret(tmp_path: Path) -> None:
    token = f"scan-token-{secrets.token_hex(16)}"
    passphrase = f"scan-pass-{secrets.token_hex(8)}" if HAVE_AGENT else None
    userhome = tmp_path / "userhome"  # HOME and XDG dirs of the CLI: stray files land here
    xdg = {f"XDG_{kind}_HOME": str(userhome / kind) for kind in ("CONFIG", "DATA", "STATE")}
    env = {"HOME": str(userhome), **xdg, "XDG_CACHE_HOME": str(userhome / "CACHE")}
    world = DemoWorld(tmp_path / "world", token=token, sessions=5, **OPTIONS)
    private_dir(world.directory)
    if passphrase:
        encrypted_key(world.key_path, passphrase)
    outputs: dict[str, str] = {}
    with world, agent_if(world.key_path, passphrase) as agent:
        env["SSH_AUTH_SOCK"] = agent or ""
        for number, step in enumerate(FLOW):
            with ThreadPoolExecutor(4) as pool:
                results = list(pool.map(lambda args: run_cli(world, *args, env=env), step))
            for args, done in zip(step, results, strict=True):
                outputs[f"{number} {' '.join(args)}: stdout"] = done.stdout
                outputs[f"{number} {' '.join(args)}: stderr"] = done.stderr
                assert done.returncode == 0, (args, done.stderr)
            if number == 0:  # provisioned: sessions to list and log, services to repr
                world.start_sessions()
                outputs.update(service_reprs(world))
        refused = run_cli(world, "--provision", "--dry-run", env={**env, TOKEN_ENV: token + "x"})
        assert refused.returncode == 2 and "refused the token" in refused.stderr
        outputs["wrong token: stderr"] = refused.stderr + refused.stdout
        with world.environment():
            outputs["audit log"] = audit_path(MEMBER).read_text()
        assert world.home.is_relative_to(world.directory)  # BINDERCTL_HOME is scanned too
        roots = [world.directory, userhome]
        control = tmp_path / "control"  # the scan's positive control: it does find it
        control.mkdir()
        (control / "env.sh").write_text(world.shell_snippet())
        assert found_in(token, {}, [control]) == [str(control / "env.sh")]
        assert found_in(token, outputs, roots) == []
        if passphrase:
            assert found_in(passphrase, outputs, roots) == []
    if passphrase is None:
        pytest.skip("token: no hits; the passphrase part needs ssh-agent, ssh-add, ssh-keygen")


@contextmanager
def agent_if(key: Path, passphrase: str | None) -> Iterator[str | None]:
    """The agent's socket when there is a passphrase-protected key, else None."""
    if passphrase is None:
        yield None
    else:
        with agent_holding(key, passphrase) as socket:
            yield socket
