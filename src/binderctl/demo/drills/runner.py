"""One drill at a time on the world's member, and its scoreboard.

While a drill runs, the runner checks on the world's loop whether it is resolved, and
asks binderctl's own judgement (``services.status``: the attention items that
``binderctl status`` and the console report) in a worker thread until an item of one of
the drill's kinds names the incident: the time binderctl first showed it. When the
drill resolves, the audited actions taken since it started are what resolved it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from binderctl.demo.drills.catalogue import DRILLS, Drill
from binderctl.demo.drills.scene import Scene
from binderctl.errors import BinderctlError, UsageError
from binderctl.models import Attention

if TYPE_CHECKING:
    from binderctl.demo.world import DemoWorld

WATCH_SECONDS = 0.25
DEFAULT_DURATION = 600.0  # simulated seconds, for drills that end by themselves
KEEP_FINISHED = 20
ACTION_GRACE = 60.0  # seconds an action that was running when the drill ended may take


class UnknownDrill(UsageError):
    """No drill of that name (the control endpoint answers 404)."""


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")


@dataclass
class DrillRun:
    drill: Drill
    started: float
    detail: str
    state: str = "running"  # running | resolved | stopped
    detected: float | None = None
    detected_by: str | None = None
    ended: float | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def since(moment: float | None) -> float | None:
            return None if moment is None else round(moment - self.started, 3)

        return {
            **self.drill.describe(),
            "state": self.state,
            "detail": self.detail,
            "started_at": _iso(self.started),
            "detected_at": _iso(self.detected),
            "detected_by": self.detected_by,
            "ended_at": _iso(self.ended),
            "seconds_to_detect": since(self.detected),
            "seconds_to_resolve": since(self.ended) if self.state == "resolved" else None,
            "resolved_by": self.actions,
        }


class DrillRunner:
    def __init__(self, world: DemoWorld) -> None:
        self.world = world
        self.scene = Scene(world)
        self.current: DrillRun | None = None
        self.finished: list[DrillRun] = []
        self._task: asyncio.Task[None] | None = None
        # os.environ is patched per call: one worker at a time
        self._environment = threading.Lock()

    # -- on the world's loop ---------------------------------------------------------
    async def start(self, name: str, duration: float = DEFAULT_DURATION) -> DrillRun:
        kind = DRILLS.get(name)
        if kind is None:
            raise UnknownDrill(f"no drill {name!r}; the drills are: {', '.join(DRILLS)}")
        if self.current is not None:
            raise BinderctlError(
                f"drill {self.current.drill.name} is running",
                hint="`binderctl demo drill stop` ends it first",
            )
        drill = kind(self.scene, duration)
        started = time.time()
        detail = await drill.start()
        self.current = run = DrillRun(drill, started, detail)
        self._task = asyncio.get_running_loop().create_task(self._watch(run))
        return run

    async def stop(self) -> DrillRun:
        run = self.current
        if run is None or run.ended is not None:
            raise BinderctlError("no drill is running")
        await self._end(run, "stopped")
        return run

    def status(self) -> dict[str, Any]:
        run = self.current or (self.finished[-1] if self.finished else None)
        return {
            "current": run.to_json() if run else None,
            "finished": [r.to_json() for r in self.finished],
        }

    async def close(self) -> None:
        if self.current is not None and self.current.ended is None:
            await self._end(self.current, "stopped")

    async def _end(self, run: DrillRun, state: str) -> None:
        """Undo what is left of the fault, wait for the audit records of actions still
        running, then score: the run stays current (``running``) until it is scored."""
        run.ended = time.time()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        with contextlib.suppress(BinderctlError):
            await run.drill.stop()
        loop = asyncio.get_running_loop()
        run.actions = await loop.run_in_executor(None, self._actions, run.started)
        run.state = state
        self.finished = [*self.finished, run][-KEEP_FINISHED:]
        self.current = None

    async def _watch(self, run: DrillRun) -> None:
        loop = asyncio.get_running_loop()
        probe: asyncio.Future[tuple[Attention, ...]] | None = None
        while True:
            if run.detected is None:
                if probe is None:
                    probe = loop.run_in_executor(None, self._attention)
                elif probe.done():
                    flagged = _flagged(run.drill, probe.result())
                    if flagged is not None:
                        run.detected, run.detected_by = time.time(), flagged
                    probe = None
            try:
                over = run.drill.resolved()
            except BinderctlError:
                over = False
            if over:
                if probe is not None:
                    probe.cancel()
                await self._end(run, "resolved")
                return
            await asyncio.sleep(WATCH_SECONDS)

    # -- in worker threads: binderctl's own judgement and audit log ------------------
    def _attention(self) -> tuple[Attention, ...]:
        from binderctl.config import load_config
        from binderctl.demo.world import MEMBER
        from binderctl.services.kube import Kube
        from binderctl.services.status import status_report

        try:
            config = load_config(self.world.config_path)
            member = config.member(MEMBER)
            with self._environment, self.world.environment():
                kube = Kube(member, self.world.kubeconfig_path)
                with kube:
                    return status_report(member, kube, config=config).attention
        except BinderctlError as exc:
            return (Attention("unreadable", "error", exc.message),)

    def _actions(self, since: float) -> list[dict[str, Any]]:
        """The audited actions since ``since``, once those still running are recorded."""
        from binderctl.demo.world import MEMBER
        from binderctl.services import audit

        with self._environment, self.world.environment():
            deadline = time.monotonic() + ACTION_GRACE
            while audit.in_flight(MEMBER) and time.monotonic() < deadline:
                time.sleep(WATCH_SECONDS)
            until = time.time()
            records = audit.read(MEMBER, since=since)
        return [
            {
                "time": _iso(r.time),
                "action": r.action,
                "target": r.target,
                "outcome": r.outcome,
                "detail": r.detail,
            }
            for r in records
            if r.time <= until
        ]


def _flagged(drill: Drill, items: tuple[Attention, ...]) -> str | None:
    """The text of the first item that names ``drill``, or None."""
    return next((item.text for item in items if item.kind in drill.kinds), None)
