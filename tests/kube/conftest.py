"""Fixtures of the Kubernetes emulator tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kube.kube_cluster import Cluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """API server + control plane (speed 100) + node agent, with one Ready node."""
    running = Cluster(tmp_path)
    running.add_node()
    yield running
    running.close()
