"""The drills: each a real incident from what operators meet, made through the emulators.

Every drill knows its symptom, the actions that resolve it (as ``binderctl`` names them),
whether it resolves by itself if ignored, which kinds of attention item (binderctl's
one judgement, ``services/attention.py``) name it, and how the world tells it is over.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from typing import ClassVar

import yaml

from binderctl.demo.drills.scene import Scene
from binderctl.demo.hetzner.faults import ScriptedFailure
from binderctl.demo.member import incidents
from binderctl.demo.member.hardware import EVICTION_IMAGEFS
from binderctl.demo.member.sessions import GITHUB_PROVIDER
from binderctl.demo.member.usage import MINER, SCANNER
from binderctl.errors import BinderctlError
from binderctl.paths import write_private
from binderctl.services.attention import CERT_RENEW_BEFORE_SECONDS
from binderctl.services.kube import client_cert_expiry

HUNG_BUILD_AGE = 40 * 60.0  # wall seconds: past binderctl's 30-minute stuck threshold
DISK_FREE_SHARE = EVICTION_IMAGEFS / 2  # of capacity left free: under the eviction threshold
CERT_DAYS_LEFT = 5
CERT_LIFETIME_DAYS = 365  # k3s client certificates
BAD_AUTHENTICATOR_PATH = "jupyterhub.hub.config.JupyterHub.authenticator_class"
BAD_AUTHENTICATOR = "nul"  # a typo of BinderHub's "null"
DRIFTED_BUILD_IMAGE = "quay.io/jupyterhub/repo2docker:2099.1.0"  # a bump still to come


class Drill:
    name: ClassVar[str]
    title: ClassVar[str]
    symptom: ClassVar[str]
    fixes: ClassVar[tuple[str, ...]]  # binderctl commands that resolve it
    resolves_itself: ClassVar[str] = ""  # how it ends if nobody acts ("" : it does not)
    kinds: ClassVar[tuple[str, ...]]  # an attention item of one of these kinds names it

    def __init__(self, scene: Scene, duration: float) -> None:
        self.scene = scene
        self.duration = duration  # simulated seconds, for drills that end by themselves

    async def start(self) -> str:
        """Break the member; returns what was done, in a line."""
        raise NotImplementedError

    def resolved(self) -> bool:
        raise NotImplementedError

    async def stop(self) -> None:
        """Undo what is left of the fault (the drill was stopped, or it is over)."""

    @classmethod
    def describe(cls) -> dict[str, object]:
        return {
            "name": cls.name,
            "title": cls.title,
            "symptom": cls.symptom,
            "fixes": list(cls.fixes),
            "resolves_itself": cls.resolves_itself or None,
        }


class HungBuild(Drill):
    name = "hung-build"
    title = "A build hung after pushing"
    symptom = (
        "a build pod Running for 40 minutes with no end: dind's socket is wedged, and every "
        "launch of that repository waits on it"
    )
    fixes = ("restart dind", "delete-builds --stuck")
    resolves_itself = (
        "BinderHub's build cleaner deletes builds older than its max_age; this one reaches "
        "it in an hour of simulated time"
    )
    kinds = ("builds-stuck",)

    async def start(self) -> str:
        self.pod = incidents.hang_build(self.scene.member, HUNG_BUILD_AGE)
        return f"build pod {self.pod} hung after pushing, 40 minutes ago"

    def resolved(self) -> bool:
        builds = self.scene.member.builds
        return self.pod not in builds.builds and not builds.hung() and bool(builds.dind_pods)

    async def stop(self) -> None:
        builds = self.scene.member.builds
        if self.pod in builds.builds:
            builds.release_hung()


class DiskPressure(Drill):
    name = "disk-pressure"
    title = "The image filesystem is full"
    symptom = (
        "the node's filesystem under the kubelet's 15 % imagefs threshold: DiskPressure, "
        "evictions, and new pods refused"
    )
    fixes = ("prune-images",)
    resolves_itself = "the kubelet's image garbage collection frees unused images every 5 minutes"
    kinds = ("disk-pressure", "disk-full")

    async def start(self) -> str:
        added = incidents.fill_image_filesystem(self.scene.member, DISK_FREE_SHARE)
        return f"{added / 1000**3:.0f} GB of unused images pulled onto the node"

    def resolved(self) -> bool:
        kubelet = self.scene.member.kubelet
        return not kubelet.disk_pressure and (
            kubelet.disk.available >= kubelet.disk.capacity * EVICTION_IMAGEFS
        )

    async def stop(self) -> None:
        self.scene.member.prune_images()


class LaunchStorm(Drill):
    name = "launch-storm"
    title = "A launch storm fills the quota"
    symptom = (
        "one repository launched again and again (a workshop, or a bot) up to the launch "
        "quota: the redirector sends no launches here while user and build pods + pod_headroom "
        ">= quota, and pods past max_pods fail with OutOfpods"
    )
    fixes = ("kill-session --repo REPO",)
    resolves_itself = "the idle culler ends the sessions (idle 10 minutes)"
    kinds = ("at-quota", "max-pods")

    async def start(self) -> str:
        member = self.scene.member
        quota = member.quota()
        if not quota:
            raise BinderctlError("the member has no launch quota (or is drained): no storm")
        count = quota - member.hub.user_pods()
        self.repo = incidents.launch_storm(member, count)
        return f"{count} launches of {self.repo}"

    def resolved(self) -> bool:
        """Back under the redirector's headroom rule (BinderHub's total_pods)."""
        member = self.scene.member
        quota = member.quota()
        return not quota or sum(member.pod_counts()) + self.scene.pod_headroom < quota


class RegistryDown(Drill):
    name = "registry-down"
    title = "The registry does not answer"
    symptom = (
        'BinderHub\'s "Docker registry" check fails: /health is 503 and the redirector '
        "takes the member out of rotation; builds cannot push"
    )
    fixes = ()
    resolves_itself = "when the registry is back (this drill: after its duration)"
    kinds = ("health-failing",)

    async def start(self) -> str:
        member = self.scene.member
        member.faults.registry_down = True
        member.timeline.after(self.duration, self._recover)
        return f"the registry stops answering for {self.duration:g} simulated seconds"

    def _recover(self) -> None:
        self.scene.member.faults.registry_down = False

    def resolved(self) -> bool:
        return not self.scene.member.faults.registry_down

    async def stop(self) -> None:
        self._recover()


class HetznerDown(Drill):
    name = "hetzner-down"
    title = "The Hetzner API is down"
    symptom = (
        "every call to the Hetzner Cloud API answers 503 unavailable: reboot, rescue and the "
        "budget cannot be done or read, while the member itself runs on"
    )
    fixes = ()
    resolves_itself = "when Hetzner is back (this drill: after its duration)"
    kinds = ("hetzner-api",)
    _failure: ScriptedFailure | None = None

    async def start(self) -> str:
        faults = self.scene.world.hetzner.faults
        self._failure = faults.fail("*", ".*", times=10**9, status=503, message="maintenance")
        self.scene.member.timeline.after(self.duration, self._recover)
        return f"the Hetzner API answers 503 for {self.duration:g} simulated seconds"

    def _recover(self) -> None:
        faults = self.scene.world.hetzner.faults
        if self._failure is not None and self._failure in faults.scripted:
            faults.scripted.remove(self._failure)

    def resolved(self) -> bool:
        scripted = self.scene.world.hetzner.faults.scripted
        return self._failure is not None and self._failure not in scripted

    async def stop(self) -> None:
        self._recover()


class NodeUnreachable(Drill):
    name = "node-unreachable"
    title = "The node hangs: no API server, no SSH"
    symptom = (
        "k3s has stopped and SSH connections are cut: the Kubernetes API and SSH do not "
        "answer, only the Hetzner API still reaches the server"
    )
    fixes = ("reboot",)
    kinds = ("unreadable",)

    async def start(self) -> str:
        node = self.scene.node
        self.boot = node.journal.boot_id
        node.faults.drop_new_connections = 1_000_000
        node.drop_connections()
        await node.k3s.stop()
        return f"k3s stopped on {node.name}, SSH connections cut"

    def resolved(self) -> bool:
        node = self.scene.node
        if node.journal.boot_id != self.boot:
            node.faults.drop_new_connections = 0  # a reboot unwedges the machine
        return node.faults.drop_new_connections == 0 and self.scene.cluster.running

    async def stop(self) -> None:
        node = self.scene.node
        node.faults.drop_new_connections = 0
        await node.k3s.start()


class CertExpiring(Drill):
    name = "cert-expiring"
    title = "The client certificate expires in days"
    symptom = (
        "the kubeconfig's k3s client certificate, fetched almost a year ago, expires in "
        f"{CERT_DAYS_LEFT} days: after that every kubectl and binderctl call gets 401"
    )
    fixes = ("renew-certs",)
    kinds = ("certificate",)

    async def start(self) -> str:
        cluster = self.scene.cluster
        path = self.scene.world.kubeconfig_path
        issued = dt.datetime.now(dt.UTC) - dt.timedelta(days=CERT_LIFETIME_DAYS - CERT_DAYS_LEFT)
        old = cluster.credentials.rotate_client(now=issued)
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        for user in config.get("users", []):
            user["user"]["client-certificate-data"] = _b64(old.client_cert)
            user["user"]["client-key-data"] = _b64(old.client_key)
        write_private(path, yaml.safe_dump(config, sort_keys=False))
        return f"the kubeconfig's client certificate now expires in {CERT_DAYS_LEFT} days"

    def resolved(self) -> bool:
        try:
            expiry = client_cert_expiry(self.scene.world.kubeconfig_path)
        except BinderctlError:
            return False
        return expiry is not None and expiry - time.time() > CERT_RENEW_BEFORE_SECONDS


class HubCrashLoop(Drill):
    name = "hub-crashloop"
    title = "The hub crash-loops after a bad config"
    symptom = (
        "a chart change names an authenticator JupyterHub cannot import: the hub restarts "
        "into CrashLoopBackOff (one hub at a time: the old one is gone), launches fail and "
        "the JupyterHub API check fails"
    )
    fixes = ("--provision",)  # puts the config's chart values back
    kinds = ("rollout-stuck", "component-down", "component-degraded", "health-failing")

    async def start(self) -> str:
        self.took_effect = False
        incidents.set_chart_value(
            self.scene.member, "binderhub", BAD_AUTHENTICATOR_PATH, BAD_AUTHENTICATOR
        )
        return (
            f"HelmChart kube-system/binderhub edited: {BAD_AUTHENTICATOR_PATH} = "
            f"{BAD_AUTHENTICATOR!r}"
        )

    def resolved(self) -> bool:
        member = self.scene.member
        broken = member.hub_error() is not None
        self.took_effect = self.took_effect or broken  # helm-controller has upgraded
        return self.took_effect and not broken and member.hub.hub_up

    async def stop(self) -> None:
        if self.scene.member.hub_error() is not None:
            incidents.set_chart_value(self.scene.member, "binderhub", BAD_AUTHENTICATOR_PATH, None)


class VersionsDrift(Drill):
    name = "versions-drift"
    title = "The prime moved to a new build_image"
    symptom = (
        "mybinder.org's prime bumped its build_image: the member's /versions differs from "
        "the prime's, so the federation redirector drops it although it is healthy"
    )
    fixes = ("--provision",)  # reads the versions from the prime and installs them
    kinds = ("out-of-rotation",)

    async def start(self) -> str:
        federation = self.scene.world.federation
        if federation is None:
            raise BinderctlError("this demo world runs no federation")
        self.before = dict(federation.prime.versions_doc)
        await federation.move_prime({"build_image": DRIFTED_BUILD_IMAGE})
        return f"the prime's build_image is now {DRIFTED_BUILD_IMAGE}"

    def resolved(self) -> bool:
        federation = self.scene.world.federation
        assert federation is not None
        return self.scene.member.versions() == federation.prime.versions_doc

    async def stop(self) -> None:
        federation = self.scene.world.federation
        if federation is not None and not self.resolved():
            await federation.move_prime({"build_image": self.before["builder_info"]["build_image"]})


class AbusiveSession(Drill):
    name = "abusive-session"
    title = "A miner and a port scanner among the sessions"
    symptom = (
        "two sessions of one repository keep their CPU at its limit (mining) and a session "
        "of another sends thousands of small packets a second (a port scan): Hetzner's "
        "abuse desk answers with a deadline, then a blocked IP or a locked server"
    )
    fixes = ("ban REPO --kill",)
    kinds = ("abuse-suspected",)

    async def start(self) -> str:
        member = self.scene.member
        self.repos: dict[str, list[str]] = {}
        for kind, count in ((MINER, 2), (SCANNER, 1)):
            repo, pods = incidents.misbehave(member, kind, count)
            if not pods:
                raise BinderctlError(f"no session of {repo} could start (banned, or no room)")
            self.repos[repo] = pods
        return "; ".join(f"{len(pods)} session(s) of {repo}" for repo, pods in self.repos.items())

    def resolved(self) -> bool:
        """Both repositories are refused by BinderHub and none of their sessions runs."""
        hub = self.scene.member.hub
        for repo in self.repos:
            spec = repo.removeprefix("https://github.com/") + "/HEAD"
            running = any(s.launch.repo.url == repo for s in hub.sessions.values())
            if running or not hub.is_banned(GITHUB_PROVIDER, spec):
                return False
        return True

    async def stop(self) -> None:
        hub = self.scene.member.hub
        for repo in self.repos:
            hub.misbehaving.pop(repo, None)
            for session in [s for s in hub.sessions.values() if s.launch.repo.url == repo]:
                hub.stop(session)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


DRILLS: dict[str, type[Drill]] = {
    d.name: d
    for d in (
        HungBuild,
        DiskPressure,
        LaunchStorm,
        RegistryDown,
        HetznerDown,
        HubCrashLoop,
        VersionsDrift,
        NodeUnreachable,
        CertExpiring,
        AbusiveSession,
    )
}
