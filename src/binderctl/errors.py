"""Errors that carry a user-facing message and the documented exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_INTERRUPTED = 130


class BinderctlError(Exception):
    """An error whose message is meant for the operator, shown without a traceback."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(BinderctlError):
    """Bad command-line arguments."""

    exit_code = EXIT_USAGE


class ConfigError(BinderctlError):
    """The configuration file is missing, unreadable or invalid."""

    exit_code = EXIT_USAGE


class RefusedError(BinderctlError):
    """An action was refused: read-only mode, or the operator did not confirm."""

    exit_code = EXIT_REFUSED
