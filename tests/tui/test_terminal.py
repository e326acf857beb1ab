"""`binderctl` in a real terminal (tmux): keys in, screen text out, clean exit."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from binderctl.paths import CONFIG_ENV, HOME_ENV
from binderctl.screens.typing import TYPING_GAP

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
        """Press each key on its own, as a person does (keys typed together are typing:
        ``screens/typing.py``)."""
        for key in keys:
            time.sleep(TYPING_GAP + 0.05)
            self.tmux("send-keys", "-t", "console", key)

    def wait_until(self, check: Callable[[str], bool], timeout: float = 60.0) -> str:
        """The screen, once ``check(screen)`` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"the screen never got there:\n{self.screen()}")

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        return self.wait_until(lambda screen: text in screen, timeout)


class Session:
    """``binderctl`` run in a tmux window of its own; its exit status lands in a file."""

    def __init__(self, directory: Path) -> None:
        self.term = Terminal(f"binderctl-test-{uuid.uuid4().hex}")
        self.status = directory / "exit-status"

    def start(self, arguments: str, env: str = "") -> Terminal:
        # The pane's shell may export the size it started with (80x24, before tmux applies
        # -x/-y); Textual would take COLUMNS and LINES over the terminal's real size.
        run = f"env -u COLUMNS -u LINES {env} {BINDERCTL} {arguments}"
        command = f"{run}; echo $? > {self.status}; sleep 60"
        self.term.tmux("new-session", "-d", "-s", "console", "-x", "140", "-y", "44", command)
        return self.term

    def exit_status(self) -> str:
        deadline = time.monotonic() + 30
        while not self.status.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.status.read_text().strip()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    running = Session(tmp_path)
    try:
        yield running
    finally:
        subprocess.run(["tmux", "-L", running.term.socket, "kill-server"], capture_output=True)


def count(pattern: str, screen: str) -> int:
    """The number ``pattern``'s group matched on the screen (0 when it did not)."""
    found = re.search(pattern, screen)
    return int(found.group(1).replace(",", "")) if found else 0


def test_demo_in_a_terminal(session: Session) -> None:
    term = session.start("--demo")
    term.wait_for("Pipeline")
    screen = term.wait_for("health OK", timeout=120)  # provisioned, then the dashboard
    assert "Node" in screen and "Components" in screen and "Activity" in screen
    assert "Traceback" not in screen

    term.keys("2")
    screen = term.wait_until(lambda s: count(r"(\d+) sessions  ·", s) > 0 and "Running" in s)
    assert "Repository" in screen

    term.keys("5")
    screen = term.wait_until(lambda s: count(r"following +([\d,]+) lines", s) > 0)
    assert "logs binder" in screen and "BinderHub starting" in screen

    term.keys("q")  # asks first
    term.wait_for("Quit binderctl?")
    term.keys("C-q")
    assert session.exit_status() == "0"
    assert "Traceback" not in term.screen()


def test_first_run_opens_the_provision_form(session: Session, tmp_path: Path) -> None:
    env = f"{CONFIG_ENV}={tmp_path / 'none.toml'} {HOME_ENV}={tmp_path / 'home'}"
    term = session.start("", env=env)
    screen = term.wait_for("Member configuration")
    assert "new member" in screen and "Edit the configuration" in screen
    term.keys("C-q")
    assert session.exit_status() == "0"
    assert "Traceback" not in term.screen()
