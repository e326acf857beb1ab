"""How long the simulated node takes, and the faults tests can switch on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class NodeTimings:
    """Seconds. Small by default so the demo provisions in seconds."""

    boot: float = 0.2
    cloud_init: float = 0.2
    k3s_start: float = 0.2
    # systemd's RestartSec=5s of k3s's unit (install script), shortened like the others
    k3s_restart: float = 0.3


@dataclass
class NodeFaults:
    """Plain attributes, set in-process by tests and by the demo's fault menu."""

    k3s_start_delay: float = 0.0
    k3s_start_fails: bool = False
    banner_delay: float = 0.0
    # Close this many of the next accepted connections before the SSH banner.
    drop_new_connections: int = 0
