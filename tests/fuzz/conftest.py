"""The full-size run (BINDERCTL_FUZZ=full) takes minutes per property: lift the
project's per-test timeout for this directory's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.fuzzkit import FULL

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if FULL:
        for item in items:
            if item.path.is_relative_to(HERE):
                item.add_marker(pytest.mark.timeout(3600))
