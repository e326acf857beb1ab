"""The append-only audit log: one JSON line per action, also refused and failed ones.

A record names the action (its catalogue name), a one-line target, its parameters, the
outcome and its detail, and ``targets``: each object the action acted on (a selection
of sessions or builds, dind's pods) with that object's own outcome. Records written
before ``targets`` existed read back with none.

``<state dir>/<member>/audit.jsonl``, 0600 from creation, each record written with one
``write`` on an ``O_APPEND`` descriptor and fsync'd before the action is reported done.

While an action runs, a marker ``audit.pending.<pid>.json`` says what it is; if the
process dies before the record is written (SIGKILL, power loss), the next action or
``binderctl audit`` records it with the outcome ``lost``, so no action goes unrecorded.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from binderctl.errors import BinderctlError
from binderctl.paths import app_dir, append_private, write_private

AUDIT_FILE = "audit.jsonl"
Outcome = Literal["ok", "failed", "refused", "interrupted", "lost"]
PENDING_PREFIX = "audit.pending."
LOST_DETAIL = "the process ended while this action ran; its outcome is unknown (check status)"


@dataclass(frozen=True)
class AuditRecord:
    time: float
    user: str
    member: str
    action: str
    target: str
    parameters: Mapping[str, object] = field(default_factory=dict)
    outcome: Outcome = "ok"
    detail: str = ""
    targets: Mapping[str, str] = field(default_factory=dict)  # object -> its outcome

    def to_json(self) -> dict[str, object]:
        document = asdict(self)
        document["time"] = datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds")
        return document


def audit_path(member: str) -> Path:
    return app_dir("state") / member / AUDIT_FILE


def local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _pending_path(member: str, pid: int) -> Path:
    return audit_path(member).with_name(f"{PENDING_PREFIX}{pid}.json")


def begin(
    member: str,
    action: str,
    target: str,
    parameters: Mapping[str, object],
    targets: Mapping[str, str] | None = None,
) -> None:
    """Mark an action as running in this process (see ``recover``)."""
    marker = {
        "time": time.time(),
        "user": local_user(),
        "action": action,
        "target": target,
        "parameters": {k: _plain(v) for k, v in parameters.items()},
        "targets": list(targets or ()),
    }
    write_private(_pending_path(member, os.getpid()), json.dumps(marker))


def end(member: str) -> None:
    _pending_path(member, os.getpid()).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def in_flight(member: str) -> bool:
    """Whether a live process is running an action on the member now."""
    folder = audit_path(member).parent
    for marker in folder.glob(f"{PENDING_PREFIX}*.json") if folder.is_dir() else ():
        pid = marker.name.removeprefix(PENDING_PREFIX).removesuffix(".json")
        if pid.isdigit() and _alive(int(pid)):
            return True
    return False


def recover(member: str) -> None:
    """Record, as ``lost``, the actions of processes that died while running them."""
    folder = audit_path(member).parent
    if not folder.is_dir():
        return
    for marker in folder.glob(f"{PENDING_PREFIX}*.json"):
        pid = marker.name.removeprefix(PENDING_PREFIX).removesuffix(".json")
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            data = json.loads(marker.read_text(encoding="utf-8"))
            append(
                member,
                str(data["action"]),
                str(data["target"]),
                data.get("parameters") or {},
                "lost",
                LOST_DETAIL,
                when=float(data["time"]),
                user=str(data["user"]),
                targets={str(name): "unknown" for name in data.get("targets") or ()},
            )
        except (OSError, ValueError, KeyError, TypeError):
            pass
        marker.unlink(missing_ok=True)


def append(
    member: str,
    action: str,
    target: str,
    parameters: Mapping[str, object],
    outcome: Outcome,
    detail: str = "",
    *,
    when: float | None = None,
    user: str | None = None,
    targets: Mapping[str, str] | None = None,
) -> AuditRecord:
    record = AuditRecord(
        time=time.time() if when is None else when,
        user=user or local_user(),
        member=member,
        action=action,
        target=target,
        parameters={k: _plain(v) for k, v in parameters.items()},
        outcome=outcome,
        detail=detail,
        targets=dict(targets or {}),
    )
    line = json.dumps(record.to_json(), ensure_ascii=True, separators=(",", ":")) + "\n"
    path = audit_path(member)
    if not _ends_a_line(path):
        line = "\n" + line  # a torn last record stays one unreadable line of its own
    try:
        with append_private(path) as fd:
            os.write(fd, line.encode())
            os.fsync(fd)
    except OSError as exc:
        raise BinderctlError(f"cannot write the audit log {path}: {exc.strerror or exc}") from None
    return record


def _ends_a_line(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
    except OSError:  # missing or empty
        return True


def _parse(line: str) -> AuditRecord | None:
    try:
        document = json.loads(line)
        when = datetime.fromisoformat(document["time"]).timestamp()
        return AuditRecord(
            time=when,
            user=str(document["user"]),
            member=str(document["member"]),
            action=str(document["action"]),
            target=str(document["target"]),
            parameters=dict(document.get("parameters") or {}),
            outcome=document["outcome"],
            detail=str(document.get("detail", "")),
            targets={str(k): str(v) for k, v in (document.get("targets") or {}).items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def read(member: str, since: float | None = None) -> list[AuditRecord]:
    """The member's records, oldest first; ``since`` keeps those at or after it.

    A line that cannot be parsed (a torn write after a crash) is skipped.
    """
    path = audit_path(member)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise BinderctlError(f"cannot read the audit log {path}: {exc.strerror or exc}") from None
    records = [r for r in map(_parse, text.splitlines()) if r is not None]
    if since is not None:
        records = [r for r in records if r.time >= since]
    return records


def acted_on(member: str, since: float) -> dict[str, str]:
    """Each object an action took since ``since`` (or one running now) -> that action's
    name: what binderctl did to a pod that went away."""
    acted = {
        name: record.action
        for record in read(member, since)
        for name, outcome in record.targets.items()
        if outcome != "not run"
    }
    folder = audit_path(member).parent
    for marker in folder.glob(f"{PENDING_PREFIX}*.json") if folder.is_dir() else ():
        try:
            running = json.loads(marker.read_text(encoding="utf-8"))
            acted.update(dict.fromkeys(map(str, running.get("targets") or ()), running["action"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # being written or removed as it is read
    return acted
