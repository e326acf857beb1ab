"""Image builds: BinderHub's build pods running repo2docker against the dind daemon.

A build pod is named and labelled as ``KubernetesBuildExecutor.submit`` makes it; a
second launch of the same repo and ref joins the running build. Most builds push and
exit 0, some fail (exit 1), every one fails at the push when dind cannot reach the
registry (``push_error``: a ``localhost`` prefix, or plain HTTP without
``--insecure-registry``), and now and then one hangs after pushing, running until the
dind pods are deleted (then it completes) or the cleaner's ``max_age`` removes it.
BinderHub deletes finished build pods, succeeded or failed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj
from binderctl.demo.member import charts, naming
from binderctl.demo.member import logformats as fmt
from binderctl.demo.member.kubelet import Kubelet, Plan
from binderctl.demo.member.logs import LogBook
from binderctl.demo.member.objects import Writer
from binderctl.demo.member.repos import Launch
from binderctl.demo.member.sessions import Hub, image_bytes
from binderctl.demo.member.timeline import Timeline

BUILD_LABEL = "binderhub-build"
FAIL_CHANCE = 0.10
HANG_CHANCE = 0.04
CLEANER_INTERVAL = 60.0  # BinderHub.build_cleanup_interval
MAX_AGE = 3600.0 * 4  # KubernetesCleaner.max_age
BUILD_CACHE_SHARE = 0.5  # of an image's size left in dind's cache after a build


@dataclass
class Build:
    name: str
    launch: Launch
    image: str
    outcome: str  # success | failure | hang | push-error
    seconds: float
    created: float
    waiting: list[Callable[[bool], None]] = field(default_factory=list)
    hung: bool = False


def _buildpack(repo_name: str) -> str:
    lowered = repo_name.lower()
    if "dockerfile" in lowered or "rocker" in lowered:
        return "DockerBuildPack"
    if lowered in ("r", "r-conda", "stencila-r", "r_with_python", "binder-r-description"):
        return "RBuildPack"
    if "julia" in lowered:
        return "JuliaProjectTomlBuildPack"
    if lowered in ("conda", "jupyter-sos", "octave", "latex") or "handbook" in lowered:
        return "CondaBuildPack"
    if lowered == "nix":
        return "NixBuildPack"
    return "PythonBuildPack"


class Builds:
    def __init__(
        self,
        writer: Writer,
        timeline: Timeline,
        logs: LogBook,
        kubelet: Kubelet,
        hub: Hub,
        rng: random.Random,
        namespace: str,
    ) -> None:
        self.writer = writer
        self.timeline = timeline
        self.logs = logs
        self.kubelet = kubelet
        self.hub = hub
        self.rng = rng
        self.namespace = namespace
        self.builds: dict[str, Build] = {}  # by pod name
        self.dind_pods: set[str] = set()
        self.dind = True  # imageBuilderType dind: builds talk to the dind daemon
        self.build_image = charts.REPO2DOCKER_IMAGE  # KubernetesBuildExecutor.build_image
        self.force_outcome: str | None = None  # knob for tests: success, failure or hang
        self.push_error: str | None = None  # why dind cannot push (from the chart values)
        self.succeeded = self.failed = 0

    def start_cleaner(self) -> None:
        self.timeline.every(CLEANER_INTERVAL, self._clean, self.timeline.now + CLEANER_INTERVAL)

    # -- requests from launches ------------------------------------------------------
    def request(self, launch: Launch, image: str, done: Callable[[bool], None]) -> None:
        name = naming.build_name(launch.repo.build_slug, launch.ref)
        build = self.builds.get(name)
        if build is not None:
            self.hub.binder_log("I", "build:590", f"Build {name} already running")
            build.waiting.append(done)
            return
        roll = self.rng.random()
        outcome = "push-error" if self.push_error else self.force_outcome or (
            "failure" if roll < FAIL_CHANCE else "hang" if roll < FAIL_CHANCE + HANG_CHANCE
            else "success"
        )  # fmt: skip
        build = Build(name, launch, image, outcome, self.rng.uniform(60, 420), self.timeline.now)
        build.waiting.append(done)
        self.builds[name] = build
        self.writer.create(types.PODS, self.pod_object(build))
        self.hub.binder_log("I", "build:595", f"Started build {name}")
        self.hub.binder_log("I", "build:597", f"Watching build pod {name}")

    def pod_object(self, build: Build) -> Obj:
        socket = "/var/run/dind/docker.sock" if self.dind else "/var/run/docker.sock"
        args = [
            "jupyter-repo2docker",
            f"--ref={build.launch.ref}",
            f"--image={build.image}",
            "--no-clean",
            "--no-run",
            "--json-logs",
            "--user-name=jovyan",
            "--user-id=1000",
            "--push",
            build.launch.repo.url,
        ]
        return {
            "metadata": {
                "name": build.name,
                "namespace": self.namespace,
                "labels": {"name": build.name, "component": BUILD_LABEL},
                "annotations": {"binder-repo": build.launch.repo.url},
            },
            "spec": {
                "containers": [
                    {
                        "name": "builder",
                        "image": self.build_image,
                        "args": args,
                        "volumeMounts": [
                            {"mountPath": "/var/run/docker.sock", "name": "docker-socket"},
                        ],
                        "resources": {
                            "limits": {"cpu": "1", "memory": "2G", "ephemeral-storage": "2G"},
                            "requests": {"cpu": "100m", "memory": "2G"},
                        },
                    }
                ],
                "volumes": [
                    {"name": "docker-socket", "hostPath": {"path": socket, "type": "Socket"}},
                ],
                "restartPolicy": "Never",
                "tolerations": [
                    {"key": key, "operator": "Equal", "value": "user", "effect": "NoSchedule"}
                    for key in ("hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated")
                ],
                "affinity": {
                    "podAntiAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [
                            {
                                "weight": 100,
                                "podAffinityTerm": {
                                    "topologyKey": "kubernetes.io/hostname",
                                    "labelSelector": {"matchLabels": {"component": BUILD_LABEL}},
                                },
                            }
                        ]
                    }
                },
            },
        }

    # -- Workload for build pods -----------------------------------------------------
    def plan(self, pod: Obj) -> Plan:
        return Plan(ready_after=0.5)

    def started(self, pod: Obj, container: str) -> None:
        build = self.builds.get(pod["metadata"]["name"])
        if build is None:
            return
        self.hub.binder_log("I", "build:683", f"Watching logs of {build.name}")
        script = self._script(build)
        step = build.seconds / max(1, len(script))
        for index, (line, phase) in enumerate(script):
            self.timeline.after(
                step * index, partial(self._log, build, fmt.repo2docker(line, phase))
            )
        self.timeline.after(build.seconds, lambda: self._end(build))

    def _log(self, build: Build, line: str) -> None:
        if self.builds.get(build.name) is build:
            self.logs.write(self.namespace, build.name, "builder", line)

    def _script(self, build: Build) -> list[tuple[str, str]]:
        rng, repo, ref = self.rng, build.launch.repo, build.launch.ref
        tmp = f"/tmp/repo2docker{rng.getrandbits(40):x}"
        lines = [
            ("Picked Git content provider.", "fetching"),
            (f"Cloning into '{tmp}'...", "fetching"),
            (f"HEAD is now at {ref[:7]} Merge pull request #{rng.randint(2, 400)} from "
             f"{repo.owner}/update", "fetching"),
            (f"Using {_buildpack(repo.name)} builder", "building"),
            ('#0 building with "default" instance using docker driver', "building"),
            ("#1 [internal] load build definition from Dockerfile", "building"),
            ("#1 DONE 0.0s", "building"),
            ("#2 [internal] load metadata for docker.io/library/buildpack-deps:jammy", "building"),
            ("#2 DONE 0.6s", "building"),
        ]  # fmt: skip
        steps = rng.randint(12, 22)
        for n in range(3, steps):
            lines.append((f"#{n} [{n - 2}/{steps - 3}] RUN ${{KERNEL_PYTHON_PREFIX}}/bin/pip "
                          "install --no-cache-dir -r requirements.txt" if n == steps - 4 else
                          f"#{n} [{n - 2}/{steps - 3}] COPY --chown=1000:1000 src/ "
                          "${REPO_DIR}/", "building"))  # fmt: skip
            if build.outcome == "failure" and n == steps - 4:
                lines.append((
                    f'#{n} ERROR: process "/bin/sh -c ${{KERNEL_PYTHON_PREFIX}}/bin/pip install '
                    '--no-cache-dir -r requirements.txt" did not complete successfully: exit '
                    "code: 1", "failed"))  # fmt: skip
                return lines
            lines.append((f"#{n} DONE {rng.uniform(0.1, 40):.1f}s", "building"))
        digest = f"{rng.getrandbits(256):064x}"
        repository, _, tag = build.image.rpartition(":")
        lines += [
            (f"#{steps} exporting to image", "building"),
            (f"#{steps} writing image sha256:{digest} done", "building"),
            (f"#{steps} naming to {build.image} done", "building"),
            (f"The push refers to repository [{repository}]", "building"),
        ]
        if build.outcome == "push-error":
            return [*lines, (str(self.push_error), "failed")]
        lines += [(f"{rng.getrandbits(48):012x}: Pushed", "building") for _ in range(6)]
        lines.append((f"{tag}: digest: sha256:{rng.getrandbits(256):064x} size: "
                      f"{rng.randint(3000, 9000)}", "building"))  # fmt: skip
        return lines

    def _end(self, build: Build) -> None:
        if self.builds.get(build.name) is not build:
            return
        if build.outcome == "hang" and self.dind:
            build.hung = True
            return
        self._finish(build, build.outcome not in ("failure", "push-error"))

    def _finish(self, build: Build, ok: bool) -> None:
        run = self.kubelet.run_of(self.namespace, build.name)
        if run is not None:
            self.kubelet.finish(run, 0 if ok else 1)
        if ok:
            self.succeeded += 1
            size = image_bytes(build.image)
            self.hub.registry[build.image] = size
            self.kubelet.disk.build_cache += int(size * BUILD_CACHE_SHARE)
            for dind in sorted(self.dind_pods)[:1]:
                self.logs.write(self.namespace, dind, "dind", fmt.logrus(
                    "info", self.hub.wall_now(), "Layer sha256:"
                    f"{self.rng.getrandbits(256):064x} cleaned up"))  # fmt: skip
        else:
            self.failed += 1
        self.hub.binder_log("I", "build:715", f"Finished streaming logs of {build.name}")
        self._delete(build)
        for done in build.waiting:
            done(ok)

    def _delete(self, build: Build) -> None:
        self.builds.pop(build.name, None)
        self.writer.delete(types.PODS, self.namespace, build.name)

    def _clean(self) -> None:
        """KubernetesCleaner: remove builds older than max_age."""
        for build in list(self.builds.values()):
            if self.timeline.now - build.created > MAX_AGE:
                self.hub.binder_log("I", "build:795", f"Deleting long-running build {build.name} "
                                 f"(repo={build.launch.repo.url})")  # fmt: skip
                self._delete(build)

    def hung(self) -> list[Build]:
        return [b for b in self.builds.values() if b.hung]

    def dind_gone(self, pod: str) -> None:
        """A deleted dind pod closes its socket: builds stuck pushing through it finish."""
        self.dind_pods.discard(pod)
        self.release_hung()

    def release_hung(self) -> None:
        """The wedged pushes return (what a fresh dind socket does): hung builds finish."""
        for build in self.hung():
            self._finish(build, True)

    def ready(self, pod: Obj) -> None:
        return None

    def exited(self, pod: Obj, container: str, code: int) -> None:
        return None

    def rejected(self, pod: Obj, reason: str) -> None:
        build = self.builds.get(pod["metadata"]["name"])
        if build is not None:
            self._delete(build)
            for done in build.waiting:
                done(False)

    def removed(self, pod: Obj) -> None:
        build = self.builds.pop(pod["metadata"]["name"], None)
        if build is not None:
            for done in build.waiting:
                done(False)
