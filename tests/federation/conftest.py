"""The federation tests' provisioned demo world (one per test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from binderctl.demo.world import DemoWorld

SPEED = 20.0  # the member's simulated time; the redirector's check settings scale with it


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    """A member provisioned through the real pipeline, with the emulated federation."""
    folder = tmp_path_factory.mktemp("federation") / "demo"
    with DemoWorld(folder, action_seconds=0.2, backoff=0.01, speed=SPEED,
                   launches_per_minute=0.0) as world:  # fmt: skip
        world.provision()
        yield world
