"""Fixtures for the end-to-end provisioning tests: an empty demo world, fast."""

from __future__ import annotations

import pytest

from binderctl.demo.world import DemoWorld


@pytest.fixture
def world(demo_world: DemoWorld) -> DemoWorld:
    """Nothing provisioned yet; quick Hetzner actions and a fast simulated member."""
    return demo_world
