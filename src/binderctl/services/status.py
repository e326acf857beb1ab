"""The on-call's first question, answered: one snapshot plus what needs attention
(judged by ``services/attention.py``, as the console judges it)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from binderctl.config import Config, MemberConfig
from binderctl.errors import BinderctlError
from binderctl.federation_config import DEFAULT_FEDERATION
from binderctl.models import Attention
from binderctl.services import k3s_releases
from binderctl.services.attention import Facts, judge, world_open_ports
from binderctl.services.cluster import ClusterState, collect
from binderctl.services.federation import HostReport, member_verdict
from binderctl.services.hetzner import ServerFlags, read_server_flags
from binderctl.services.kube import Kube, client_cert_expiry
from binderctl.services.mapping import STUCK_AFTER_SECONDS
from binderctl.services.upgrade_schedule import Schedule, schedule
from binderctl.upgrades_config import DEFAULT_UPGRADES


@dataclass(frozen=True)
class StatusReport:
    member: str
    server: str
    state: ClusterState
    cert_expiry: float | None
    cert_error: str | None
    world_open_ports: tuple[int, ...]  # from the config: the firewall opens these to all
    attention: tuple[Attention, ...]  # what needs attention, worst first
    federation: HostReport | None = None  # the member as the redirector's rules see it
    schedule: Schedule | None = None  # the automatic k3s upgrade and its window
    hetzner: ServerFlags | None = None  # the server's abuse flags (None: not asked)

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(item.text for item in self.attention)


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
    parts: tuple[str, ...] = (
        *("pods", "nodes", "events", "workloads", "node_metrics", "health", "traffic"),
    )
    parts += ("disk",) if disk else ()
    import httpx  # noqa: F401  (in this thread first: both threads use it)

    with ThreadPoolExecutor(2, thread_name_prefix="binderctl-status") as pool:
        # the redirector's view (up to its timeout) and Hetzner's while the cluster is read
        judged = pool.submit(member_verdict, config, member) if config is not None else None
        hetzner = pool.submit(read_server_flags, member, 0)
        state = collect(kube, member, parts, stuck_after=stuck_after)
        scheduled = schedule(kube)
        observed = judged.result() if judged is not None else None
        server, hetzner_error = hetzner.result()
    try:
        expiry, cert_error = client_cert_expiry(kube.path), None
    except BinderctlError as exc:
        expiry, cert_error = None, exc.message
    upgrades = config.upgrades if config is not None else DEFAULT_UPGRADES
    facts = Facts(
        cert_expiry=expiry,
        cert_error=cert_error,
        open_ports=world_open_ports(member),
        observed=None if observed is None else observed.verdict,
        pod_headroom=(config.federation if config else DEFAULT_FEDERATION).check.pod_headroom,
        server=server,
        hetzner_error=hetzner_error,
        k3s=k3s_releases.known_support(upgrades.channel_url, upgrades.channel),
    )
    return StatusReport(
        member=member.name,
        server=kube.server,
        state=state,
        cert_expiry=expiry,
        cert_error=cert_error,
        world_open_ports=facts.open_ports,
        attention=judge(state, facts, time.time()),
        federation=observed,
        schedule=scheduled,
        hetzner=server,
    )
