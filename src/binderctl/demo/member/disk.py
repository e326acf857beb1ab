"""The node's root filesystem: the system, containerd's images and dind's build cache.

k3s keeps images and the node's files on one filesystem, so image GC, DiskPressure and
``crictl rmi --prune`` all act on the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SYSTEM_BYTES = 9 * 1000**3  # OS, k3s, logs


@dataclass
class Image:
    size: int
    last_used: float


@dataclass
class Disk:
    capacity: int
    images: dict[str, Image] = field(default_factory=dict)
    build_cache: int = 0  # dind's /var/lib/dind on the host: no kubelet GC reaches it

    @property
    def used(self) -> int:
        return SYSTEM_BYTES + self.build_cache + sum(i.size for i in self.images.values())

    @property
    def available(self) -> int:
        return max(0, self.capacity - self.used)

    def percent_used(self) -> float:
        return 100.0 * self.used / self.capacity

    def remove_unused(self, in_use: set[str], target: int | None = None) -> int:
        """Delete images no container uses, least recently used first, until ``used`` is
        at most ``target`` (all of them when None); returns the bytes freed."""
        freed = 0
        for name in sorted(self.images, key=lambda n: self.images[n].last_used):
            if target is not None and self.used <= target:
                break
            if name in in_use:
                continue
            freed += self.images.pop(name).size
        return freed
