"""Image storage: pulls and builds fill the disk, DiskPressure, and crictl's prune."""

from __future__ import annotations

from collections.abc import Callable

from binderctl.demo.kube import types
from binderctl.demo.member.disk import Image
from binderctl.demo.member.simulation import Member


def _condition(member: Member, kind: str) -> str:
    node = member.store.get(types.NODES, None, "demo")
    return next(c["status"] for c in node["status"]["conditions"] if c["type"] == kind)


def test_disk_pressure_and_prune(make_member: Callable[..., Member]) -> None:
    member = make_member(server_type="cx22", image_gc_high_percent=100)
    member.advance(1)
    disk = member.kubelet.disk
    used, total = member.disk_usage()
    assert used < total * 0.85
    for n in range(12):
        disk.images[f"localhost:30500/binder-old-{n}:abc"] = Image(2_500_000_000, 0.0)
    member.advance(20)
    assert _condition(member, "DiskPressure") == "True"
    warnings = [e for e in member.store.list(types.EVENTS) if e["reason"] == "EvictionThresholdMet"]
    assert warnings and warnings[0]["type"] == "Warning"
    freed = member.prune_images()
    assert freed >= 12 * 2_500_000_000
    assert _condition(member, "DiskPressure") == "False"
    # what is left is in use (the images of the pods that ran before the start are on disk)
    assert not any(name.startswith("localhost:30500/binder-old-") for name in disk.images)
    assert member.disk_usage()[0] <= used and member.prune_images() == 0
