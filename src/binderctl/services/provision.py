"""The provisioning pipeline: named steps run in order, each one check, act, verify.

Progress goes to a callback as ``ProgressEvent``s. After every step the outcome is
recorded in the member's state dir (``provision.json``, 0600, no secrets), so an
interrupted run resumes: a step recorded as done is only verified (read-only) and is
run again only if what it did no longer holds.

The step list is ``STEPS``: Hetzner resources, then the node (SSH, cloud-init and k3s,
kubeconfig) and the cluster (charts, rollout, BinderHub health).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from binderctl.config import MemberConfig, load_config
from binderctl.errors import BinderctlError, ConfigError
from binderctl.federation_config import DEFAULT_FEDERATION, FederationConfig
from binderctl.parsing import ssh_fingerprint
from binderctl.paths import member_dir, write_private
from binderctl.services import charts, dns, prime_versions, rollout, stages
from binderctl.services.actions import Action, Prepared, Progress
from binderctl.services.attention import CERT_RENEW_BEFORE_SECONDS
from binderctl.services.binderhub import fetch_health
from binderctl.services.cloudinit import render_cloud_init
from binderctl.services.federation import snippet_entry
from binderctl.services.hetzner import Ensured, Found, HetznerService, PlanItem
from binderctl.services.kube import (
    HELMCHARTS,
    NODES,
    Kube,
    KubeError,
    client_cert_expiry,
    kubeconfig_path,
)
from binderctl.services.node import Node, check_ssh_key, forget_host_key
from binderctl.services.rotation import read_drain_record
from binderctl.services.stages import Listener, StepResult
from binderctl.services.stages import ProgressEvent as ProgressEvent  # the faces import it here
from binderctl.services.stages import StepState as StepState

STATE_FILE = "provision.json"
DEFAULT_TIMEOUT = 900.0
# Stands in for the server's IPv4 when sizing the cloud-init user data in a plan.
PLACEHOLDER_IPV4 = "203.0.113.255"
HEALTH_FIRST_POLL = 0.1  # seconds; doubles up to HEALTH_POLL_SECONDS
HEALTH_POLL_SECONDS = 1.0


class Run:
    """What the steps of one run share: the member, its services, earlier results."""

    progress: Callable[[str], None]
    notice: Callable[[str], None]
    results: dict[str, StepResult]

    def __init__(
        self,
        member: MemberConfig,
        hetzner: HetznerService,
        timeout: float = DEFAULT_TIMEOUT,
        federation: FederationConfig | None = None,
        *,
        skip_dns_wait: bool = False,
    ) -> None:
        self.member = member
        self.hetzner = hetzner
        self.federation = federation or configured_federation()
        self.timeout = timeout  # the longest wait of any one step
        self.skip_dns_wait = skip_dns_wait
        self.results: dict[str, StepResult] = {}
        self.progress: Callable[[str], None] = lambda message: None
        self.notice: Callable[[str], None] = lambda text: None

    def value(self, step: str, key: str) -> Any:
        return self.results[step].data[key]


Step = stages.Step[Run]


def public_key(member: MemberConfig) -> str:
    """The operator's public key (``<ssh_key>.pub``), checked to be one."""
    path = Path(f"{member.ssh_key_path}.pub")
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(
            f"members.{member.name}.ssh_key: the public key {path} does not exist",
            hint=f"create the key pair with `ssh-keygen -t ed25519 -f {member.ssh_key_path}`",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the SSH public key {path}: {exc}") from None
    try:
        ssh_fingerprint(text)
    except ValueError as exc:
        raise ConfigError(f"{path} is not an SSH public key: {exc}") from None
    return text


def _found(found: Found) -> StepResult:
    data: dict[str, Any] = {"id": found.id, "name": found.name}
    if found.ipv4:
        data["ipv4"] = found.ipv4
    return StepResult(f"{found.kind} {found.name} (id {found.id})", data)


def _ensured(ensured: Ensured) -> StepResult:
    result = _found(ensured.found)
    return StepResult(ensured.message, {**result.data, "outcome": ensured.outcome})


def _verified(found: Found | None) -> StepResult | None:
    if found is None or found.drift:
        return None
    result = _found(found)
    return StepResult(f"verified {result.message}", result.data)


def _check(run: Run) -> StepResult:
    key = check_ssh_key(run.member)
    password = charts.registry_password(run.member)
    message = f"{run.hetzner.check_server_type()}; SSH key {key.fingerprint}"
    if password is not None:
        message += f"; registry password from {password.source}"
    return StepResult(message)


def _dns_result(lookups: list[dns.Lookup]) -> StepResult:
    names = ", ".join(lookup.record.name for lookup in lookups)
    return StepResult(f"{names} resolve to {lookups[0].record.value}")


def _dns(run: Run) -> StepResult:
    """Print the records; wait until they resolve (Let's Encrypt and the federation
    reach the member by these names), unless the operator said not to."""
    ipv4 = run.value("primary-ip", "ipv4")
    records = dns.records(run.member, ipv4)
    run.notice(dns.records_text(records))
    if run.skip_dns_wait:
        return StepResult("not checked (--skip-dns-wait): " + ", ".join(r.name for r in records))
    return _dns_result(dns.wait_for_records(run.member, ipv4, run.timeout, run.progress))


def _dns_verified(run: Run) -> StepResult | None:
    if run.skip_dns_wait:
        return _dns(run)
    lookups = dns.check(run.member, run.value("primary-ip", "ipv4"))
    return _dns_result(lookups) if all(lookup.ok for lookup in lookups) else None


def _server(run: Run) -> StepResult:
    ipv4 = run.value("primary-ip", "ipv4")
    ensured = run.hetzner.ensure_server(
        render_cloud_init(run.member, ipv4),
        ssh_key_id=run.value("ssh-key", "id"),
        firewall_id=run.value("firewall", "id"),
        primary_ip_id=run.value("primary-ip", "id"),
    )
    if ensured.outcome == "created":
        # A server created just now has a new host key; one pinned for its address
        # belonged to a server that was deleted (a teardown keeps the primary IP).
        forget_host_key(run.member, ipv4)
    return _ensured(ensured)


def _server_verified(run: Run) -> StepResult | None:
    return _verified(
        run.hetzner.server_status(run.value("firewall", "id"), run.value("primary-ip", "id"))
    )


def _node(run: Run) -> Node:
    return Node(run.member, run.value("server", "ipv4"))


def _ssh(run: Run) -> StepResult:
    node = _node(run)
    return StepResult(node.wait_for_ssh(run.timeout))


def _k3s(run: Run) -> StepResult:
    node = _node(run)
    cloud_init = node.wait_for_cloud_init(run.timeout)
    node.wait_for_k3s(run.timeout)
    return StepResult(f"{cloud_init}; k3s active")


def _k3s_verified(run: Run) -> StepResult | None:
    node = _node(run)
    if node.run("systemctl is-active k3s", check=False, timeout=30).exit_status != 0:
        return None
    return StepResult("k3s active")


def _kubeconfig(run: Run) -> StepResult:
    fetched = _node(run).fetch_kubeconfig()
    expires = fetched.expires.isoformat(timespec="seconds")
    return StepResult(
        f"{fetched.path} (client certificate expires {fetched.expires:%Y-%m-%d})",
        {"path": str(fetched.path), "expires": expires},
    )


def _kubeconfig_verified(run: Run) -> StepResult | None:
    path = kubeconfig_path(run.member.name)
    try:
        expiry = client_cert_expiry(path) if path.exists() else None
        if expiry is None or expiry - time.time() < CERT_RENEW_BEFORE_SECONDS:
            return None
        with Kube(run.member) as kube:
            kube.list(NODES)
    except (ConfigError, KubeError):
        return None  # unreadable, or not accepted (a rebuilt server's new k3s): fetch again
    expires = datetime.fromtimestamp(expiry, UTC)
    return StepResult(
        f"{path} (client certificate expires {expires:%Y-%m-%d})",
        {"path": str(path), "expires": expires.isoformat(timespec="seconds")},
    )


def _charts_quota(member: MemberConfig) -> tuple[int | None, str]:
    record = read_drain_record(member.name)
    if record is None:
        return None, ""
    return 0, " (member is drained: launch quota kept at 0; `binderctl resume` restores it)"


def configured_federation() -> FederationConfig:
    """The config file's ``[federation]`` (BINDERCTL_CONFIG or the default path), or the
    defaults when there is no readable file."""
    try:
        return load_config().federation
    except ConfigError:
        return DEFAULT_FEDERATION


def _pins(run: Run) -> prime_versions.Pins:
    """The chart version and build_image (the config's, else the prime's), warned about."""
    pins = prime_versions.resolve(run.member, run.federation)
    run.progress(
        f"binderhub chart {pins.chart_version} ({pins.chart_source}), build_image "
        f"{pins.build_image} ({pins.build_image_source})"
    )
    for warning in pins.warnings:
        run.progress(f"warning: {warning}")
    return pins


def _charts_result(outcome: dict[str, str], note: str, pins: prime_versions.Pins) -> StepResult:
    words = ", ".join(f"{name} {state}" for name, state in outcome.items())
    words += "".join(f"; warning: {warning}" for warning in pins.warnings)
    versions = {
        "binderhub_chart_version": {"value": pins.chart_version, "source": pins.chart_source},
        "build_image": {"value": pins.build_image, "source": pins.build_image_source},
    }
    return StepResult(
        words + note,
        {"charts": outcome, "versions": versions, "warnings": list(pins.warnings)},
    )


def _refuse_bundled_traefik(kube: Kube) -> None:
    """A node installed before binderctl disabled k3s's traefik: that one holds ports 80
    and 443, so the member's own (chart ``ingress``) could never serve."""
    try:
        kube.get(HELMCHARTS, "traefik", charts.CHART_NAMESPACE)
    except KubeError as exc:
        if exc.status == 404:
            return
        raise
    raise BinderctlError(
        "k3s on this node still deploys its bundled traefik, which holds ports 80 and 443 "
        "(the member's own traefik, with websocket-safe timeouts, is the chart `ingress`)",
        hint="on the node: put `disable: [traefik]` in /etc/rancher/k3s/config.yaml and "
        "the in-cluster registry in /etc/rancher/k3s/registries.yaml (see the README), "
        "then `systemctl restart k3s` and rerun; or rebuild the server",
    )


def _charts(run: Run) -> StepResult:
    quota, note = _charts_quota(run.member)
    pins = _pins(run)
    with Kube(run.member) as kube:
        _refuse_bundled_traefik(kube)
        return _charts_result(charts.apply_charts(kube, pins.apply(run.member), quota), note, pins)


def _charts_verified(run: Run) -> StepResult | None:
    quota, note = _charts_quota(run.member)
    pins = _pins(run)
    with Kube(run.member) as kube:
        drift = charts.chart_drift(kube, pins.apply(run.member), quota)
    if any(state != "unchanged" for state in drift.values()):
        return None
    return _charts_result(drift, note, pins)


def _rollout(run: Run) -> StepResult:
    with Kube(run.member) as kube:
        state = rollout.wait_for_rollout(kube, run.member, run.timeout, run.progress)
    return StepResult(f"{len(state.ready)} deployments and daemonsets ready")


def _rollout_verified(run: Run) -> StepResult | None:
    with Kube(run.member) as kube:
        state = rollout.readiness(kube, run.member)
    return (
        StepResult(f"{len(state.ready)} deployments and daemonsets ready") if state.done else None
    )


def _health(run: Run) -> StepResult:
    """Wait until /health is ok (read-only, so it is its own verification)."""
    deadline = time.monotonic() + run.timeout
    pause = HEALTH_FIRST_POLL
    while True:
        health = fetch_health(run.member, run.value("server", "ipv4"))
        if health.ok:
            break
        problem = health.error or ", ".join(c.service for c in health.checks if not c.ok)
        if time.monotonic() >= deadline:
            raise BinderctlError(
                f"BinderHub is not healthy after {int(run.timeout)}s: {problem}",
                hint="see `binderctl status` and `binderctl logs binder`",
            )
        run.progress(f"waiting for /health: {problem}")
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, HEALTH_POLL_SECONDS)
    checks = {c.service: "ok" if c.ok else "failing" for c in health.checks}
    version = health.versions.get("binderhub", "?")
    warnings = _versions_warnings(run, health.versions)
    for warning in warnings:
        run.progress(f"warning: {warning}")
    return StepResult(
        f"{len(checks)} checks ok, BinderHub {version}"
        + "".join(f"; warning: {warning}" for warning in warnings),
        {"checks": checks, "versions": health.versions, "warnings": warnings},
    )


