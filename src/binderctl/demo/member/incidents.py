"""Incidents the simulated member can be put into, each through its own mechanisms.

The fire drills (``binderctl.demo.drills``) call these on the world's loop. Nothing here
draws a symptom: a hung build is a build pod whose builder never exits, disk pressure is
images on the node's filesystem, a launch storm is launches through BinderHub's quota.
"""

from __future__ import annotations

import random
from typing import Any

import yaml

from binderctl.demo.kube import types
from binderctl.demo.kube.events import rfc3339
from binderctl.demo.member import naming
from binderctl.demo.member.builds import MAX_AGE, Build
from binderctl.demo.member.disk import Image
from binderctl.demo.member.prestart import running_pod
from binderctl.demo.member.repos import Launch, Repo, commit_sha
from binderctl.demo.member.sessions import image_bytes
from binderctl.demo.member.simulation import Member
from binderctl.demo.member.usage import MINER, SCANNER

FILLER_IMAGE_BYTES = 4 * 1000**3
CLEANER_GRACE = 3600.0  # simulated seconds until BinderHub's cleaner removes a hung build


PICKS = 200


def hang_build(member: Member, wall_age: float) -> str:
    """A build that hung after pushing and has run for ``wall_age`` wall-clock seconds,
    as BinderHub's build pods do when dind's socket wedges; returns its pod name.

    It ends only when the dind pods are deleted (``Builds.dind_gone``), its pod is
    deleted, or BinderHub's cleaner reaches its ``max_age`` (one simulated hour on).
    """
    builds, hub = member.builds, member.hub
    # a repository and ref with no build of its own now (a busy member builds some)
    for _ in range(PICKS):
        launch = hub.catalog.pick()
        name = naming.build_name(launch.repo.build_slug, launch.ref)
        if name not in builds.builds:
            break
    else:
        raise RuntimeError(f"no repository without a build in {PICKS} picks")
    image = naming.image_name(hub.settings.image_prefix, launch.repo.build_slug, launch.ref)
    # Seen through the API it started ``wall_age`` ago; the cleaner reaches its max_age
    # one simulated hour from now, whatever the demo's speed.
    created = member.timeline.now - (MAX_AGE - CLEANER_GRACE)
    build = Build(name, launch, image, "hang", 1.0, created, hung=True)
    builds.builds[name] = build
    stamp = rfc3339(member.wall_now() - wall_age)
    pod = running_pod(builds.pod_object(build), name, builds.namespace, member.options.node_name,
                      stamp)  # fmt: skip
    pod["metadata"]["creationTimestamp"] = stamp
    member.writer.create(types.PODS, pod)
    return name


def fill_image_filesystem(member: Member, available_share: float) -> int:
    """Pull unused images (old sessions' images, as a busy week leaves them) until the
    node's filesystem has only ``available_share`` of its capacity free; returns bytes."""
    disk, now = member.kubelet.disk, member.timeline.now
    target = int(disk.capacity * available_share)
    added = 0
    while disk.available > target:
        size = min(FILLER_IMAGE_BYTES, disk.available - target + 1)
        name = f"{member.hub.settings.image_prefix}drill-filler-{len(disk.images)}:latest"
        disk.images[name] = Image(size, now)
        added += size
    return added


def launch_storm(member: Member, count: int) -> str:
    """``count`` launches of one repository at once (a workshop, or a bot), each through
    BinderHub's quota; returns the repository's URL."""
    hub = member.hub
    repo = hub.catalog.repos[0]
    launch = Launch(repo, repo.refs[0], repo.branch)
    image = naming.image_name(hub.settings.image_prefix, repo.build_slug, launch.ref)
    hub.registry.setdefault(image, image_bytes(image))
    for _ in range(count):
        if hub.launch(launch, image) is None:
            break
    return repo.url


def set_chart_value(member: Member, chart: str, path: str, value: Any) -> None:
    """Edit a HelmChart's ``valuesContent`` at a dotted ``path`` (None removes the key),
    as ``kubectl edit helmchart`` would; helm-controller then upgrades the release."""

    def edit(obj: dict[str, Any]) -> None:
        values = yaml.safe_load(obj["spec"].get("valuesContent") or "") or {}
        *parents, leaf = path.split(".")
        node = values
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
        obj["spec"]["valuesContent"] = yaml.safe_dump(values, sort_keys=True)

    member.store.mutate(types.HELMCHARTS, "kube-system", chart, edit)


# Made-up repositories for the misbehaving sessions (the catalogue's are real ones).
MISBEHAVING_REPOS = {
    MINER: ("demo-abuse", "gpu-notebook-free"),
    SCANNER: ("demo-abuse", "netcheck"),
}


def misbehave(
    member: Member, kind: str, count: int, *, running: bool = False
) -> tuple[str, list[str]]:
    """``count`` sessions of a repository whose code misbehaves (``usage.MINER`` keeps
    its CPU limit busy, ``usage.SCANNER`` probes ports), launched through BinderHub as
    any launch is (its bans and quota apply), or with ``running`` already running as
    the operator finds them (a full node schedules nothing new); returns the
    repository's URL and the pods. Later launches of the repository misbehave too."""
    hub = member.hub
    owner, name = MISBEHAVING_REPOS[kind]
    repo = next((r for r in hub.catalog.repos if (r.owner, r.name) == (owner, name)), None)
    if repo is None:
        repo = Repo(owner, name, "HEAD", [commit_sha(random.Random(f"{owner}/{name}"))])
        hub.catalog.repos.append(repo)  # resolvable; random arrivals never pick it
    hub.misbehaving[repo.url] = kind
    launch = Launch(repo, repo.refs[0], repo.branch)
    image = naming.image_name(hub.settings.image_prefix, repo.build_slug, launch.ref)
    hub.registry.setdefault(image, image_bytes(image))
    if running:
        objects = hub.existing(count, member.options.node_name, launch)
        for pod in objects:
            member.writer.create(types.PODS, pod)
        return repo.url, [pod["metadata"]["name"] for pod in objects]
    pods = []
    for _ in range(count):
        if hub.refuse_banned(launch):
            break
        session = hub.launch(launch, image)
        if session is None:
            break
        pods.append(session.pod)
    return repo.url, pods
