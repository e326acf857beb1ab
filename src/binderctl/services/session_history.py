"""How many sessions ran, in hourly buckets, for cost per session-hour and sizing.

The live model calls ``record_sample`` with what it sees; the budget reads
``summarize(load_history(member), since, until)``. Each bucket holds the seconds that
were sampled, the session-seconds in them, the launches and the peak of sessions.
Times are POSIX seconds. The file keeps 90 days and is rewritten atomically per sample.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.paths import member_dir, write_private
from binderctl.services.budget import SessionUsage

HISTORY_FILE = "sessions.json"
BUCKET_SECONDS = 3600
RETENTION_SECONDS = 90 * 86400
# Samples further apart than this are not joined: nobody watched in between, and the
# launch counter may have restarted.
MAX_GAP_SECONDS = 300


class HistoryError(BinderctlError):
    pass


@dataclass
class Bucket:
    covered_seconds: int = 0
    session_seconds: int = 0
    launches: int = 0
    peak_sessions: int = 0


@dataclass
class History:
    last: tuple[int, int, int] | None = None  # time, sessions running, launches total
    buckets: dict[int, Bucket] = field(default_factory=dict)  # by hour start

    def bucket(self, time: int) -> Bucket:
        return self.buckets.setdefault(time - time % BUCKET_SECONDS, Bucket())


def add_sample(history: History, time: float, sessions_running: int, launches_total: int) -> None:
    """Fold one sample into ``history``: the interval since the last sample is counted
    with the sessions of the last sample; ``launches_total`` is a counter that grows
    while the model runs (a drop means it restarted)."""
    if sessions_running < 0 or launches_total < 0:
        raise ValueError("sessions_running and launches_total must be >= 0")
    now = int(time)
    current = history.bucket(now)
    current.peak_sessions = max(current.peak_sessions, sessions_running)
    last = history.last
    if last is not None and 0 < now - last[0] <= MAX_GAP_SECONDS:
        start, sessions, launches_before = last
        restarted = launches_total < launches_before
        current.launches += launches_total - (0 if restarted else launches_before)
        while start < now:
            bucket_end = min(now, start - start % BUCKET_SECONDS + BUCKET_SECONDS)
            part = history.bucket(start)
            part.covered_seconds += bucket_end - start
            part.session_seconds += (bucket_end - start) * sessions
            start = bucket_end
    if last is None or now != last[0]:
        history.last = (now, sessions_running, launches_total)
    oldest = now - RETENTION_SECONDS
    for hour in [h for h in history.buckets if h < oldest]:
        del history.buckets[hour]


def summarize(history: History, since: float, until: float) -> SessionUsage:
    """Totals over the buckets whose hour starts in [since rounded down to the hour, until)."""
    low = int(since) - int(since) % BUCKET_SECONDS
    chosen = [b for hour, b in history.buckets.items() if low <= hour < until]
    return SessionUsage(
        covered_seconds=sum(b.covered_seconds for b in chosen),
        session_seconds=sum(b.session_seconds for b in chosen),
        launches=sum(b.launches for b in chosen),
        peak_sessions=max((b.peak_sessions for b in chosen), default=0),
    )


def history_path(member: MemberConfig) -> Path:
    return member_dir("state", member.name) / HISTORY_FILE


def _counts(value: object, size: int) -> list[int]:
    if (
        not isinstance(value, list)
        or len(value) != size
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    ):
        raise ValueError(f"expected {size} whole numbers >= 0, got {str(value)[:60]}")
    return value


def load_history(member: MemberConfig) -> History:
    """The stored history (empty if there is none); ``HistoryError`` if unreadable."""
    path = history_path(member)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        last = document["last"]
        return History(
            last=None if last is None else tuple(_counts(last, 3)),  # type: ignore[arg-type]  # _counts checked: 3 ints
            buckets={
                row[0]: Bucket(*row[1:]) for row in (_counts(r, 5) for r in document["buckets"])
            },
        )
    except FileNotFoundError:
        return History()
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise HistoryError(f"the session history {path} is unreadable: {exc}") from None


def save_history(member: MemberConfig, history: History) -> None:
    rows = [
        [hour, b.covered_seconds, b.session_seconds, b.launches, b.peak_sessions]
        for hour, b in sorted(history.buckets.items())
    ]
    last = None if history.last is None else list(history.last)
    document = {"version": 1, "last": last, "buckets": rows}
    write_private(history_path(member), json.dumps(document, separators=(",", ":")))


def record_sample(
    member: MemberConfig, time: float, sessions_running: int, launches_total: int
) -> None:
    """Add one sample of the live model to the member's history (an unreadable history
    is started over)."""
    try:
        history = load_history(member)
    except HistoryError:
        history = History()
    add_sample(history, time, sessions_running, launches_total)
    save_history(member, history)