def _versions_warnings(run: Run, ours: dict[str, Any]) -> list[str]:
    """The member's /versions against the prime's: each key that differs, both values."""
    url = run.federation.prime_versions_url
    try:
        prime = prime_versions.fetch_versions(url, run.federation.check.timeout)
    except ValueError as exc:
        return [f"cannot compare /versions with the prime's: {exc}"]
    diffs = prime_versions.differences(ours, prime)
    if not diffs:
        return []
    return [
        f"/versions differs from the prime's ({url}), so the redirector keeps the member "
        f"out of rotation: {prime_versions.describe(diffs)}"
    ]


HETZNER_STEPS: list[Step] = [
    Step("check", "Server type", _check, _check),
    Step(
        "ssh-key",
        "SSH key",
        lambda run: _ensured(run.hetzner.ensure_ssh_key(public_key(run.member))),
        lambda run: _verified(run.hetzner.ssh_key_status(public_key(run.member))),
    ),
    Step(
        "firewall",
        "Firewall",
        lambda run: _ensured(run.hetzner.ensure_firewall()),
        lambda run: _verified(run.hetzner.firewall_status()),
    ),
    Step(
        "primary-ip",
        "Primary IPv4",
        lambda run: _ensured(run.hetzner.ensure_primary_ip()),
        lambda run: _verified(run.hetzner.primary_ip_status()),
    ),
    Step("dns", "DNS records", _dns, _dns_verified),
    Step("server", "Server", _server, _server_verified),
]
NODE_STEPS: list[Step] = [
    Step("ssh", "SSH", _ssh, _ssh),
    Step("k3s", "cloud-init, k3s", _k3s, _k3s_verified),
    Step("kubeconfig", "Kubeconfig", _kubeconfig, _kubeconfig_verified),
    Step("charts", "Charts", _charts, _charts_verified),
    Step("rollout", "Rollout", _rollout, _rollout_verified),
    Step("health", "BinderHub health", _health, _health),
]
STEPS: list[Step] = HETZNER_STEPS + NODE_STEPS


