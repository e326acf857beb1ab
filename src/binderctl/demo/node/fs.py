"""The simulated node's disk: files with content, mode and owner, kept in memory."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass


@dataclass
class File:
    content: bytes
    mode: int = 0o644
    owner: str = "root"
    group: str = "root"


class MemoryFS:
    """Absolute paths to files; directories exist implicitly above every file."""

    def __init__(self) -> None:
        self._files: dict[str, File] = {}

    @staticmethod
    def _norm(path: str) -> str:
        return posixpath.normpath(posixpath.join("/", path))

    def write(
        self,
        path: str,
        content: bytes | str,
        *,
        mode: int = 0o644,
        owner: str = "root",
        group: str = "root",
        append: bool = False,
    ) -> None:
        data = content.encode() if isinstance(content, str) else content
        key = self._norm(path)
        existing = self._files.get(key)
        if append and existing is not None:
            existing.content += data
            return
        self._files[key] = File(data, mode, owner, group)

    def append(self, path: str, text: str) -> None:
        self.write(path, text, append=True)

    def get(self, path: str) -> File | None:
        return self._files.get(self._norm(path))

    def read(self, path: str) -> bytes:
        found = self.get(path)
        if found is None:
            raise FileNotFoundError(path)
        return found.content

    def remove(self, path: str) -> None:
        self._files.pop(self._norm(path), None)

    def is_dir(self, path: str) -> bool:
        prefix = self._norm(path).rstrip("/") + "/"
        return any(name.startswith(prefix) for name in self._files)

    def exists(self, path: str) -> bool:
        return self.get(path) is not None or self.is_dir(path)

    def files_in(self, directory: str) -> list[str]:
        """Paths of the files directly in ``directory``, sorted by name."""
        prefix = self._norm(directory).rstrip("/") + "/"
        return sorted(
            name
            for name in self._files
            if name.startswith(prefix) and "/" not in name[len(prefix) :]
        )
