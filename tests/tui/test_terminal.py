"""`binderctl --demo` in a real terminal (tmux): keys in, screen text out, clean exit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

BINDERCTL = Path(sys.executable).with_name("binderctl")


class Terminal:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True
        )
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "console")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "console", *keys)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    term = Terminal(f"binderctl-test-{tmp_path.name}")
    status = tmp_path / "exit-status"
    command = f"{BINDERCTL} --demo; echo $? > {status}; sleep 60"
    term.tmux("new-session", "-d", "-s", "console", "-x", "140", "-y", "44", command)
    try:
        yield term, status
    finally:
        subprocess.run(["tmux", "-L", term.socket, "kill-server"], capture_output=True)


def test_demo_in_a_terminal(terminal: tuple[Terminal, Path]) -> None:
    term, status = terminal
    term.wait_for("Pipeline")
    screen = term.wait_for("Activity", timeout=120)  # provisioned, then the dashboard
    assert "Node" in screen and "Components" in screen
    assert "Traceback" not in screen
    term.keys("2")
    screen = term.wait_for("Repository")
    assert "sessions" in screen
    term.keys("5")
    term.wait_for("Follow/pause")
    term.keys("q")
    deadline = time.monotonic() + 30
    while not status.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status.read_text().strip() == "0"
    assert "Traceback" not in term.screen()