def state_path(member: MemberConfig) -> Path:
    return member_dir("state", member.name) / STATE_FILE


def load_state(member: MemberConfig) -> dict[str, Any]:
    """The recorded state; a missing or unreadable file means nothing was done yet."""
    try:
        state = json.loads(state_path(member).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        state = None
    if not isinstance(state, dict) or not isinstance(state.get("steps"), dict):
        state = {"member": member.name, "steps": {}}
    return state


def _save(member: MemberConfig, state: dict[str, Any]) -> None:
    state["updated"] = stages.stamp()
    write_private(state_path(member), json.dumps(state, indent=2) + "\n")


def forget_state(member: MemberConfig) -> None:
    state_path(member).unlink(missing_ok=True)


@dataclass(frozen=True)
class Summary:
    member: str
    server_id: int | None
    server_name: str | None
    ipv4: str | None
    dns: list[tuple[str, str, str]]
    steps: list[dict[str, Any]]
    kubeconfig: str | None = None
    certificate_expires: str | None = None
    health: dict[str, str] = field(default_factory=dict)  # check -> ok / failing
    versions: dict[str, Any] = field(default_factory=dict)
    federation: dict[str, Any] = field(default_factory=dict)  # {name: prod.yaml entry}
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "server": {"id": self.server_id, "name": self.server_name, "ipv4": self.ipv4},
            "dns": [{"name": n, "type": t, "value": v} for n, t, v in self.dns],
            "kubeconfig": self.kubeconfig,
            "certificate_expires": self.certificate_expires,
            "health": self.health,
            "versions": self.versions,
            "federation": self.federation,
            "warnings": self.warnings,
            "steps": self.steps,
        }


