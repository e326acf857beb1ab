"""The watcher's outbox: every notice on disk until each of its targets has it.

One file per notice (0600, written atomically), named by a sequence number that only
grows, listing the targets that still owe it. A target gets its notices in order: the
first one it fails stops its queue, and it is tried again after a backoff. A notice
leaves the disk once every target has taken it, so nothing is lost to a restart, a
SIGKILL or a target that is down for hours.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from binderctl.errors import BinderctlError
from binderctl.paths import exclusive_lock, private_dir, write_private
from binderctl.services.alert_state import Notice

BACKOFF_FIRST = 2.0
BACKOFF_MAX = 300.0
_SEQUENCE = "sequence"


class DeliveryError(Exception):
    """A target did not take a notice; the message is safe to log (no secret in it)."""


class OutboxLocked(BinderctlError):
    pass


@dataclass
class TargetQueue:
    failures: int = 0
    retry_at: float = 0.0
    last_error: str | None = None


@dataclass(frozen=True)
class Queued:
    path: Path
    sequence: int
    notice: Notice
    owed: tuple[str, ...]


class Outbox:
    def __init__(self, root: Path) -> None:
        self.root = private_dir(root)
        self.queues: dict[str, TargetQueue] = {}

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Held for the watcher's lifetime: one watcher per outbox."""
        with exclusive_lock(self.root / "lock", wait=False) as held:
            if not held:
                raise OutboxLocked(
                    f"another `binderctl watch` is running with the outbox {self.root}",
                    hint="stop it first, or give this one another state directory",
                )
            yield

    def _next_sequence(self) -> int:
        path = self.root / _SEQUENCE
        try:
            current = int(path.read_text(encoding="ascii").strip() or 0)
        except (FileNotFoundError, ValueError):
            current = max((q.sequence for q in self.queued()), default=0)
        write_private(path, str(current + 1))
        return current + 1

    def put(self, notice: Notice, targets: tuple[str, ...]) -> None:
        if not targets:
            return
        sequence = self._next_sequence()
        body = {"notice": notice.to_json(), "owed": list(targets)}
        write_private(self.root / f"{sequence:012d}.json", json.dumps(body))

    def queued(self) -> list[Queued]:
        found = []
        for path in sorted(self.root.glob("[0-9]*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                notice = Notice.from_json(data["notice"])
                owed = tuple(str(t) for t in data["owed"])
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a half-written file cannot exist (atomic writes); skip debris
            found.append(Queued(path, int(path.stem), notice, owed))
        return found

    def _save(self, item: Queued, owed: list[str]) -> None:
        if owed:
            write_private(item.path, json.dumps({"notice": item.notice.to_json(), "owed": owed}))
        else:
            item.path.unlink(missing_ok=True)

    def deliver(
        self,
        senders: dict[str, Callable[[Notice], None]],
        now: float,
        log: Callable[[str, dict[str, object]], None],
    ) -> int:
        """Send what each target owes, in order, until one fails; returns how many went."""
        sent = 0
        blocked: set[str] = set()
        for item in self.queued():
            owed = list(item.owed)
            for target in item.owed:
                send = senders.get(target)
                queue = self.queues.setdefault(target, TargetQueue())
                if send is None or target in blocked or queue.retry_at > now:
                    blocked.add(target)
                    continue
                try:
                    send(item.notice)
                except DeliveryError as exc:
                    queue.failures += 1
                    backoff = BACKOFF_FIRST * 2 ** min(queue.failures - 1, 16)
                    queue.retry_at = now + min(BACKOFF_MAX, backoff)
                    queue.last_error = str(exc)
                    blocked.add(target)
                    log(
                        "delivery failed",
                        {"target": target, "id": item.notice.id, "error": str(exc)},
                    )
                    continue
                queue.failures, queue.retry_at, queue.last_error = 0, 0.0, None
                owed.remove(target)
                self._save(item, owed)  # at once: a kill now must not send it twice
                sent += 1
                log("delivered", {"target": target, "id": item.notice.id})
        return sent
