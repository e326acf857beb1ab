"""While the console owns the terminal, log records go to a private file."""

from __future__ import annotations

import logging
import os
import stat
import threading
import warnings
from pathlib import Path

import pytest

from binderctl.console_log import MAX_BYTES, logging_to


def _fail() -> None:
    raise RuntimeError("the watch thread broke")


def test_warnings_go_to_a_private_file_not_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state" / "console.log"
    # pytest's own log handlers sit on the root logger, so without this nothing would
    # ever reach the terminal and the capfd checks below could not fail: take them off
    # so that a record no handler takes goes to stderr (logging.lastResort), as in the
    # console.
    root = logging.getLogger()
    pytest_handlers = root.handlers[:]
    for handler in pytest_handlers:
        root.removeHandler(handler)
    old = os.umask(0)
    try:
        with logging_to(path) as log:
            logging.getLogger("aiohttp.server").error("Error handling request")
            logging.getLogger("binderctl.test").info("not kept")
            warnings.warn("a library complains", UserWarning, stacklevel=1)
            thread = threading.Thread(target=_fail, name="poller")
            thread.start()
            thread.join()
        during = capfd.readouterr()
        logging.getLogger("binderctl.test").warning("after the console")
        after = capfd.readouterr()
    finally:
        os.umask(old)
        for handler in pytest_handlers:
            root.addHandler(handler)
    assert log.count == 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "ERROR aiohttp.server: Error handling request" in path.read_text()
    assert "not kept" not in path.read_text()
    assert "UserWarning: a library complains" in path.read_text()
    assert "uncaught exception in poller" in path.read_text()
    assert "RuntimeError: the watch thread broke" in path.read_text()
    assert during.out == "" and during.err == ""
    # the same capture does show a record logged once the console is gone
    assert "after the console" in after.err
    assert "after the console" not in path.read_text()


def test_a_large_log_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "console.log"
    path.write_bytes(b"x" * (MAX_BYTES + 1))
    with logging_to(path):
        logging.getLogger("binderctl.test").warning("fresh")
    assert path.with_name("console.log.1").stat().st_size == MAX_BYTES + 1
    assert path.read_text().endswith("fresh\n")