def provision(
    member: MemberConfig,
    hetzner: HetznerService,
    on_event: Listener,
    steps: list[Step] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    federation: FederationConfig | None = None,
    skip_dns_wait: bool = False,
) -> Summary:
    """Run the steps in order; raise on the first failure (recorded, so a rerun resumes).

    ``federation``: the prime and the redirector's hosts (default: the config file's)."""
    state = load_state(member)
    records: dict[str, dict[str, Any]] = state["steps"]
    run = Run(member, hetzner, timeout, federation, skip_dns_wait=skip_dns_wait)
    stages.run_steps(
        STEPS if steps is None else steps, run, records, lambda: _save(member, state), on_event
    )
    return _summary(member, run, records)


def _summary(member: MemberConfig, run: Run, records: dict[str, dict[str, Any]]) -> Summary:
    server = run.results.get("server")
    ipv4 = server.data.get("ipv4") if server else None
    kubeconfig = run.results.get("kubeconfig")
    health = run.results.get("health")
    chart_step = run.results.get("charts")
    warnings = [
        *(chart_step.data.get("warnings", []) if chart_step else []),
        *(health.data.get("warnings", []) if health else []),
    ]
    return Summary(
        member=member.name,
        server_id=server.data.get("id") if server else None,
        server_name=server.data.get("name") if server else None,
        ipv4=ipv4,
        dns=[(r.name, r.kind, r.value) for r in dns.records(member, ipv4)] if ipv4 else [],
        steps=[
            {
                "step": name,
                "state": r.get("state"),
                "verified": r.get("verified", False),
                "message": r.get("message", ""),
                "elapsed": r.get("elapsed"),
            }
            for name, r in records.items()
        ],
        kubeconfig=kubeconfig.data.get("path") if kubeconfig else None,
        certificate_expires=kubeconfig.data.get("expires") if kubeconfig else None,
        health=health.data.get("checks", {}) if health else {},
        versions=health.data.get("versions", {}) if health else {},
        federation=snippet_entry(member) if health else {},
        warnings=warnings,
    )


