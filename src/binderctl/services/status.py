"""The on-call's first question, answered: one snapshot plus what needs attention."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from binderctl.config import Config, MemberConfig
from binderctl.errors import BinderctlError
from binderctl.federation_config import DEFAULT_FEDERATION
from binderctl.formatting import age
from binderctl.parsing import covers_world
from binderctl.services.cluster import ClusterState, collect
from binderctl.services.federation import HostReport, member_verdict
from binderctl.services.kube import Kube, client_cert_expiry
from binderctl.services.mapping import STUCK_AFTER_SECONDS

CERT_WARN_SECONDS = 30 * 86400
NEAR_FULL = 0.9


@dataclass(frozen=True)
class StatusReport:
    member: str
    server: str
    state: ClusterState
    cert_expiry: float | None
    cert_error: str | None
    world_open_ports: tuple[int, ...]  # from the config: the firewall opens these to all
    problems: tuple[str, ...]
    federation: HostReport | None = None  # the member as the redirector's rules see it


def world_open_ports(member: MemberConfig) -> tuple[int, ...]:
    ports = []
    if covers_world(member.ssh_allowed_cidrs):
        ports.append(22)
    if covers_world(member.api_allowed_cidrs):
        ports.append(6443)
    return tuple(ports)


def problems(
    state: ClusterState,
    member: MemberConfig,
    cert_expiry: float | None,
    open_ports: tuple[int, ...],
    observed: HostReport | None = None,
    pod_headroom: int = DEFAULT_FEDERATION.check.pod_headroom,
) -> tuple[str, ...]:
    found: list[str] = [f"cannot read {part}: {why}" for part, why in state.errors.items()]
    health = state.health
    if health is not None:
        if health.ok is None:
            found.append(f"BinderHub health unknown: {health.error}")
        elif not health.ok:
            failing = ", ".join(c.service for c in health.checks if not c.ok) or "?"
            found.append(f"BinderHub health check failing: {failing}")
    rotation = state.rotation
    if rotation is not None:
        if rotation.problem:
            found.append(rotation.problem)
        elif rotation.quota_error is None and not rotation.in_rotation:
            found.append("out of rotation (drained): `binderctl resume` puts it back")
        quota = rotation.quota
        pods = len(state.sessions) + len(state.builds)  # BinderHub's total_pods
        if observed is None and quota and pods + pod_headroom >= quota:
            found.append(
                f"total_pods {pods} + pod_headroom {pod_headroom} >= quota {quota}: the "
                "federation sends no launches here until sessions end"
            )
    if observed is not None and observed.verdict.in_rotation is not True:
        verdict = observed.verdict
        head = "rotation unknown" if verdict.in_rotation is None else "out of rotation"
        found.append(f"{head} by the redirector's rules: {verdict.detail}")
    node = state.node
    if node is not None:
        if node.conditions.get("Ready") != "True":
            found.append(f"node {node.name} is not Ready")
        for pressure in ("DiskPressure", "MemoryPressure", "PIDPressure"):
            if node.conditions.get(pressure) == "True":
                found.append(f"node {node.name} reports {pressure}")
        if node.pods_max and node.pods_used >= node.pods_max:
            found.append(
                f"pods {node.pods_used}/{node.pods_max}: at max_pods, new pods fail (OutOfpods)"
            )
        elif node.pods_max and node.pods_used >= NEAR_FULL * node.pods_max:
            found.append(f"pods {node.pods_used}/{node.pods_max}: close to max_pods")
    for name, component in sorted(state.components.items()):
        if component.ready < component.desired:
            found.append(f"{name}: {component.ready}/{component.desired} ready")
    stuck = [b for b in state.builds.values() if b.stuck]
    if stuck:
        found.append(
            f"{len(stuck)} build(s) stuck: `binderctl restart dind` frees hung builds, "
            "`binderctl delete-builds --stuck` removes them"
        )
    if cert_expiry is not None and cert_expiry - time.time() < CERT_WARN_SECONDS:
        left = cert_expiry - time.time()
        when = "has expired" if left <= 0 else f"expires in {age(left)}"
        found.append(f"the k3s client certificate {when}: run `binderctl renew-certs`")
    for port in open_ports:
        found.append(f"the firewall opens port {port} to the whole internet (config)")
    return tuple(found)


def status_report(
    member: MemberConfig,
    kube: Kube,
    *,
    stuck_after: float = STUCK_AFTER_SECONDS,
    disk: bool = False,
    config: Config | None = None,
) -> StatusReport:
    """``disk``: also read the node's disk usage over SSH (slower: an SSH login);
    ``config``: also judge the member by the federation redirector's rules (its
    ``[federation]``: the prime, the check settings)."""
    parts: tuple[str, ...] = ("pods", "nodes", "events", "workloads", "node_metrics", "health")
    parts += ("disk",) if disk else ()
    import httpx  # noqa: F401  (in this thread first: both threads use it)

    with ThreadPoolExecutor(1, thread_name_prefix="binderctl-federation") as pool:
        # the redirector's view (up to its timeout) while the cluster is read
        judged = pool.submit(member_verdict, config, member) if config is not None else None
        state = collect(kube, member, parts, stuck_after=stuck_after)
        observed = judged.result() if judged is not None else None
    try:
        expiry, cert_error = client_cert_expiry(kube.path), None
    except BinderctlError as exc:
        expiry, cert_error = None, exc.message
    open_ports = world_open_ports(member)
    headroom = (config.federation if config else DEFAULT_FEDERATION).check.pod_headroom
    return StatusReport(
        member=member.name,
        server=kube.server,
        state=state,
        cert_expiry=expiry,
        cert_error=cert_error,
        world_open_ports=open_ports,
        problems=problems(state, member, expiry, open_ports, observed, headroom),
        federation=observed,
    )
