"""Where log records go while the console owns the terminal: a private file, not the screen."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from binderctl.paths import app_dir, append_private

log = logging.getLogger(__name__)

# Past this size the log is moved aside to ``console.log.1`` (one old copy is kept).
MAX_BYTES = 5 * 1024 * 1024


def console_log_path() -> Path:
    return app_dir("state") / "console.log"


class _Counting(logging.StreamHandler[TextIO]):
    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        super().emit(record)


@contextlib.contextmanager
def logging_to(path: Path) -> Iterator[_Counting]:
    """Send warnings and errors of every logger, Python warnings, exceptions uncaught in
    threads and "Exception ignored" reports to ``path`` (0600) instead of stderr; the
    handler yielded counts the records written."""
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size > MAX_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    with (
        append_private(path) as fd,
        os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace", closefd=False) as stream,
    ):
        handler = _Counting(stream)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        logging.captureWarnings(True)
        hooks = threading.excepthook, sys.unraisablehook
        threading.excepthook, sys.unraisablehook = _thread_exception, _unraisable
        try:
            yield handler
        finally:
            threading.excepthook, sys.unraisablehook = hooks
            logging.captureWarnings(False)
            root.removeHandler(handler)
            handler.flush()


def _thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    log.error("uncaught exception in %s", name, exc_info=exc_info)  # type: ignore[arg-type]  # exc_value may be None


def _unraisable(report: sys.UnraisableHookArgs) -> None:
    exc_info = (report.exc_type, report.exc_value, report.exc_traceback)
    what = report.err_msg or "Exception ignored in"
    log.warning("%s: %r", what, report.object, exc_info=exc_info)  # type: ignore[arg-type]  # exc_value may be None
