"""Hostile strings from the cluster are shown inertly by the headless commands.

Text output: no control character, lone surrogate or bidi override from the data, Rich
markup shown literally, long strings shortened so table lines fit the terminal width.
JSON output: the data exactly as the cluster served it, escaped (pure ASCII).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from binderctl.commands.logs_cmd import LINE_LIMIT
from binderctl.demo.world import patched_environ
from binderctl.formatting import cells
from tests.fuzz.fuzzkit import MEMBER, make_sandbox
from tests.fuzz.hostile import ESCAPES, EVERYTHING, LONG, MARKUP, OSC8, start, unsafe_characters
from tests.kit.cli import Result, run_main

WIDTH = 100


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The sandbox's member pointed at a hostile cluster; yields the environment."""
    sandbox = make_sandbox(tmp_path_factory.mktemp("hostile"))
    running = start(sandbox.home / "data" / MEMBER / "kubeconfig")
    env = {**sandbox.env, "COLUMNS": str(WIDTH)}
    with patched_environ(env):
        yield env
    running.stop()


def assert_inert(result: Result) -> None:
    assert unsafe_characters(result.out) == set()
    assert unsafe_characters(result.err) == set()


@pytest.mark.parametrize("width", [WIDTH, 2 * WIDTH])
@pytest.mark.parametrize("command", ["sessions", "builds", "events"])
def test_tables_are_inert_and_fit_the_width(
    cluster: dict[str, str], command: str, width: int
) -> None:
    with patched_environ({"COLUMNS": str(width)}):
        result = run_main([command])
    assert result.code == 0, result.err
    assert_inert(result)
    assert LONG[:200] not in result.out
    lines = result.out.splitlines()
    assert len(lines) == 1 + {"sessions": 4, "builds": 2, "events": 3}[command]
    assert max(cells(line) for line in lines) <= width  # wide characters take two cells


def test_markup_is_shown_literally(cluster: dict[str, str]) -> None:
    with patched_environ({"COLUMNS": str(2 * WIDTH)}):
        sessions, builds, events = (
            run_main(["sessions"]),
            run_main(["builds"]),
            run_main(["events"]),
        )
    assert MARKUP in sessions.out
    assert MARKUP in builds.out
    assert MARKUP[:20] in events.out


# status exits 1 while an error-level item needs attention: the hostile member has some
# (a /health that does not answer, components that are not installed)
STATUS_FAILS = 1


def test_status_is_inert(cluster: dict[str, str]) -> None:
    result = run_main(["status"])
    assert result.code == STATUS_FAILS, result.err
    assert_inert(result)
    assert LONG[:400] not in result.out
    assert "?[2J" in result.out  # the escape is visible, and does nothing


@pytest.mark.parametrize("target", ["hub", "binderhub/hub-0"])
def test_logs_are_inert(cluster: dict[str, str], target: str) -> None:
    result = run_main(["logs", target])
    assert result.code == 0, result.err
    assert_inert(result)
    prefix = "[hub-0/hub] " if target == "hub" else ""  # a component's pods: each line says whose
    lines = result.out.splitlines()
    assert len(lines) == 8
    assert all(line.startswith(prefix) for line in lines)
    assert lines[4] == prefix + MARKUP
    assert lines[5] == prefix + "raw bytes \ufffd\ufffd\ufffd[2J"
    assert len(lines[7]) == len(prefix) + LINE_LIMIT  # shortened, ending in "…"


def _json(argv: list[str]) -> object:
    result = run_main(["-o", "json", *argv])
    assert result.code == (STATUS_FAILS if argv[0] == "status" else 0), result.err
    assert result.out.isascii()  # escapes and all non-ASCII as \\uXXXX
    if argv[0] == "logs":
        return [json.loads(line) for line in result.out.splitlines()]
    return json.loads(result.out)


def test_json_carries_the_data_exactly(cluster: dict[str, str]) -> None:
    sessions, builds = _json(["sessions"]), _json(["builds"])
    events, status, logs = _json(["events"]), _json(["status"]), _json(["logs", "hub"])
    assert f"https://x/{EVERYTHING}" in [s["repo"] for s in sessions]
    assert f"https://github.com/{LONG}" in [s["repo"] for s in sessions]
    assert f"https://github.com/{MARKUP}" in [b["repo"] for b in builds]
    assert MARKUP + EVERYTHING in [w["message"] for w in events]
    assert MARKUP + EVERYTHING in [w["message"] for w in status["warnings"]]
    assert [line["text"] for line in logs][:2] == [ESCAPES, OSC8]


def test_the_real_entry_point_on_a_strict_utf8_terminal(cluster: dict[str, str]) -> None:
    """A terminal whose locale is not C: stdout refuses what is not UTF-8."""
    env = {**os.environ, **cluster, "PYTHONIOENCODING": "utf-8:strict"}
    for command in ("sessions", "status"):
        result = subprocess.run(
            [sys.executable, "-m", "binderctl", command],
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
        expected = STATUS_FAILS if command == "status" else 0
        assert result.returncode == expected, result.stderr.decode(errors="replace")
        out = result.stdout.decode("utf-8")
        assert unsafe_characters(out) == set()
        assert b"\x1b" not in result.stdout + result.stderr
        assert b"Traceback" not in result.stderr
