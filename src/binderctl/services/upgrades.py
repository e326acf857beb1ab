"""What the staged upgrades (k3s, the charts) share: the run's state file, the drain and
resume steps, and an audit record per step.

A run's steps are recorded as provisioning's are (``services/stages.py``) in the state
dir's ``upgrade-<kind>.json`` (0600), with what the run is about (from which version to
which), so that Ctrl-C, a lost connection or a failure at any step leaves a state the
next run finds: it verifies the steps that are done and goes on from where it stopped.
Once every step is done the run is finished and the next one starts afresh. A run that
fails after the drain leaves the member drained: nothing resumes into a member whose
upgrade did not verify.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from binderctl import formatting
from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.paths import member_dir, write_private
from binderctl.services import audit, quota_change, stages
from binderctl.services.binderhub import fetch_health, get_launch_quota
from binderctl.services.kube import NODES, PODS, Kube, KubeError, Obj, node_address
from binderctl.services.rotation import read_drain_record
from binderctl.services.stages import Listener, ProgressEvent, Step, StepResult

if TYPE_CHECKING:
    from binderctl.services.actions import Operations, Prepared

Kind = Literal["k3s", "charts"]
T = TypeVar("T")
DEFAULT_TIMEOUT = 900.0  # the longest wait of any one step


@dataclass(frozen=True)
class UpgradeOptions:
    """How the drain waits (as ``binderctl drain --wait``) and how long any step waits."""

    threshold: int = 0
    force_after: float | None = None
    timeout: float = DEFAULT_TIMEOUT


class UpgradeRun:
    """What the steps of one upgrade share (``stages.StepContext``)."""

    progress: Callable[[str], None]
    notice: Callable[[str], None]
    results: dict[str, StepResult]

    def __init__(
        self, member: MemberConfig, ops: Operations, options: UpgradeOptions, state: dict[str, Any]
    ) -> None:
        self.member = member
        self.ops = ops
        self.options = options
        self.state = state  # what the run is about: its "facts"; and its steps
        self.results = {}
        self.progress = lambda message: None
        self.notice = lambda text: None

    @property
    def kube(self) -> Kube:
        return self.ops.kube

    @property
    def facts(self) -> dict[str, Any]:
        facts: dict[str, Any] = self.state["facts"]
        return facts


UpgradeStep = Step[UpgradeRun]


def state_path(member: MemberConfig, kind: Kind) -> Path:
    return member_dir("state", member.name) / f"upgrade-{kind}.json"


def load_state(member: MemberConfig, kind: Kind) -> dict[str, Any] | None:
    """The recorded run (None when there is none or it cannot be read)."""
    try:
        state = json.loads(state_path(member, kind).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("steps"), dict):
        return None
    if not isinstance(state.get("facts"), dict):
        return None
    return state


def unfinished(member: MemberConfig, kind: Kind) -> dict[str, Any] | None:
    state = load_state(member, kind)
    return state if state is not None and not state.get("finished") else None


def new_state(member: MemberConfig, kind: Kind, facts: dict[str, Any]) -> dict[str, Any]:
    return {"member": member.name, "kind": kind, "started": stages.stamp(), "finished": None,
            "facts": facts, "steps": {}}  # fmt: skip


def save(member: MemberConfig, kind: Kind, state: dict[str, Any]) -> None:
    state["updated"] = stages.stamp()
    write_private(state_path(member, kind), json.dumps(state, indent=2) + "\n")


def run(
    kind: Kind,
    context: UpgradeRun,
    steps: Sequence[UpgradeStep],
    on_event: Listener,
    targets: dict[str, str],
) -> None:
    """Run ``steps``: each one's outcome goes to its own audit record (action
    ``upgrade-<kind>``, target ``step <name>``) and into ``targets``; the state file
    records them; at the end the run is finished."""
    member, state = context.member, context.state
    action = f"upgrade-{kind}"
    about = {k: v for k, v in context.facts.items() if k in ("from", "to", "changes")}

    def listen(event: ProgressEvent) -> None:
        on_event(event)
        if event.state in ("done", "skipped", "failed"):
            interrupted = event.state == "failed" and event.message == "interrupted"
            outcome: audit.Outcome = (
                "interrupted" if interrupted else "failed" if event.state == "failed" else "ok"
            )
            detail = ("verified, not redone: " if event.state == "skipped" else "") + event.message
            audit.append(member.name, action, f"step {event.step}", about, outcome, detail)
            targets[event.step] = "verified" if event.state == "skipped" else event.state

    for step in steps:
        targets.setdefault(step.name, "not run")
    waiting = [UpgradeStep(s.name, s.title, _after_api(s.run), _after_api(s.verify)) for s in steps]
    stages.run_steps(waiting, context, state["steps"], lambda: save(member, kind, state), listen)
    state["finished"] = stages.stamp()
    save(member, kind, state)


POLL_SECONDS = 1.0


def wait_until(
    run: UpgradeRun,
    pending: Callable[[], str | None],
    timed_out: Callable[[str], BinderctlError],
) -> None:
    """Ask ``pending`` every ``POLL_SECONDS`` until it says None (done); progress each
    new line it says; past the step timeout raise ``timed_out(line)``. A Kubernetes API
    that does not answer (k3s restarts during an upgrade) is waited for too."""
    deadline = time.monotonic() + run.options.timeout
    said = ""
    while True:
        try:
            line = pending()
        except KubeError as exc:
            if exc.status != 0:
                raise
            line = f"waiting for the Kubernetes API (k3s restarts?): {exc.message}"
        if line is None:
            return
        if line != said:
            run.progress(line)
            said = line
        if time.monotonic() >= deadline:
            raise timed_out(line)
        time.sleep(POLL_SECONDS)


def wait_for_api(run: UpgradeRun) -> None:
    """Until the Kubernetes API answers (a run resumed while k3s restarts waits for it)."""

    def answers() -> None:
        run.kube.list(NODES)

    wait_until(run, answers, lambda line: BinderctlError(line))


def _after_api(part: Callable[[UpgradeRun], T]) -> Callable[[UpgradeRun], T]:
    def waited(run: UpgradeRun) -> T:
        wait_for_api(run)
        return part(run)

    return waited


# -- drain and resume, as `binderctl drain --wait` and `binderctl resume` ---------------


def drain(run: UpgradeRun) -> StepResult:
    options = run.options
    action = run.ops.drain(
        wait=True,
        threshold=options.threshold,
        force_after=options.force_after,
        timeout=options.timeout,
    )
    return StepResult(action.prepare().execute(run.progress))


def drained(run: UpgradeRun) -> StepResult | None:
    """Still drained: the drain record, quota 0 in the chart and in BinderHub's /health."""
    if read_drain_record(run.member.name) is None or get_launch_quota(run.kube) != 0:
        return None
    health = fetch_health(run.member, node_address(run.member))
    if quota_change.reported_quota(health) != (True, 0):
        return None
    return StepResult("still drained: BinderHub reports launch quota 0")