def plan(member: MemberConfig, hetzner: HetznerService) -> list[PlanItem]:
    """What a run would create, change or keep; changes nothing."""
    found_ip = hetzner.primary_ip_status()
    ipv4 = found_ip.ipv4 if found_ip else None
    user_data = render_cloud_init(member, ipv4 or PLACEHOLDER_IPV4)
    return hetzner.plan(public_key(member), len(user_data.encode()))


def registry_plan(member: MemberConfig) -> dict[str, str] | None:
    """Where an external registry's password comes from and where it goes, never the
    password; None with the in-cluster registry, a ConfigError when there is none."""
    password = charts.registry_password(member)
    if password is None:
        return None
    return {
        "url": member.registry_url,
        "username": member.registry_username,
        "password_from": password.source,
        "secret": f"{charts.CHART_NAMESPACE}/{charts.REGISTRY_SECRET}",
    }


def provision_action(
    member: MemberConfig,
    hetzner: HetznerService,
    on_event: Listener,
    describe: Callable[[list[PlanItem]], str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    federation: FederationConfig | None = None,
    skip_dns_wait: bool = False,
) -> tuple[Action, list[Summary]]:
    """The pipeline as an action for the ``ActionRunner`` (read-only refusal, confirmation,
    audit), and the list its run's summary is appended to.

    With ``describe`` the plan is looked up before asking and described in the action's
    details; the details are empty when nothing would be created or changed.
    """
    summaries: list[Summary] = []

    def execute(progress: Progress) -> str:
        summary = provision(
            member,
            hetzner,
            on_event,
            timeout=timeout,
            federation=federation,
            skip_dns_wait=skip_dns_wait,
        )
        summaries.append(summary)
        return (
            f"member {member.name} provisioned: server {summary.server_name} "
            f"(id {summary.server_id}) at {summary.ipv4}"
        )

    def prepare() -> Prepared:
        items = plan(member, hetzner) if describe else []
        changes = any(item.action != "keep" for item in items)
        return Prepared(describe(items) if describe and changes else "", execute)

    blast_radius = (
        f"Creates resources that Hetzner bills until they are deleted: a {member.server_type} "
        f"server in {member.location}, a primary IPv4, a firewall and an SSH key."
    )
    return Action("provision", f"member {member.name}", blast_radius, prepare), summaries
