"""Where a simulated command writes: an SSH channel, or a log file on the node."""

from __future__ import annotations

from typing import Protocol

from binderctl.demo.node.fs import MemoryFS


class Output(Protocol):
    def out(self, text: str) -> None: ...

    def err(self, text: str) -> None: ...

    @property
    def closing(self) -> bool:
        """True once nobody reads the output any more (the SSH channel closed)."""
        ...


class FileOutput:
    """Both streams appended to one file, as cloud-init does with its runcmd output."""

    closing = False

    def __init__(self, fs: MemoryFS, path: str) -> None:
        self._fs = fs
        self._path = path

    def out(self, text: str) -> None:
        self._fs.append(self._path, text)

    err = out