def _kept_drained(run: UpgradeRun) -> StepResult | None:
    if not run.facts.get("was_drained"):
        return None
    return StepResult(
        "the member was drained before the upgrade began, so it stays drained "
        "(`binderctl resume` when it should take launches again)"
    )


def resume(run: UpgradeRun) -> StepResult:
    kept = _kept_drained(run)
    if kept is not None:
        return kept
    action = run.ops.resume(timeout=run.options.timeout)
    return StepResult(action.prepare().execute(run.progress))


def resumed(run: UpgradeRun) -> StepResult | None:
    kept = _kept_drained(run)
    if kept is not None:
        return kept
    if read_drain_record(run.member.name) is not None:
        return None
    quota = get_launch_quota(run.kube)
    if quota == 0:
        return None
    return StepResult(f"in rotation again: launch quota {quota_change.shown(quota)}")


def was_drained(member: MemberConfig, kube: Kube) -> bool:
    """Whether the operator had drained the member before the upgrade began."""
    return read_drain_record(member.name) is not None or get_launch_quota(kube) == 0


DRAIN_STEP = UpgradeStep("drain", "Drain", drain, drained)
RESUME_STEP = UpgradeStep("resume", "Resume", resume, resumed)


Words = Callable[[UpgradeRun], str]


def verify_step(
    problems: Callable[[UpgradeRun], list[str]], done: Words, what: Words, rollback: Words
) -> UpgradeStep:
    """The ``verify`` step: wait until ``problems`` lists none; past the timeout fail
    (the member stays drained) saying ``what`` does not verify and how to go back."""

    def verify(run: UpgradeRun) -> StepResult:
        def pending() -> str | None:
            found = problems(run)
            return "waiting: " + "; ".join(found) if found else None

        wait_until(
            run,
            pending,
            lambda line: failure(
                f"{what(run)} does not verify: {line.removeprefix('waiting: ')}", rollback(run)
            ),
        )
        return StepResult(done(run))

    def verified(run: UpgradeRun) -> StepResult | None:
        try:
            found = problems(run)
        except KubeError:
            return None
        return None if found else StepResult("still verified")

    return UpgradeStep("verify", "Verify", verify, verified)


