"""Files binderctl writes are private from their creation: 0600 files, 0700 dirs.

The CLI runs under ``umask 000``, so a file created with the default mode and fixed
later (or not at all) shows up as 0666/0777. A scan of the sources checks that every
writer goes through ``paths.write_private`` / ``append_private`` / ``private_dir``.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import binderctl
from binderctl.demo.world import MEMBER, DemoWorld

SOURCES = Path(binderctl.__file__).parent
# Creating files or dirs, or changing modes, anywhere but in paths.py is a finding.
WRITERS = re.compile(
    r"\.write_text\(|\.write_bytes\(|\bos\.open\(|\.mkdir\(|\bmakedirs\(|\bchmod\(|\bmkstemp\("
    r"|\bopen\([^)]*['\"][rbt]*[wax+][rbt+]*['\"]"
)
ALLOWED = {
    "paths.py": "the private writers themselves",
    "demo/kube/tls.py": "a key file (0600) in a TemporaryDirectory, read back at once",
}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point under umask 000."""
    command = shlex.join([sys.executable, "-m", "binderctl", *args])
    return subprocess.run(
        ["sh", "-c", f"umask 000 && exec {command}"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        timeout=180,
        check=False,
    )


def modes(root: Path) -> Iterator[tuple[Path, int]]:
    for directory, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(directory, name)
            yield path, stat.S_IMODE(path.lstat().st_mode)


def not_private(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): oct(mode)
        for path, mode in modes(root)
        if mode != (0o700 if path.is_dir() else 0o600)
    }


def test_config_init_creates_private_file_and_dirs(tmp_path: Path) -> None:
    target = tmp_path / "made" / "by binderctl" / "config.toml"
    env = {"BINDERCTL_CONFIG": str(target), "BINDERCTL_HOME": str(tmp_path / "home")}
    result = run(env, "config", "init", "--name", "modes")
    assert result.returncode == 0, result.stderr
    assert not_private(tmp_path / "made") == {}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DemoWorld]:
    with DemoWorld(tmp_path / "demo", action_seconds=0.2, backoff=0.01, speed=20.0) as world:
        yield world


def test_everything_under_home_is_private_after_provisioning_and_operating(
    world: DemoWorld,
) -> None:
    env = {**world.env, "SSH_AUTH_SOCK": ""}
    for args in (
        ["--provision", "--yes"],
        ["status"],
        ["sessions"],
        ["budget"],
        ["drain", "--yes"],
        ["resume", "--yes"],
        ["audit"],
    ):
        result = run(env, *args)
        assert result.returncode == 0, (args, result.stderr)
    written = {str(path.relative_to(world.home)) for path, _ in modes(world.home)}
    for expected in ("data/demo/kubeconfig", "data/demo/known_hosts",
                     "state/demo/provision.json", "state/demo/audit.jsonl"):  # fmt: skip
        assert expected.replace("demo", MEMBER) in written, written
    assert not_private(world.home) == {}
    assert stat.S_IMODE(world.config_path.stat().st_mode) == 0o600


def test_every_writer_goes_through_paths() -> None:
    findings = []
    for path in sorted(SOURCES.rglob("*.py")):
        relative = path.relative_to(SOURCES).as_posix()
        if relative in ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if WRITERS.search(line):
                findings.append(f"{relative}:{number}: {line.strip()}")
    assert findings == []
