"""Project-wide fixtures (each area keeps its own in tests/<area>/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from binderctl.demo.world import DemoWorld
from tests.kit.worlds import QUICK


@pytest.fixture
def demo_world(tmp_path: Path) -> Iterator[DemoWorld]:
    """A demo world started in-process, in ``tmp_path / "demo"``, with quick actions.

    ``demo_world.env`` points binderctl (as a subprocess) and hcloud clients at it;
    ``demo_world.hetzner.faults`` holds the emulator's knobs.
    """
    with DemoWorld(tmp_path / "demo", **QUICK) as world:
        yield world
