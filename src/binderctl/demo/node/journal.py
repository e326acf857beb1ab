"""The simulated node's systemd journal, printed the way ``journalctl`` prints it."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    when: float
    boot_id: str
    unit: str
    ident: str
    pid: int
    message: str


class Journal:
    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self.boot_id = ""
        self._entries: list[Entry] = []

    def log(self, unit: str, ident: str, pid: int, message: str) -> None:
        self._entries.append(Entry(time.time(), self.boot_id, unit, ident, pid, message))

    def systemd(self, unit: str, message: str) -> None:
        self.log(unit, "systemd", 1, message)

    def tail(self, unit: str, lines: int) -> list[str]:
        """The last ``lines`` entries of ``unit``, with ``-- Boot ID --`` between boots."""
        entries = [e for e in self._entries if e.unit == unit][-lines:] if lines > 0 else []
        if not entries:
            return ["-- No entries --"]
        out: list[str] = []
        previous_boot = entries[0].boot_id
        for entry in entries:
            if entry.boot_id != previous_boot:
                out.append(f"-- Boot {entry.boot_id} --")
                previous_boot = entry.boot_id
            stamp = time.strftime("%b %d %H:%M:%S", time.gmtime(entry.when))
            out.append(f"{stamp} {self.hostname} {entry.ident}[{entry.pid}]: {entry.message}")
        return out
