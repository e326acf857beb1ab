"""Fixtures for the end-to-end provisioning tests: an empty demo world, fast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from provisionkit import SPEED

from binderctl.demo.world import DemoWorld


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DemoWorld]:
    """Nothing provisioned yet; quick Hetzner actions and a fast simulated member."""
    with DemoWorld(tmp_path / "demo", action_seconds=0.2, backoff=0.01, speed=SPEED) as world:
        yield world
