"""The federation tests' provisioned demo world (one per test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from binderctl.demo.world import DemoWorld
from tests.kit.worlds import QUICK


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    """A member provisioned through the real pipeline, with the emulated federation (whose
    redirector's check settings scale with the member's simulated time)."""
    folder = tmp_path_factory.mktemp("federation") / "demo"
    with DemoWorld(folder, **QUICK, launches_per_minute=0.0) as world:
        world.provision()
        yield world
