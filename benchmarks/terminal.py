"""Run a program in a pseudo-terminal and time it until some text shows on the screen.

The program gets a real terminal (Textual's Linux driver, as an operator would have), of
a fixed size. What it writes is read as it comes; escape sequences are dropped, so text
drawn in one go (a widget's line) reads as it shows.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Sequence

SIZE = (140, 44)  # columns, rows
# CSI sequences, OSC strings, charset selections, any other two-byte escape
ESCAPES = re.compile(
    rb"\x1b(?:\[[0-9;?<>=$ ]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|.)"
)
KEEP = 1 << 17  # bytes of output kept for matching


def time_to_screen(
    command: Sequence[str],
    env: dict[str, str],
    shown: Callable[[str], bool],
    timeout: float = 120.0,
) -> float:
    """Seconds from spawning ``command`` until ``shown(text so far)`` is true; the program
    is then stopped."""
    return times_to_screen(command, env, (shown,), timeout)[0]


def times_to_screen(
    command: Sequence[str],
    env: dict[str, str],
    stages: Sequence[Callable[[str], bool]],
    timeout: float = 120.0,
) -> list[float]:
    """Seconds from spawning ``command`` until each of ``stages`` (in order) first held
    for the text so far; the program is stopped after the last."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    raw = b""
    times: list[float] = []
    try:
        while True:
            left = started + timeout - time.perf_counter()
            if left <= 0:
                raise RuntimeError(f"{command[0]} never showed what was awaited: {raw[-500:]!r}")
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # the program exited and closed the terminal
                data = b""
            if not data:
                raise RuntimeError(f"{command[0]} exited early: {raw[-500:]!r}")
            raw = (raw + data)[-KEEP:]
            text = ESCAPES.sub(b"", raw).decode("utf-8", "replace")
            while stages[len(times)](text):
                times.append(time.perf_counter() - started)
                if len(times) == len(stages):
                    return times
    finally:
        _stop(process, master)


def _stop(process: subprocess.Popen[bytes], master: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):  # keep draining so the program can exit
            if select.select([master], [], [], 0.1)[0]:
                os.read(master, 1 << 16)
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    os.close(master)
