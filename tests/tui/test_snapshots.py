"""Snapshots of each main screen: a frozen member (fixed seed) and a fixed console clock.

Update them with `pytest tests/tui/test_snapshots.py --snapshot-update` and look at
the SVGs (tests/tui/__snapshots__/) before committing them.

Why not the provisioned demo world the live tests use: its simulated clock starts at the
wall clock and runs while the pipeline does, the control plane names and identifies pods
at random, and the world picks a random address; so ages, absolute times, pod names,
log lines and the metrics' noise differ from run to run. The data path here is the same
one minus the pipeline: the demo's simulated member (seeded, its clock stopped at a fixed
epoch after two simulated minutes), the control plane, the Kubernetes API emulator and
BinderHub's ingress, read by the real console through a kubeconfig. The Budget screen
also reads a Hetzner API emulator holding the member's server, created at a fixed time,
and a session history recorded up to the console's clock.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import hcloud
import pytest
import yaml
from hcloud.images import Image
from hcloud.locations import Location
from hcloud.server_types import ServerType
from hcloud.servers import ServerCreatePublicNetwork
from textual.pilot import Pilot

from binderctl.app import BinderctlApp
from binderctl.auth import TOKEN_ENV
from binderctl.config import MemberConfig
from binderctl.demo.cluster import MemberStack
from binderctl.demo.hetzner import Faults, HetznerEmulator
from binderctl.demo.kube import tls, types
from binderctl.demo.member import incidents
from binderctl.demo.member.clock import SimClock
from binderctl.demo.member.simulation import MemberOptions
from binderctl.demo.runtime import LoopThread
from binderctl.federation_config import CheckSettings, FederationHost
from binderctl.models import Health, HealthCheck
from binderctl.screens.budget import BudgetScreen
from binderctl.screens.component_detail import ComponentDetailScreen
from binderctl.screens.federation import FederationScreen
from binderctl.screens.upgrades import UpgradesScreen
from binderctl.services import charts, upgrade_k3s
from binderctl.services.federation import FederationReport, HostReport, judge
from binderctl.services.kube import (
    DEPLOYMENTS,
    HELMCHARTS,
    MERGE_PATCH,
    NODES,
    PODS,
    STRATEGIC_MERGE,
    Kube,
    kubeconfig_path,
)
from binderctl.services.prime_versions import (
    PINNED_BUILD_IMAGE,
    PINNED_CHART_VERSION,
    versions_for,
)
from binderctl.services.session_history import record_sample
from binderctl.services.stages import ProgressEvent
from binderctl.services.upgrade_plan import Component, UpgradePlan, Version
from binderctl.widgets.live_table import LiveTable
from binderctl.widgets.log_view import LogView
from tests.kit.k3s import RunningStack, run_stack, serve_ingress
from tests.kit.waiting import wait_for
from tests.kube.kube_kubectl import needs_kubectl
from tests.tui.tuikit import SIZE

SEED = 11
SESSIONS = 8
SPEED = 20.0
EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z: where the frozen member's clock stands
CERT_END = EPOCH + 10 * 365 * 86400  # the kubeconfig's client certificate expires then
CLOCK_OFFSET = 600.0  # the console's "now": ten minutes after the member started
# The Budget screen's "now" is mid-month, so its chart has days spent and days to come;
# the member's server has run since the fifth.
BUDGET_NOW = EPOCH + 14 * 86400 + 15.5 * 3600  # 2026-01-15T15:30:00Z
SERVER_CREATED = EPOCH + 4 * 86400 + 9.5 * 3600  # 2026-01-05T09:30:00Z
HISTORY_HOURS = 6  # of session samples, every 5 minutes, up to BUDGET_NOW


Frozen = tuple[MemberConfig, RunningStack[MemberStack]]


@contextlib.contextmanager
def frozen_member(member: MemberConfig, tmp_path: Path) -> Iterator[Frozen]:
    """``member`` (its config, with the ingress's port and CA) running a frozen member,
    and the emulated k3s that runs it."""
    options = MemberOptions(
        sessions=SESSIONS,
        quota=member.launch_quota,
        launches_per_minute=0.0,
        binder_host=member.binder_host,
        hub_host=member.hub_host,
    )
    lifetime = timedelta(seconds=CERT_END - time.time())
    stack = MemberStack(
        options,
        speed=SPEED,
        seed=SEED,
        clock=SimClock(SPEED, epoch=EPOCH, source=lambda: 0.0),
        fixed_ids=True,
        credentials=tls.generate(ips=["127.0.0.1"], client_lifetime=lifetime),
    )
    running = run_stack(stack, kubeconfig_path(member.name))
    running.on_loop(stack.member.advance, 120)
    ca = tmp_path / "ingress-ca.pem"
    port = serve_ingress(running, ca)
    # No SSH to the node here: a key that does not exist keeps the console off port 22.
    config = replace(member, https_port=port, tls_ca_bundle=ca, ssh_key=tmp_path / "no-key")
    try:
        yield config, running
    finally:
        running.stop()


@pytest.fixture
def frozen_world(member: MemberConfig, tmp_path: Path) -> Iterator[Frozen]:
    with frozen_member(member, tmp_path) as world:
        yield world


@pytest.fixture
def frozen(frozen_world: Frozen) -> MemberConfig:
    return frozen_world[0]


BUSY_BUILDS = 3
UNPULLABLE = "quay.io/jupyterhub/k8s-hub:9.9.9-nope"


@pytest.fixture
def busy(member: MemberConfig, tmp_path: Path) -> Iterator[MemberConfig]:
    """The frozen member with builds that hung after pushing and pods of one deployment
    whose image cannot be pulled: lists of names alike but for their end."""
    with frozen_member(member, tmp_path) as (config, running):
        sim = running.stack.member
        hung: set[str] = set()
        while len(hung) < BUSY_BUILDS:  # of different repositories
            hung.add(running.on_loop(incidents.hang_build, sim, 300.0 + 60 * len(hung)))
        with Kube(config) as kube:
            for suffix in ("7xk2q", "m9p4w"):
                name = f"binderhub-image-cleaner-canary-deployment-{suffix}"
                pod = {
                    "metadata": {"name": name, "namespace": "binderhub"},
                    "spec": {"containers": [{"name": "canary", "image": UNPULLABLE}]},
                }
                kube.post(PODS, pod, namespace="binderhub")
        running.on_loop(sim.advance, 30)  # the builds log, the pulls fail
        yield config


@pytest.fixture
def billed(frozen: MemberConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemberConfig]:
    """``frozen`` with its server at a Hetzner API emulator (created at SERVER_CREATED, no
    traffic) and ``SESSIONS`` sessions recorded in its history up to BUDGET_NOW."""
    runtime = LoopThread("tui-snapshots-hetzner")
    token = "snapshot-token"
    emulator = HetznerEmulator(
        runtime, token, ipaddress.IPv4Network("127.64.0.0/24"), Faults(action_seconds=0.0)
    )
    config = replace(frozen, hcloud_endpoint=emulator.start())
    monkeypatch.setenv(TOKEN_ENV, token)
    project = emulator.project
    project.traffic_rate = (0.0, 0.0)
    api = hcloud.Client(token=token, api_endpoint=config.hcloud_endpoint)
    server = api.servers.create(
        "lonely",
        server_type=ServerType(name=config.server_type),
        image=Image(name="ubuntu-24.04"),
        location=Location(name=config.location),
        labels=config.labels,
        public_net=ServerCreatePublicNetwork(enable_ipv4=True, enable_ipv6=False),
    ).server
    ip = server.public_net.primary_ipv4
    api.primary_ips.update(ip, auto_delete=False, labels=config.labels)
    project.servers[server.id].created = SERVER_CREATED
    project.primary_ips[ip.id].created = SERVER_CREATED
    samples = HISTORY_HOURS * 12
    for step in range(samples + 1):
        moment = BUDGET_NOW - (samples - step) * 300
        record_sample(config, moment, SESSIONS, launches_total=step)
    try:
        yield config
    finally:
        emulator.stop()
        runtime.stop()


def console(
    config: MemberConfig,
    start: str = "dashboard",
    now: float = EPOCH + CLOCK_OFFSET,
    **options: bool,
) -> BinderctlApp:
    return BinderctlApp(config, start=start, clock=lambda: now, **options)


async def loaded(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, BinderctlApp)
    for _ in range(200):
        model = app.model
        budget = app.header_state.month_to_date
        if (
            model
            and model.node
            and model.components
            and len(model.sessions) == SESSIONS
            and len(model.traffic) == SESSIONS
            and model.health
            and model.health.ok
            and budget
        ):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.6)  # one redraw after the last change


async def plotted(pilot: Pilot) -> None:
    """Loaded, with two samples of history (plots need two; the next comes 5s later)."""
    await loaded(pilot)
    app = pilot.app
    assert isinstance(app, BinderctlApp)
    for _ in range(200):
        if len(app.history.sessions) >= 2:
            break
        await pilot.pause(0.05)
    await pilot.pause(0.6)


@pytest.mark.parametrize("start", ["sessions", "builds", "events"])
def test_screen(snap_compare, frozen: MemberConfig, start: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(console(frozen, start), terminal_size=SIZE, run_before=loaded)


NARROW = (100, 30)  # the terminal an on-call laptop's split gives the console


async def busy_loaded(pilot: Pilot) -> None:
    """Loaded, with the hung builds' last log lines read and the failed pulls' warnings."""
    await plotted(pilot)
    app = pilot.app
    assert isinstance(app, BinderctlApp)
    for _ in range(200):
        model = app.model
        if (
            model
            and len(model.builds) == BUSY_BUILDS
            and all(b.last_log_time for b in model.builds.values())
            and sum("ImagePullBackOff" in w.message for w in model.warnings) >= 2
        ):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.6)


@pytest.mark.parametrize("start", ["dashboard", "sessions", "builds", "events"])
def test_narrow(snap_compare, busy: MemberConfig, start: str) -> None:  # type: ignore[no-untyped-def]
    """At 100x30 every list keeps its rows apart: names lose their middle, not the end
    that tells them apart, and the columns that need room get it."""
    assert snap_compare(console(busy, start), terminal_size=NARROW, run_before=busy_loaded)


@pytest.mark.parametrize("start", ["dashboard", "resources"])
def test_plots(snap_compare, frozen: MemberConfig, start: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(console(frozen, start), terminal_size=SIZE, run_before=plotted)


@pytest.mark.parametrize("size", [SIZE, (120, 40)], ids=["wide", "narrow"])
def test_budget(snap_compare, billed: MemberConfig, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def reported(pilot: Pilot) -> None:
        await loaded(pilot)
        app = pilot.app
        assert isinstance(app, BinderctlApp)
        screen = app.screen
        assert isinstance(screen, BudgetScreen)
        for _ in range(200):
            if screen.report and (app.header_state.month_to_date or "").startswith("EUR"):
                break
            await pilot.pause(0.05)
        await pilot.pause(0.6)

    app = console(billed, "budget", now=BUDGET_NOW)
    assert snap_compare(app, terminal_size=size, run_before=reported)


def troubled(config: MemberConfig) -> MemberConfig:
    """The frozen member (``config``) with three things that need attention, made through
    the Kubernetes API as kubectl (or a node problem detector) would: the launch quota in
    the BinderHub HelmChart edited to a word (error), the node reporting DiskPressure
    (warning); and SSH open to the world in the config (info)."""
    with Kube(config) as kube:
        chart = kube.get(HELMCHARTS, charts.RELEASE, charts.CHART_NAMESPACE)
        values = yaml.safe_load(chart["spec"]["valuesContent"])
        values["config"]["LaunchQuota"]["total_quota"] = "plenty"
        edited = {"spec": {"valuesContent": yaml.safe_dump(values)}}
        kube.patch(HELMCHARTS, charts.RELEASE, edited, namespace=charts.CHART_NAMESPACE,
                   content_type=MERGE_PATCH)  # fmt: skip
        (node,) = kube.list(NODES)
        pressure = {"status": {"conditions": [{"type": "DiskPressure", "status": "True"}]}}
        kube.request("PATCH", NODES, name=node["metadata"]["name"], sub="status", body=pressure,
                     content_type=STRATEGIC_MERGE)  # fmt: skip
    return replace(config, ssh_allowed_cidrs=("0.0.0.0/0",))


def test_dashboard_needs_attention(snap_compare, frozen: MemberConfig) -> None:  # type: ignore[no-untyped-def]
    async def three_items(pilot: Pilot) -> None:
        await plotted(pilot)
        app = pilot.app
        assert isinstance(app, BinderctlApp)
        for _ in range(200):
            if [i.severity for i in app.header_state.attention] == ["error", "warning", "info"]:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.6)

    app = console(troubled(frozen))
    assert snap_compare(app, terminal_size=SIZE, run_before=three_items)


def test_session_detail(snap_compare, frozen: MemberConfig) -> None:  # type: ignore[no-untyped-def]
    async def open_detail(pilot: Pilot) -> None:
        await loaded(pilot)
        table = pilot.app.screen.query_one(LiveTable)
        table.move_cursor(row=2)
        await pilot.press("enter")
        await pilot.pause(0.6)

    assert snap_compare(console(frozen, "sessions"), terminal_size=SIZE, run_before=open_detail)


def test_logs(snap_compare, frozen: MemberConfig) -> None:  # type: ignore[no-untyped-def]
    async def follow_hub(pilot: Pilot) -> None:
        await loaded(pilot)
        app = pilot.app
        assert isinstance(app, BinderctlApp)
        app.action_show("logs", "hub")
        for _ in range(200):
            views = app.screen.query(LogView)
            if views and views.first().shown:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.5)

    assert snap_compare(console(frozen), terminal_size=SIZE, run_before=follow_hub)


def test_help(snap_compare, frozen: MemberConfig) -> None:  # type: ignore[no-untyped-def]
    async def help_over_dashboard(pilot: Pilot) -> None:
        await plotted(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)

    app = console(frozen, readonly=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=help_over_dashboard)


def test_provision_form(snap_compare, member: MemberConfig) -> None:  # type: ignore[no-untyped-def]
    app = BinderctlApp(member, start="provision")
    assert snap_compare(app, terminal_size=SIZE)


def federation_report(member: str) -> FederationReport:
    """A fixed poll: the prime, another member whose versions differ, ours on the quota
    headroom, a host that does not answer and a retired one."""
    settings = CheckSettings(period=3600)  # no second poll during the snapshot
    prime = versions_for(PINNED_CHART_VERSION, PINNED_BUILD_IMAGE)
    bumped = {**prime, "builder_info": {"build_image": "quay.io/jupyterhub/repo2docker:old"}}

    def host(name: str, weight: int = 50, is_prime: bool = False) -> FederationHost:
        url = f"https://{name}.binder.test"
        return FederationHost(name, url, weight, f"{url}/health", f"{url}/versions", is_prime)

    def health(total: int, quota: int) -> Health:
        checks = (
            HealthCheck("Docker registry", True),
            HealthCheck("JupyterHub API", True),
            HealthCheck("Pod quota", total <= quota, {"total_pods": total, "quota": quota}),
        )
        return Health(True, checks)

    polls = [
        (host("prime", is_prime=True), None, prime, health(120, 300), None),
        (host("other"), None, bumped, health(40, 200), None),
        (host(member), member, prime, health(95, 100), None),
        (host("silent"), None, None, None, "https://silent.binder.test/versions: timed out"),
        (host("retired", weight=0), None, None, None, None),
    ]
    reports = []
    for index, (target, ours, versions, checked, error) in enumerate(polls):
        verdict, diffs = judge(target, versions, checked, 200, prime, settings, error=error)
        shown = None if checked is None else replace(checked, versions=versions or {})
        moment = EPOCH + CLOCK_OFFSET - 5 - index
        reports.append(HostReport(target, ours, verdict, shown, diffs, moment, 0.05))
    return FederationReport(
        "https://prime.binder.test/versions", prime, None, settings, tuple(reports),
        EPOCH + CLOCK_OFFSET,
    )  # fmt: skip


def test_federation(snap_compare, frozen: MemberConfig) -> None:  # type: ignore[no-untyped-def]
    async def polled(pilot: Pilot) -> None:
        await loaded(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, FederationScreen)
        # no config file here: the screen's own poll fails first, then shows the fixed one
        detail = screen.query_one("#federation-detail")
        for _ in range(200):
            if "cannot check the federation" in str(detail.render()):
                break
            await pilot.pause(0.05)
        screen._show(federation_report(frozen.name))  # the cursor: our member, first by name
        await pilot.pause(0.6)

    assert snap_compare(console(frozen, "federation"), terminal_size=SIZE, run_before=polled)


def upgrade_plan(member: str) -> UpgradePlan:
    """A fixed plan: k3s a minor behind its channel, BinderHub behind the prime, an
    older cert-manager."""
    channel = "https://update.k3s.io/v1-release/channels/stable"
    prime = "https://prime.binder.test/versions"
    newer = "1.0.0-0.dev.git.4032.habcdef12"
    pin = Version("v1.20.2", "binderctl's pin")
    components = [
        Component("k3s", Version("v1.35.3+k3s1", "node"), Version("v1.36.3+k3s1", channel),
                  None, "behind", "next: v1.36.3+k3s1 (one minor at a time)", "upgrade-k3s"),
        Component("binderhub chart", Version(PINNED_CHART_VERSION, "HelmChart"),
                  Version(newer, prime), Version(newer, prime), "differs from the prime",
                  action="upgrade-charts"),
        Component("build_image", Version(PINNED_BUILD_IMAGE, "/versions"),
                  Version(PINNED_BUILD_IMAGE, prime), Version(PINNED_BUILD_IMAGE, prime),
                  "current"),
        Component("cert-manager", Version("v1.16.2", "HelmChart"), pin, None, "behind",
                  action="upgrade-charts"),
        Component("traefik", Version("41.1.1", "HelmChart"), Version("41.1.1", "pin"), None,
                  "current"),
    ]  # fmt: skip
    return UpgradePlan(member, components, None, None, None)


def test_upgrades(snap_compare, frozen: MemberConfig) -> None:  # type: ignore[no-untyped-def]
    async def running(pilot: Pilot) -> None:
        await loaded(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, UpgradesScreen)
        # no config file here: the screen's own read fails first, then shows the fixed one
        plan = screen.query_one("#upgrades-plan")
        for _ in range(200):
            if "cannot read the versions" in str(plan.render()):
                break
            await pilot.pause(0.05)
        screen.show_plan(upgrade_plan(frozen.name))
        for step in upgrade_k3s.STEPS:
            screen.show_step(ProgressEvent(step.name, step.title, "pending"))
        for name, message, elapsed in (
            ("check", "v1.35.3+k3s1 -> v1.36.3+k3s1, one minor at most; disk 91% free", 0.4),
            ("prepare", "system-upgrade-controller v0.20.1 runs (chart created)", 12.5),
            ("drain", "BinderHub reports launch quota 0 and the redirector has checked", 41.0),
        ):
            screen.show_step(ProgressEvent(name, name.capitalize(), "done", message, elapsed))
        screen.show_step(
            ProgressEvent("upgrade", "Upgrade k3s", "running", "the Kubernetes API does not "
                          "answer: k3s restarts", 8.0)
        )  # fmt: skip
        await pilot.pause(0.6)

    assert snap_compare(console(frozen, "upgrade"), terminal_size=SIZE, run_before=running)


BAD_TAG = "9.9.9-nope"


def stuck_rollout(config: MemberConfig, running: RunningStack[MemberStack]) -> None:
    """The frozen member's binder set to an image that does not exist with the real
    kubectl (`kubectl set image`), and its kubelet run until it backs off the pull."""
    with Kube(config) as kube:
        image = kube.get(DEPLOYMENTS, "binder", "binderhub")["spec"]["template"]["spec"][
            "containers"
        ][0]["image"]
    bad = f"{image.rsplit(':', 1)[0]}:{BAD_TAG}"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig_path(config.name))}
    subprocess.run(
        ["kubectl", "set", "image", "deployment/binder", f"binder={bad}", "-n", "binderhub"],
        env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip

    def new_pod_bound() -> bool:
        pods = running.store.list(types.PODS, "binderhub")
        return any(
            p["spec"]["containers"][0]["image"] == bad and p["spec"].get("nodeName") for p in pods
        )

    wait_for(lambda: running.on_loop(new_pod_bound), what="the new binder pod bound")
    running.on_loop(running.stack.member.advance, 30)  # pulls fail, then back off


@needs_kubectl
def test_component_detail_of_a_stuck_rollout(snap_compare, frozen_world: Frozen) -> None:  # type: ignore[no-untyped-def]
    config, running = frozen_world
    stuck_rollout(config, running)

    async def open_binder(pilot: Pilot) -> None:
        await loaded(pilot)
        app = pilot.app
        assert isinstance(app, BinderctlApp)
        for _ in range(200):
            binder = app.model.components.get("binder") if app.model else None
            if binder is not None and binder.problem is not None and "9.9.9" in binder.image:
                break
            await pilot.pause(0.05)
        table = app.screen.query_one("#components", LiveTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("binder"))
        await pilot.press("enter")
        for _ in range(200):
            screen = app.screen
            if isinstance(screen, ComponentDetailScreen) and screen.detail is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.6)

    assert snap_compare(console(config), terminal_size=SIZE, run_before=open_binder)
