"""What the kubelet reports for a Hetzner server type: capacity and allocatable."""

from __future__ import annotations

from dataclasses import dataclass

from binderctl.demo.hetzner.catalog import SERVER_TYPES

KI = 1024
GI = 1024**3
# The kernel keeps a little of the RAM; the kubelet's default hard eviction threshold
# (memory.available<100Mi) and nodefs/imagefs thresholds come off allocatable.
KERNEL_RESERVED = 0.015
EVICTION_MEMORY = 100 * 1024**2
EVICTION_NODEFS = 0.10
EVICTION_IMAGEFS = 0.15
FILESYSTEM_OVERHEAD = 0.02


@dataclass(frozen=True)
class Hardware:
    server_type: str
    cpus: int
    memory: int  # bytes seen by the kernel
    disk: int  # bytes of the root filesystem
    architecture: str  # amd64 | arm64

    @classmethod
    def of(cls, server_type: str) -> Hardware:
        try:
            st = SERVER_TYPES[server_type]
        except KeyError:
            raise ValueError(f"unknown server type {server_type!r}") from None
        return cls(
            server_type=server_type,
            cpus=st.cores,
            memory=int(st.memory * GI * (1 - KERNEL_RESERVED)),
            disk=int(st.disk * 1000**3 * (1 - FILESYSTEM_OVERHEAD)),
            architecture="arm64" if st.architecture == "arm" else "amd64",
        )

    def capacity(self, max_pods: int) -> dict[str, str]:
        return {
            "cpu": str(self.cpus),
            "ephemeral-storage": f"{self.disk // KI}Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": f"{self.memory // KI}Ki",
            "pods": str(max_pods),
        }

    def allocatable(self, max_pods: int) -> dict[str, str]:
        return {
            "cpu": str(self.cpus),
            "ephemeral-storage": str(int(self.disk * (1 - EVICTION_NODEFS))),
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": f"{(self.memory - EVICTION_MEMORY) // KI}Ki",
            "pods": str(max_pods),
        }
