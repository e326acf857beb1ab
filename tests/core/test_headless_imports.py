"""Commands that do not touch Kubernetes start without the kubernetes client or Textual
(each costs a large part of a second to import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from binderctl.demo.world import DemoWorld
from tests.kit.cli import cli_env

HEAVY = ("kubernetes", "textual")
# binderctl's entry point run as the console script does; then which heavy packages came in
PROBE = """\
import json, runpy, sys
sys.argv = ["binderctl", *sys.argv[1:]]
try:
    runpy.run_module("binderctl", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def imported(env: dict[str, str], *args: str) -> dict[str, object]:
    """The exit code of ``binderctl ARGS`` and the heavy packages it imported."""
    probe = f"HEAVY = {HEAVY!r}\n{PROBE}"
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    return json.loads(result.stderr.strip().splitlines()[-1])


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    env = cli_env(tmp_path / "home", tmp_path / "cfg" / "config.toml")
    assert imported(env, "config", "init", "--name", "hetzner")["code"] in (0, None)
    return env


@pytest.mark.parametrize("args", [("--version",), ("config", "check"), ("audit",)])
def test_light_commands_import_neither_kubernetes_nor_textual(
    home: dict[str, str], args: tuple[str, ...]
) -> None:
    result = imported(home, *args)
    assert result == {"code": 0, "heavy": []}


def test_budget_with_a_warm_cache_imports_neither(demo_world: DemoWorld) -> None:
    assert imported(demo_world.env, "budget")["code"] == 0  # fills the caches
    assert imported(demo_world.env, "budget") == {"code": 0, "heavy": []}
