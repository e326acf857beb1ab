"""`binderctl watch`: the attention policy, evaluated unattended, sent where people look.

For each member the watcher keeps the live model (the console's) and, at their own
slower pace, what the model does not hold: the client certificate's expiry, the
redirector's verdict, the month's budget and the Hetzner server's flags. Every
``interval`` the attention policy judges them; the tracker turns what it finds into
notices (after each rule's "for", with reminders and resolutions); the outbox keeps them
until each target has taken them. Its state lives under the state directory, so a
restart (even after SIGKILL) neither repeats nor loses a notice.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from binderctl.config import Config, MemberConfig
from binderctl.errors import BinderctlError
from binderctl.paths import app_dir, write_private
from binderctl.services.alert_state import AlertTracker, Finding, Notice
from binderctl.services.outbox import Outbox

CERT_SECONDS = 10.0  # a local file: cheap, and renew-certs rewrites it
BUDGET_SECONDS = 600.0
SERVER_SECONDS = 60.0
DELIVER_SECONDS = 1.0  # how often a waiting outbox is tried between evaluations
# An automatic action runs at most once in this long per rule and member (its audit
# records are the memory, so a restart does not run it again).
AUTO_ACTION_EVERY = 3600.0
AUTO_ACTOR = "binderctl watch"

Log = Callable[[str, dict[str, Any]], None]


class Judge(Protocol):
    def __call__(self, watch: MemberWatch, now: float) -> list[Finding]: ...

    def reconfigure(self, config: Config, watches: Iterable[MemberWatch]) -> None: ...


def stderr_log(event: str, fields: dict[str, Any]) -> None:
    """One JSON object per line on stderr: structured for journald and log shippers."""
    line = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "event": event, **fields}
    print(json.dumps(line, default=str), file=sys.stderr, flush=True)


def state_dir() -> Path:
    return app_dir("state") / "watch"


def tracker_path(root: Path, member: str) -> Path:
    return root / f"alerts-{member}.json"


def load_tracker(root: Path, member: str) -> AlertTracker:
    path = tracker_path(root, member)
    try:
        return AlertTracker.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return AlertTracker(member)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BinderctlError(
            f"{path}: unreadable watcher state ({exc})",
            hint="remove the file to start afresh (firing rules are then sent again)",
        ) from None


@dataclass
class Cached:
    """A slow read, redone every ``every`` seconds; a failure keeps its message."""

    every: float
    read: Callable[[], Any]
    value: Any = None
    error: str | None = None
    at: float = float("-inf")

    def get(self, now: float) -> Any:
        if now - self.at >= self.every:
            self.at = now
            try:
                self.value, self.error = self.read(), None
            except BinderctlError as exc:
                self.value, self.error = None, exc.message
        return self.value


@dataclass
class MemberWatch:
    member: MemberConfig
    tracker: AlertTracker
    reads: dict[str, Cached] = field(default_factory=dict)
    model: Any = None  # the ClusterModel, once it started
    start_error: str | None = None


class Watcher:
    def __init__(
        self,
        config: Config,
        members: Iterable[MemberConfig],
        *,
        judge: Judge,
        senders: dict[str, Callable[[Notice], None]],
        root: Path | None = None,
        log: Log = stderr_log,
        clock: Callable[[], float] = time.time,
        readonly: bool = False,
    ) -> None:
        self.config = config
        self.readonly = readonly
        self.root = root or state_dir()
        self.outbox = Outbox(self.root / "outbox")
        self.judge = judge
        self.senders = senders
        self.log = log
        self.clock = clock
        self.members = [MemberWatch(m, load_tracker(self.root, m.name)) for m in members]
        self._config_stamp = self._stamp()

    def _stamp(self) -> int | None:
        try:
            return self.config.path.stat().st_mtime_ns
        except OSError:
            return None

    def _reload(self) -> None:
        """A changed config file is read again (rules, targets' settings, budget caps);
        a broken one is logged and the last good one kept."""
        from binderctl.config import load_config

        stamp = self._stamp()
        if stamp == self._config_stamp:
            return
        self._config_stamp = stamp
        try:
            config = load_config(self.config.path)
            members = [config.member(w.member.name) for w in self.members]
        except BinderctlError as exc:
            self.log("config-reload-failed", {"error": exc.message})
            return
        self.config = config
        for watch, member in zip(self.members, members, strict=True):
            watch.member = member
        self.judge.reconfigure(config, self.members)
        self.log("config-reloaded", {"path": str(config.path)})

    def _save_tracker(self, watch: MemberWatch) -> None:
        path = tracker_path(self.root, watch.member.name)
        write_private(path, json.dumps(watch.tracker.to_json()))

    # -- one evaluation -----------------------------------------------------------------
    def evaluate(self) -> list[Notice]:
        """Judge every member once; queue and return the notices it gives."""
        self._reload()
        now = self.clock()
        targets = tuple(self.senders)
        notices: list[Notice] = []
        for watch in self.members:
            findings = self.judge(watch, now)
            before = watch.tracker.to_json()
            new = watch.tracker.step(now, findings, self.config.watch.rule)
            for notice in new:
                self.outbox.put(notice, targets)
                self.log(
                    "notice",
                    {"member": notice.member, "kind": notice.kind, "state": notice.state},
                )
                if notice.state == "firing":
                    self._auto_action(watch, notice, findings)
            if new or watch.tracker.to_json() != before:
                self._save_tracker(watch)
            notices += new
        return notices

    def _auto_action(self, watch: MemberWatch, notice: Notice, findings: list[Finding]) -> None:
        """Run the rule's action by itself: through the catalogue, the action runner
        (read-only refuses it) and the audit log, at most once per AUTO_ACTION_EVERY."""
        from binderctl.services import audit, catalogue
        from binderctl.services.actions import ActionRunner, Operations

        finding = next(f for f in findings if f.key == notice.key)
        name = self.config.watch.rule(finding).auto_action
        if name is None:
            return
        member = watch.member
        actor = f"{AUTO_ACTOR} (rule {notice.kind})"
        recent = audit.read(member.name, since=self.clock() - AUTO_ACTION_EVERY)
        if any(r.user == actor and r.action == name for r in recent):
            self.log("auto-action skipped", {"member": member.name, "action": name,
                                             "why": "ran within the last hour"})  # fmt: skip
            return
        runner = ActionRunner(member, readonly=self.readonly, confirm=lambda *_: True, actor=actor)
        try:
            ops = Operations(member, check=self.config.federation.check)
            detail = runner.run(catalogue.build(ops, catalogue.request(name)))
        except BinderctlError as exc:
            self.log("auto-action failed", {"member": member.name, "action": name,
                                            "error": exc.message})  # fmt: skip
            return
        self.log("auto-action", {"member": member.name, "action": name, "detail": detail})

    def deliver(self) -> int:
        return self.outbox.deliver(self.senders, self.clock(), self.log)

    def firing(self) -> bool:
        return any(w.tracker.firing() for w in self.members)

    def run(self, stop: threading.Event) -> None:
        """Evaluate every ``interval`` and deliver in between, until ``stop`` is set."""
        interval = self.config.watch.interval
        with self.outbox.locked():
            self.log("started", {"members": [w.member.name for w in self.members]})
            next_evaluation = 0.0
            while not stop.is_set():
                now = self.clock()
                if now >= next_evaluation:
                    self.evaluate()
                    next_evaluation = now + interval
                self.deliver()
                stop.wait(min(DELIVER_SECONDS, max(0.0, next_evaluation - self.clock())))
            self.log("stopped", {})
