"""`binderctl upgrade schedule`: k3s kept current by the system-upgrade-controller in a
maintenance window, as mybinder does (jupyterhub/mybinder.org-deploy
``config/k3s/k3s-upgrade-plan.yaml``: concurrency 1, no cordon, the ``rancher/k3s-upgrade``
image, the stable channel, nodes with ``node.kubernetes.io/instance-type: k3s``, Sunday
00:00-02:00 UTC). A scheduled upgrade does not drain first, as mybinder's does not.

The controller takes the channel's release whatever minor the node runs, so the schedule
is refused while the node is more than one minor behind it (`binderctl upgrade k3s`
first, one minor at a time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from binderctl.errors import BinderctlError, UsageError
from binderctl.formatting import age
from binderctl.maintenance_window import Window, check, next_opening
from binderctl.services import k3s_releases, system_upgrade
from binderctl.services.kube import Kube, KubeError, Obj, get_or_none
from binderctl.services.upgrade_k3s import node_version
from binderctl.services.upgrades import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from binderctl.services.actions import Operations, Prepared


@dataclass(frozen=True)
class Schedule:
    """The scheduled Plan as the cluster has it."""

    channel: str
    window: Window | None
    latest: str  # what the controller resolved the channel to ("" before it has)
    state: str  # the Complete condition's reason: Waiting, SyncJob, Complete, ...
    message: str
    opens: datetime | None  # the window open now or next
    closes: datetime | None

    def words(self, now: float) -> str:
        """``k3s auto-upgrade opens in 3d 4h (Sunday 00:00-02:00 UTC): stable,
        v1.36.3+k3s1, Waiting`` (the pending window first: status's line is cut to the
        terminal)."""
        target = self.latest.replace("-k3s", "+k3s") or "not resolved yet"
        what = f"{self.channel.rstrip('/').rsplit('/', 1)[-1]}, {target}, {self.state or 'new'}"
        if self.window is None:
            return f"k3s auto-upgrade any time: {what}"
        when = f"window {self.window.text()}"
        if self.opens is not None and self.closes is not None:
            if self.opens.timestamp() <= now:
                when = f"open now, closes in {age(self.closes.timestamp() - now)}"
            else:
                when = f"opens in {age(self.opens.timestamp() - now)}"
            when += f" ({self.window.text()})"
        return f"k3s auto-upgrade {when}: {what}"

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "window": self.window.spec() if self.window else None,
            "latest": self.latest,
            "state": self.state,
            "message": self.message,
            "opens": self.opens.isoformat() if self.opens else None,
            "closes": self.closes.isoformat() if self.closes else None,
        }


def _window(plan: Obj) -> Window | None:
    window = (plan.get("spec") or {}).get("window")
    return Window.from_spec(window) if isinstance(window, dict) else None


def schedule(kube: Kube, now: float | None = None) -> Schedule | None:
    """The scheduled upgrade, or None (no Plan, or no controller)."""
    try:
        plan = get_or_none(
            kube, system_upgrade.PLANS, system_upgrade.SCHEDULED_PLAN, system_upgrade.NAMESPACE
        )
    except KubeError:
        return None
    if plan is None:
        return None
    window = _window(plan)
    opens = closes = None
    if window is not None:
        try:
            moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
            opens, closes = next_opening(window, moment)
        except ValueError:
            pass
    complete = system_upgrade.condition(plan, "Complete")
    return Schedule(
        channel=str((plan.get("spec") or {}).get("channel") or ""),
        window=window,
        latest=str((plan.get("status") or {}).get("latestVersion") or ""),
        state=str(complete.get("reason") or ""),
        message=str(complete.get("message") or ""),
        opens=opens,
        closes=closes,
    )


def _refuse_skips(ops: Operations) -> str:
    """The channel's release, if the node is at most one minor behind it."""
    upgrades = ops.upgrades
    channels = k3s_releases.channels(upgrades.channel_url)
    goal = channels.channel(upgrades.channel)
    if goal is None:
        raise BinderctlError(f"the channel {upgrades.channel!r} has no release")
    node = node_version(ops.kube)
    problem = k3s_releases.one_minor_at_a_time(node.version, goal)
    if problem is not None and node.version != goal:
        raise BinderctlError(
            f"a scheduled upgrade to {upgrades.channel} ({goal}) cannot run on node "
            f"{node.name}: {problem}",
            hint="bring it within one minor first: `binderctl upgrade k3s` (repeat as needed)",
        )
    return goal


def prepare(ops: Operations, window: Window, remove: bool) -> Prepared:
    from binderctl.services.actions import Prepared

    plan_name = f"{system_upgrade.NAMESPACE}/{system_upgrade.SCHEDULED_PLAN}"
    if remove:
        return Prepared(f"delete Plan {plan_name}", lambda progress: _remove(ops.kube))
    try:
        check(window)
    except ValueError as exc:
        raise UsageError(f"the maintenance window: {exc}") from None
    goal = _refuse_skips(ops)
    url = f"{ops.upgrades.channel_url}/{ops.upgrades.channel}"
    opens, _ = next_opening(window, datetime.now(UTC))
    details = (
        f"Plan {plan_name}: channel {url} (now {goal}), window {window.text()} (next opens "
        f"{opens:%a %Y-%m-%d %H:%M %Z}); installs the system-upgrade-controller "
        f"{system_upgrade.CONTROLLER_VERSION} if missing"
    )

    def execute(progress: Any) -> str:
        kube = ops.kube
        system_upgrade.ensure_controller(kube, progress, DEFAULT_TIMEOUT)
        plan = system_upgrade.plan_object(system_upgrade.SCHEDULED_PLAN, channel=url,
                                          window=window)  # fmt: skip
        outcome = system_upgrade.apply(kube, system_upgrade.PLANS, plan)
        return f"Plan {plan_name} {outcome}: k3s follows {ops.upgrades.channel} in {window.text()}"

    return Prepared(details, execute)


def _remove(kube: Kube) -> str:
    try:
        kube.delete(system_upgrade.PLANS, system_upgrade.SCHEDULED_PLAN, system_upgrade.NAMESPACE)
    except KubeError as exc:
        if exc.status == 404:
            return "there was no scheduled k3s upgrade"
        raise
    return "the scheduled k3s upgrade is removed"
