"""``--timeout DURATION`` for ``--provision``: bad values are usage errors (exit 2)."""

from __future__ import annotations

import pytest

from binderctl.errors import EXIT_USAGE
from tests.kit.cli import run_cli


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "the timeout must be at least 1s"),
        ("0s", "the timeout must be at least 1s"),
        ("soon", "'soon' is not a duration; expected a duration like 30s, 10m"),
        ("-5m", "'-5m' is not a duration"),
        ("400d", "'400d' is too long"),
    ],
)
def test_a_bad_timeout_is_a_usage_error(value: str, message: str) -> None:
    refused = run_cli({}, "--provision", f"--timeout={value}")
    assert refused.returncode == EXIT_USAGE
    assert f"argument --timeout: {message}" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_timeout_without_provision_is_a_usage_error() -> None:
    refused = run_cli({}, "--timeout", "5m", "audit")
    assert refused.returncode == EXIT_USAGE
    assert "--timeout applies to --provision only" in refused.stderr


def test_help_names_the_default() -> None:
    assert "(default 15m)" in run_cli({}, "--help").stdout.replace("\n", " ").replace("  ", " ")
