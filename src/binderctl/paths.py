"""Where binderctl keeps its files, and how it writes private ones.

``BINDERCTL_HOME`` moves the data, state and cache dirs under one folder (the demo
uses it so it never touches the operator's real files).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from binderctl.errors import ConfigError
from binderctl.parsing import parse_path

APP = "binderctl"
HOME_ENV = "BINDERCTL_HOME"
CONFIG_ENV = "BINDERCTL_CONFIG"


def expand(text: str, source: str) -> Path:
    """A path the operator gave (``source``: the option or variable), ``~`` expanded;
    an empty path or an unknown ``~user`` is a ConfigError (exit code 2)."""
    try:
        return parse_path(text)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return expand(value, HOME_ENV) if value else None


def _platform_dir(kind: str) -> Path:
    import platformdirs

    getter = {
        "config": platformdirs.user_config_path,
        "data": platformdirs.user_data_path,
        "state": platformdirs.user_state_path,
        "cache": platformdirs.user_cache_path,
    }[kind]
    return Path(getter(APP))


def app_dir(kind: str) -> Path:
    """The directory for ``kind`` (config, data, state or cache), not created."""
    home = _home()
    if home is not None:
        return home / kind
    return _platform_dir(kind)


def default_config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    if env:
        return expand(env, CONFIG_ENV)
    return app_dir("config") / "config.toml"


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 for the dirs binderctl creates."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
    return path


def member_dir(kind: str, member: str) -> Path:
    return private_dir(app_dir(kind) / member)


def write_private(path: Path, data: str | bytes) -> None:
    """Write ``data`` atomically to ``path``; the file is 0600 from its creation."""
    private_dir(path.parent)
    raw = data.encode() if isinstance(data, str) else data
    # A temporary name of its own (mkstemp: 0600, exclusive), as threads may write at once.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def append_private(path: Path) -> Iterator[int]:
    """Open ``path`` for appending (0600 from creation) and yield the raw descriptor."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive_lock(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path`` (a 0600 lock file, made if missing);
    yields False instead when ``wait`` is False and another process holds it."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def assets_dir() -> Path:
    """The packaged assets (cloud-init template, stylesheets, chart values)."""
    packaged = Path(__file__).parent / "assets"
    if packaged.is_dir():
        return packaged
    # Editable installs and source checkouts keep assets/ at the repository root.
    return Path(__file__).resolve().parents[2] / "assets"
