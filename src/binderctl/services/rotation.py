"""In rotation or not: the launch quota, the cordon, the drain record, and the federation
redirector's check settings.

A drain records the quota it replaces (state dir ``drain.json``, 0600) before it sets
the quota to 0; resume restores exactly that value, also after a crash in between.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from binderctl.errors import BinderctlError
from binderctl.models import Rotation
from binderctl.paths import app_dir, write_private

DRAIN_RECORD = "drain.json"


@dataclass(frozen=True)
class DrainRecord:
    previous_quota: int | None  # None: there was no limit
    time: float
    user: str


def drain_record_path(member: str) -> Path:
    return app_dir("state") / member / DRAIN_RECORD


def read_drain_record(member: str) -> DrainRecord | None:
    path = drain_record_path(member)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        quota = document["previous_quota"]
        if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int)):
            raise ValueError(f"previous_quota is {quota!r}")
        return DrainRecord(quota, float(document["time"]), str(document.get("user", "")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BinderctlError(
            f"{path}: unreadable drain record ({exc})",
            hint="check the file; it holds the launch quota that resume restores",
        ) from None


def write_drain_record(member: str, previous_quota: int | None, user: str) -> DrainRecord:
    record = DrainRecord(previous_quota, time.time(), user)
    document = {"previous_quota": record.previous_quota, "time": record.time, "user": user}
    write_private(drain_record_path(member), json.dumps(document) + "\n")
    return record


def clear_drain_record(member: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        drain_record_path(member).unlink()


def rotation_of(
    member: str, quota: int | None, cordoned: bool, quota_error: str | None = None
) -> Rotation:
    try:
        record = read_drain_record(member)
    except BinderctlError:
        record = None
    return Rotation(
        quota=quota,
        cordoned=cordoned,
        drain_recorded=record is not None,
        previous_quota=record.previous_quota if record else None,
        quota_error=quota_error,
    )
