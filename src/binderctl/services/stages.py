"""Named steps run in order, each one recorded so that an interrupted run resumes.

Provisioning and the staged upgrades run their steps here. Each step is check, act,
verify (``run``), safe to repeat, and has a read-only ``verify`` that says whether what
it did still holds. Before a step starts and after it ends its record (in a dict the
caller saves, ``save``) says so: ``running``, then ``done``, ``failed`` or
``interrupted`` (Ctrl-C) with the message and the time it took. A step recorded as done
is only verified on the next run, and run again only if what it did no longer holds.
Progress goes to a listener as ``ProgressEvent``s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

from binderctl.errors import BinderctlError

StepState = Literal["pending", "running", "done", "skipped", "failed"]


@dataclass(frozen=True)
class ProgressEvent:
    step: str
    title: str
    state: StepState
    message: str = ""
    elapsed: float = 0.0
    notice: str = ""  # several lines the operator must act on (the DNS records)


@dataclass(frozen=True)
class StepResult:
    message: str
    data: dict[str, Any] = field(default_factory=dict)  # what later steps read


class StepContext(Protocol):
    """What the steps of one run share: their progress callbacks and earlier results."""

    progress: Callable[[str], None]
    notice: Callable[[str], None]
    results: dict[str, StepResult]


C = TypeVar("C", bound=StepContext)


@dataclass(frozen=True)
class Step(Generic[C]):
    name: str
    title: str
    run: Callable[[C], StepResult]  # check, act, verify; safe to repeat
    verify: Callable[[C], StepResult | None]  # read-only; None when no longer true


Listener = Callable[[ProgressEvent], None]


def stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def failure_text(exc: BaseException) -> str:
    return exc.message if isinstance(exc, BinderctlError) else f"{type(exc).__name__}: {exc}"


def run_steps(
    steps: Sequence[Step[C]],
    context: C,
    records: dict[str, dict[str, Any]],
    save: Callable[[], None],
    on_event: Listener,
) -> None:
    """Run ``steps`` in order with ``context``; raise on the first failure or Ctrl-C,
    recorded in ``records`` (saved with ``save``), so that a rerun resumes there."""
    for step in steps:
        on_event(ProgressEvent(step.name, step.title, "pending"))
    for step in steps:
        record = records.setdefault(step.name, {})
        was_done = record.get("state") == "done"
        started = time.monotonic()

        def progress(message: str, step: Step[C] = step, started: float = started) -> None:
            on_event(
                ProgressEvent(step.name, step.title, "running", message, time.monotonic() - started)
            )

        def notice(text: str, step: Step[C] = step, started: float = started) -> None:
            on_event(
                ProgressEvent(
                    step.name, step.title, "running", text.splitlines()[0],
                    time.monotonic() - started, notice=text,
                )
            )  # fmt: skip

        context.progress, context.notice = progress, notice
        try:  # from here on an interrupt is recorded against this step
            on_event(ProgressEvent(step.name, step.title, "running"))
            record.pop("verified", None)
            record.update(state="running", started=stamp())
            save()
            result = step.verify(context) if was_done else None
            outcome: StepState = "skipped" if result else "done"
            if result is None:
                result = step.run(context)
        except (Exception, KeyboardInterrupt) as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            message = "interrupted" if interrupted else failure_text(exc)
            elapsed = time.monotonic() - started
            record.update(
                state="interrupted" if interrupted else "failed",
                message=message,
                elapsed=round(elapsed, 3),
            )
            save()
            on_event(ProgressEvent(step.name, step.title, "failed", message, elapsed))
            raise
        elapsed = time.monotonic() - started
        context.results[step.name] = result
        record.update(
            state="done",
            verified=outcome == "skipped",  # what it did still holds: nothing was redone
            message=result.message,
            data=result.data,
            elapsed=round(elapsed, 3),
        )
        save()
        on_event(ProgressEvent(step.name, step.title, outcome, result.message, elapsed))
