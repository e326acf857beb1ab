"""An emulator of the Hetzner Cloud API, honest to the published schema and the hcloud client."""

from binderctl.demo.hetzner.emulator import HetznerEmulator
from binderctl.demo.hetzner.events import ServerEvent, ServerInfo
from binderctl.demo.hetzner.faults import Faults, ScriptedFailure

__all__ = ["Faults", "HetznerEmulator", "ScriptedFailure", "ServerEvent", "ServerInfo"]