def log_tail(kube: Kube, pod: Obj, count: int) -> list[str]:
    """The last ``count`` lines of a pod's log."""
    meta = pod["metadata"]
    response = kube.open(
        "GET", PODS, namespace=meta["namespace"], name=meta["name"], sub="log",
        query={"tailLines": count},
    )  # fmt: skip
    try:
        text: str = response.data.decode(errors="replace")
    finally:
        response.release_conn()
    return text.strip().splitlines()


def failure(problem: str, rollback: str) -> BinderctlError:
    """A step after the drain failed: the member stays drained; how to go back."""
    return BinderctlError(
        f"{problem}; the member stays drained (out of rotation)",
        hint=f"{rollback}; or fix the cause and run the same command again: it verifies "
        "what is done and goes on from this step",
    )


def _as_progress(progress: Callable[[str], None]) -> Listener:
    """Step events as progress lines (for a face that shows lines, not steps)."""

    def listen(event: ProgressEvent) -> None:
        if event.state == "running" and event.message:
            progress(f"{event.title}: {event.message}")
        elif event.state in ("done", "skipped"):
            verified = " (verified, not redone)" if event.state == "skipped" else ""
            progress(f"{event.title}: done{verified}: {event.message}")

    return listen


def steps_text(lines: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"{n + 1}. {name}: {text}" for n, (name, text) in enumerate(lines))


def prepared(
    ops: Operations,
    kind: Kind,
    facts: dict[str, Any] | None,
    *,
    steps: Sequence[UpgradeStep],
    lines: Sequence[tuple[str, str]],
    about: str,
    options: UpgradeOptions,
    dry_run: bool,
    fresh: bool,
) -> Prepared:
    """The action's prepared run: ``facts`` None means there is nothing to do (``about``
    says why); a dry run lists the steps and changes nothing; ``fresh`` starts over
    instead of resuming an unfinished run."""
    from binderctl.services.actions import Prepared

    details = f"{about}\n{steps_text(lines)}" if facts is not None else about
    targets: dict[str, str] = {}

    def execute(progress: Callable[[str], None]) -> str:
        if facts is None:
            return about
        if dry_run:
            return f"dry run, nothing changed: {details}"
        state = None if fresh else unfinished(ops.member, kind)
        context = UpgradeRun(ops.member, ops, options, state or new_state(ops.member, kind, facts))
        started = time.monotonic()
        run(kind, context, steps, ops.events or _as_progress(progress), targets)
        took = formatting.age(time.monotonic() - started)
        done = ", ".join(f"{name} {outcome}" for name, outcome in targets.items())
        return f"{about}: {done} (took {took})"

    return Prepared(details, execute, targets)
