"""Kernel parameters: defaults at boot, then what systemd-sysctl applies from sysctl.d."""

from __future__ import annotations

import posixpath

from binderctl.demo.node.fs import MemoryFS

# systemd-sysctl's search path; a file name in an earlier directory hides later ones.
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d")
SYSCTL_CONF = "/etc/sysctl.conf"
# Kernel memory per inotify watch (struct inotify_inode_mark + 2 struct inode), measured.
_INOTIFY_WATCH_COST = 1325


def kernel_defaults(memory_gib: int) -> dict[str, str]:
    """Linux >= 5.11 sizes max_user_watches at 1 % of RAM, clamped to [8192, 1048576]."""
    watches = min(max(memory_gib * 2**30 // 100 // _INOTIFY_WATCH_COST, 8192), 1048576)
    return {
        "fs.inotify.max_queued_events": "16384",
        "fs.inotify.max_user_instances": "128",
        "fs.inotify.max_user_watches": str(watches),
    }


class Sysctl:
    def __init__(self, fs: MemoryFS, memory_gib: int) -> None:
        self._fs = fs
        self._memory_gib = memory_gib
        self.values = kernel_defaults(memory_gib)

    def reset(self) -> None:
        """A boot: back to the kernel's defaults (``sysctl -w`` does not survive)."""
        self.values = kernel_defaults(self._memory_gib)

    def config_files(self) -> list[str]:
        chosen: dict[str, str] = {}
        for directory in SYSCTL_DIRS:
            for path in self._fs.files_in(directory):
                name = posixpath.basename(path)
                if name.endswith(".conf"):
                    chosen.setdefault(name, path)
        files = [chosen[name] for name in sorted(chosen)]
        return [*files, SYSCTL_CONF] if self._fs.get(SYSCTL_CONF) else files

    def apply_file(self, path: str) -> list[tuple[str, str]]:
        """Apply ``key = value`` lines of a known key; returns what was set."""
        applied = []
        for raw in self._fs.read(path).decode(errors="replace").splitlines():
            line = raw.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            key, _, value = line.partition("=")
            key, value = key.strip().lstrip("-").replace("/", "."), value.strip()
            if key in self.values:
                self.values[key] = value
                applied.append((key, value))
        return applied

    def apply_all(self) -> None:
        for path in self.config_files():
            self.apply_file(path)
