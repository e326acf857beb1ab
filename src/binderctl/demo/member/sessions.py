"""User sessions: launches through BinderHub, spawns by JupyterHub/KubeSpawner, culling.

A launch is refused beyond ``LaunchQuota.total_quota`` (BinderHub's "BinderHub is
full" error, no pod); otherwise the hub creates a ``jupyter-<user>`` pod as KubeSpawner
does (labels, annotations, env, resources, args). The pod goes through the scheduler and
the kubelet; once Ready the hub routes it through the proxy. The idle culler runs every
``cull_every`` seconds and stops servers idle for ``cull_timeout`` or older than
``cull_max_age``.
"""

from __future__ import annotations

import math
import random
import re
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, Store
from binderctl.demo.member import logformats as fmt
from binderctl.demo.member import naming
from binderctl.demo.member.kubelet import Kubelet, Plan
from binderctl.demo.member.logs import LogBook
from binderctl.demo.member.objects import Writer
from binderctl.demo.member.repos import Launch, RepoCatalog
from binderctl.demo.member.stamps import rfc3339_micro
from binderctl.demo.member.timeline import Timeline, Timer

SESSION_LABELS = {"app": "jupyterhub", "component": "singleuser-server"}
START_TIMEOUT = 300.0  # z2jh singleuser.startTimeout
ROUTE_CHECK_INTERVAL = 300.0  # JupyterHub.last_activity_interval: check_routes
ACTIVE_MEDIAN = 12 * 60.0  # how long people keep using a session
JUPYTERHUB_VERSION = "5.3.0"
KUBESPAWNER_VERSION = "7.0.0"
CULLER = "jupyterhub-idle-culler@127.0.0.1"
DELETE_GRACE = 1  # KubeSpawner.delete_grace_period
GITHUB_PROVIDER = "GitHubRepoProvider"


def image_bytes(image: str) -> int:
    """The size of a built image (1.2 to 4.5 GB, the same for the same image)."""
    return 1_200_000_000 + zlib.crc32(image.encode()) % 3_300_000_000


def _format_td(seconds: float) -> str:
    s = int(max(0, seconds))
    return f"{s // 3600:02}:{s % 3600 // 60:02}:{s % 60:02}"


POLL_INTERVAL = 30.0  # JupyterHub Spawner.poll_interval: how soon the hub sees a server end


@dataclass
class Session:
    user: str
    pod: str
    launch: Launch
    image: str
    created: float  # simulated time
    active_until: float
    kernel: str
    state: str = "spawning"  # spawning | running | stopping
    ip: str = ""
    timeout: Timer | None = None
    waiting_since: float = 0.0


@dataclass
class Settings:
    namespace: str
    release: str
    binder_host: str
    hub_host: str
    image_prefix: str
    quota: int | None
    cull_timeout: float = 600.0
    cull_every: float = 660.0
    cull_max_age: float = 21600.0
    memory_guarantee: str = "450M"
    memory_limit: str = "2G"
    cpu_guarantee: str = "10m"
    cpu_limit: str = "1"
    extra: dict[str, str] = field(default_factory=dict)


class Hub:
    """JupyterHub with its proxy and the idle culler, and BinderHub's launch path."""

    def __init__(
        self,
        store: Store,
        writer: Writer,
        timeline: Timeline,
        logs: LogBook,
        kubelet: Kubelet,
        rng: random.Random,
        catalog: RepoCatalog,
        settings: Settings,
        wall: Callable[[float], float],
    ) -> None:
        self.store = store
        self.writer = writer
        self.timeline = timeline
        self.logs = logs
        self.kubelet = kubelet
        self.rng = rng
        self.catalog = catalog
        self.settings = settings
        self.wall = wall
        self.sessions: dict[str, Session] = {}  # by pod name
        self.hub_pod: str | None = None
        self.proxy_pod: str | None = None
        self.binder_pods: set[str] = set()  # ready binder pods
        # The launch quota each binder process read from binder-secret when it started
        self.binder_quotas: dict[str, int | None] = {}
        # and each repo provider's banned_specs (provider class -> patterns)
        self.binder_bans: dict[str, dict[str, list[str]]] = {}
        self.routes_missing = False
        self._had_proxy = False
        self.launches = self.refused = self.failed = 0
        self.registry: dict[str, int] = {}  # images in the registry: name -> bytes
        self.build: Callable[[Launch, str, Callable[[bool], None]], None] | None = None
        # repositories whose sessions misbehave (a drill's): URL -> what they do, and
        # what makes a started session of one misbehave
        self.misbehaving: dict[str, str] = {}
        self.misbehave: Callable[[Obj, str], None] | None = None
        # the extraAnnotations of singleuser pods, as the running hub read its config
        self.session_annotations: dict[str, str] = {}

    # -- components up or down -------------------------------------------------------
    @property
    def hub_up(self) -> bool:
        return self.hub_pod is not None

    @property
    def proxy_up(self) -> bool:
        return self.proxy_pod is not None

    @property
    def binder_up(self) -> bool:
        return bool(self.binder_pods)

    def wall_now(self) -> float:
        return self.wall(self.timeline.now)

    def binder_log(self, level: str, where: str, message: str) -> None:
        line = fmt.tornado(level, self.wall_now(), where, message)
        for pod in sorted(self.binder_pods)[:1]:
            self.logs.write(self.settings.namespace, pod, "binder", line)

    def hub_log(self, level: str, where: str, message: str) -> None:
        if self.hub_pod is not None:
            line = fmt.jupyterhub(level, self.wall_now(), where, message)
            self.logs.write(self.settings.namespace, self.hub_pod, "hub", line)

    def _culler(self, where: str, message: str) -> None:
        if self.hub_pod is not None:
            line = fmt.tornado("I", self.wall_now(), where, message)
            self.logs.write(self.settings.namespace, self.hub_pod, "hub", line)

    def proxy_log(self, level: str, message: str) -> None:
        if self.proxy_pod is not None:
            line = fmt.chp(level, self.wall_now(), message)
            self.logs.write(self.settings.namespace, self.proxy_pod, "chp", line)

    def _notebook(self, session: Session, message: str, level: str = "I") -> None:
        line = fmt.jupyter_server(level, self.wall_now(), "ServerApp", message)
        self.logs.write(self.settings.namespace, session.pod, "notebook", line)

    # -- counting --------------------------------------------------------------------
    def user_pods(self) -> int:
        return len(self.sessions)

    def binder_ip(self) -> str:
        for pod in sorted(self.binder_pods):
            run = self.kubelet.run_of(self.settings.namespace, pod)
            if run is not None:
                return run.pod_ip
        return "10.42.0.2"

    # -- launching -------------------------------------------------------------------
    def start_arrivals(self, per_minute: float) -> None:
        if per_minute <= 0:
            return
        rate = per_minute / 60.0

        def arrive() -> None:
            self.arrive()
            self.timeline.after(self.rng.expovariate(rate), arrive)

        self.timeline.after(self.rng.expovariate(rate), arrive)

    def arrive(self) -> None:
        """Someone opens a launch link for a repository."""
        if not self.binder_up:
            return
        launch = self.catalog.pick()
        if self.refuse_banned(launch):
            return
        prefix = self.settings.image_prefix
        image = naming.image_name(prefix, launch.repo.build_slug, launch.ref)
        if image in self.registry:
            self.launch(launch, image)
            return
        if not self.quota_allows(launch):
            return
        if self.build is not None:
            requested = self.timeline.now

            def built(ok: bool) -> None:
                if ok and self.timeline.now - requested < 600:
                    self.launch(launch, image)

            self.build(launch, image, built)

    def serving_binder(self) -> str | None:
        """The binder pod that answers: a ready one that is not shutting down (the
        Service's endpoints drop a terminating pod); the oldest while a rollout has two."""
        ready = [
            pod for pod in self.binder_pods
            if not (run := self.kubelet.run_of(self.settings.namespace, pod)) or not run.terminating
        ]  # fmt: skip
        return min(ready, key=self._started_at, default=None)

    def _started_at(self, pod: str) -> tuple[str, str]:
        run = self.kubelet.run_of(self.settings.namespace, pod)
        return (run.start_time if run is not None else "", pod)

    def launch_quota(self) -> int | None:
        """``LaunchQuota.total_quota`` as the serving binder process has it: read from its
        config at start (binderhub ``app.py``), so a changed chart reaches it only with a
        new pod."""
        pod = self.serving_binder()
        if pod is None or pod not in self.binder_quotas:
            return self.settings.quota
        return self.binder_quotas[pod]

    def banned_specs(self) -> dict[str, list[str]]:
        """Each repo provider's ``banned_specs`` as the serving binder process has them
        (read from its config at start, as the launch quota is)."""
        pod = self.serving_binder()
        return self.binder_bans.get(pod, {}) if pod is not None else {}

    def is_banned(self, provider: str, spec: str) -> bool:
        """``RepoProvider.is_banned`` (binderhub ``repoproviders.py``): a pattern of the
        provider's ``banned_specs`` matches the spec from its start, ignoring case."""
        return any(
            re.match(pattern, spec, re.IGNORECASE)
            for pattern in self.banned_specs().get(provider, ())
        )

    def refuse_banned(self, launch: Launch) -> bool:
        """A launch link of a banned repository: BinderHub answers its EventSource request
        with the refusal and launches nothing (``BuildHandler.get``)."""
        spec = launch.spec
        if not self.is_banned(GITHUB_PROVIDER, spec):
            return False
        self.refused += 1
        self.binder_log(
            "I", "log:135", f"200 GET /build/gh/{spec} (@{self._client_ip()}) "
            f"{self.rng.uniform(2, 20):.2f}ms",
        )  # fmt: skip
        return True

    def quota_allows(self, launch: Launch) -> bool:
        quota = self.launch_quota()
        total = self.user_pods()
        if quota is not None and total >= quota:
            self.refused += 1
            self.binder_log("E", "quota:127", f"BinderHub is full: {total}/{quota}")
            self.binder_log(
                "I", "log:135", f"200 GET /build/gh/{launch.repo.spec}/{launch.unresolved} "
                f"(@{self._client_ip()}) {self.rng.uniform(40, 400):.2f}ms",
            )  # fmt: skip
            return False
        return True

    def _client_ip(self) -> str:
        return f"203.0.113.{self.rng.randint(1, 254)}"

    def launch(self, launch: Launch, image: str) -> Session | None:
        if not self.quota_allows(launch):
            return None
        self.launches += 1
        quota = self.launch_quota()
        if quota is not None:
            matching = sum(1 for s in self.sessions.values() if s.image == image)
            level = "W" if matching >= 0.5 * quota else "I"
            self.binder_log(
                level, "builder:696", f"Launching server for {launch.repo.url}: {matching} "
                f"other servers running this repo ({self.user_pods()} total)",
            )  # fmt: skip
        prefix = naming.user_prefix(launch.repo.url)
        suffix = "".join(self.rng.choices(naming.USER_SUFFIX_CHARS, k=naming.USER_SUFFIX_LENGTH))
        user = f"{prefix}-{suffix}"
        if not self.hub_up:
            self.failed += 1
            self.binder_log(
                "E", "launcher:124", f"Error accessing Hub API (using "
                f"http://hub:8081/hub/api/users/{user}): HTTP 599: Failed to connect to hub "
                "port 8081 after 0 ms: Couldn't connect to server",
            )  # fmt: skip
            return None
        binder = f"binder@{self.binder_ip()}"
        self.binder_log("I", "launcher:198", f"Creating user {user} for image {image}")
        self.hub_log("I", "log:192", f"201 POST /hub/api/users/{user} ({binder}) "
                  f"{self.rng.uniform(5, 30):.2f}ms")  # fmt: skip
        self.binder_log("I", "launcher:258", f"Starting server for user {user} with image {image}")
        active = self.rng.lognormvariate(math.log(ACTIVE_MEDIAN), 1.0)
        session = self._new_session(user, launch, image, self.timeline.now, active)
        self.hub_log("I", "spawner:2890",
                  f"Attempting to create pod {session.pod}, with timeout 3")  # fmt: skip
        self.writer.create(types.PODS, self.pod_object(session))
        self.hub_log("I", "log:192", f"202 POST /hub/api/users/{user}/servers/ ({binder}) "
                  f"{self.rng.uniform(100, 900):.2f}ms")  # fmt: skip
        session.timeout = self.timeline.after(START_TIMEOUT, lambda: self._spawn_timeout(session))
        return session

    def _new_session(
        self, user: str, launch: Launch, image: str, created: float, active: float
    ) -> Session:
        pod = naming.session_pod_name(user)
        kernel = str(uuid.UUID(int=zlib.crc32(pod.encode()) << 96 | self.rng.getrandbits(96)))
        session = Session(user, pod, launch, image, created, created + active, kernel)
        self.sessions[pod] = session
        return session

    def pod_object(self, session: Session) -> Obj:
        s, user, launch = self.settings, session.user, session.launch
        label_user = naming.safe_slug(user, label=True)
        prefix = f"/user/{user}/"
        token = f"{self.rng.getrandbits(128):032x}"
        env = {
            "BINDER_LAUNCH_HOST": f"https://{s.binder_host}/",
            "BINDER_PERSISTENT_REQUEST": launch.persistent_request,
            "BINDER_REF_URL": launch.repo.ref_url(launch.ref),
            "BINDER_REPO_URL": launch.repo.url,
            "BINDER_REQUEST": launch.request,
            "CPU_GUARANTEE": "0.01",
            "CPU_LIMIT": "1.0",
            "JPY_API_TOKEN": token,
            "JUPYTERHUB_ACTIVITY_URL": f"http://hub:8081/hub/api/users/{user}/activity",
            "JUPYTERHUB_API_TOKEN": token,
            "JUPYTERHUB_API_URL": "http://hub:8081/hub/api",
            "JUPYTERHUB_BASE_URL": "/",
            "JUPYTERHUB_CLIENT_ID": f"jupyterhub-user-{user}",
            "JUPYTERHUB_HOST": "",
            "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{prefix}oauth_callback",
            "JUPYTERHUB_PUBLIC_HUB_URL": f"https://{s.hub_host}/hub/",
            "JUPYTERHUB_SERVER_NAME": "",
            "JUPYTERHUB_SERVICE_PREFIX": prefix,
            "JUPYTERHUB_SERVICE_URL": f"http://0.0.0.0:8888{prefix}",
            "JUPYTERHUB_USER": user,
            "JUPYTER_IMAGE": session.image,
            "JUPYTER_IMAGE_SPEC": session.image,
            "MEM_GUARANTEE": "450000000",
            "MEM_LIMIT": "2000000000",
        }
        args = [
            "--ip=0.0.0.0",
            "--port=8888",
            f"--NotebookApp.base_url={prefix}",
            f"--NotebookApp.token={token}",
            "--NotebookApp.trust_xheaders=True",
            "--NotebookApp.allow_origin=*",
            "--NotebookApp.allow_origin_pat=.*",
        ]
        args += [a.replace("--NotebookApp.", "--ServerApp.") for a in args if "NotebookApp" in a]
        return {
            "metadata": {
                "name": session.pod,
                "namespace": s.namespace,
                "labels": {
                    "app": "jupyterhub",
                    "app.kubernetes.io/component": "singleuser-server",
                    "app.kubernetes.io/instance": s.release,
                    "app.kubernetes.io/managed-by": "kubespawner",
                    "app.kubernetes.io/name": "jupyterhub",
                    "chart": "jupyterhub-4.2.0",
                    "component": "singleuser-server",
                    "helm.sh/chart": "jupyterhub-4.2.0",
                    "heritage": "jupyterhub",
                    "hub.jupyter.org/network-access-hub": "true",
                    "hub.jupyter.org/servername": "",
                    "hub.jupyter.org/username": label_user,
                    "release": s.release,
                },
                "annotations": {
                    **self.session_annotations,
                    "hub.jupyter.org/jupyterhub-version": JUPYTERHUB_VERSION,
                    "hub.jupyter.org/kubespawner-version": KUBESPAWNER_VERSION,
                    "hub.jupyter.org/username": user,
                },
            },
            "spec": {
                "automountServiceAccountToken": False,
                "containers": [
                    {
                        "name": "notebook",
                        "image": session.image,
                        "args": ["jupyter-notebook", *args],
                        "env": [{"name": k, "value": v} for k, v in sorted(env.items())],
                        "ports": [{"containerPort": 8888, "name": "notebook-port"}],
                        "resources": {
                            "limits": {"cpu": s.cpu_limit, "memory": s.memory_limit},
                            "requests": {"cpu": s.cpu_guarantee, "memory": s.memory_guarantee},
                        },
                        "securityContext": {"allowPrivilegeEscalation": False, "runAsUser": 1000},
                    }
                ],
                "enableServiceLinks": False,
                "restartPolicy": "OnFailure",
                "securityContext": {"fsGroup": 100},
                "tolerations": [
                    {
                        "effect": "NoSchedule",
                        "key": "hub.jupyter.org/dedicated",
                        "operator": "Equal",
                        "value": "user",
                    },
                    {
                        "effect": "NoSchedule",
                        "key": "hub.jupyter.org_dedicated",
                        "operator": "Equal",
                        "value": "user",
                    },
                ],
            },
        }

    # -- an "up" member's sessions ---------------------------------------------------
    def existing(self, count: int, node_name: str, launch: Launch | None = None) -> list[Obj]:
        """Pods of ``count`` sessions (of ``launch``, else of repositories picked as
        launches pick them) that were running before the simulation started."""
        pods = []
        for _ in range(count):
            picked = launch or self.catalog.pick()
            image = naming.image_name(
                self.settings.image_prefix, picked.repo.build_slug, picked.ref
            )
            prefix = naming.user_prefix(picked.repo.url)
            suffix = "".join(self.rng.choices(naming.USER_SUFFIX_CHARS, k=8))
            age = self.rng.uniform(0, min(self.settings.cull_max_age, 2 * 3600))
            active = self.rng.lognormvariate(math.log(ACTIVE_MEDIAN), 1.0)
            created = self.timeline.now - age
            session = self._new_session(f"{prefix}-{suffix}", picked, image, created, active)
            session.state = "running"
            self.registry.setdefault(image, image_bytes(image))
            pod = self.pod_object(session)
            stamp = rfc3339_micro(self.wall(created))[:19] + "Z"
            pod["metadata"]["creationTimestamp"] = stamp
            pod["spec"]["nodeName"] = node_name
            pod["status"] = {
                "phase": "Running",
                "startTime": stamp,
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "True",
                        "lastProbeTime": None,
                        "lastTransitionTime": stamp,
                    },
                ],
                "containerStatuses": [
                    {
                        "name": "notebook",
                        "ready": True,
                        "restartCount": 0,
                        "image": image,
                        "state": {"running": {"startedAt": stamp}},
                    },
                ],
            }
            pods.append(pod)
        return pods

    # -- the kubelet tells us about session pods (Workload) --------------------------
    def plan(self, pod: Obj) -> Plan:
        return Plan(ready_after=self.rng.uniform(2.0, 6.0))

    def started(self, pod: Obj, container: str) -> None:
        session = self.sessions.get(pod["metadata"]["name"])
        if session is None:
            return
        user = session.user
        run = self.kubelet.run_of(self.settings.namespace, session.pod)
        session.ip = run.pod_ip if run else ""
        kind = self.misbehaving.get(session.launch.repo.url)
        if kind is not None and self.misbehave is not None:
            self.misbehave(pod, kind)
        self.logs.chatter(
            self.settings.namespace, session.pod, "notebook", 1 / 45, self._chatter(session)
        )
        ts = self.wall_now()
        lines = [
            fmt.jupyter_server("I", ts, "ServerApp", f"{ext} | extension was successfully linked.")
            for ext in ("jupyter_lsp", "jupyter_server_terminals", "jupyterlab", "notebook")
        ] + [
            fmt.jupyter_server("I", ts, "ServerApp", message)
            for message in (
                "Writing Jupyter server cookie secret to "
                "/home/jovyan/.local/share/jupyter/runtime/jupyter_cookie_secret",
                "Serving notebooks from local directory: /home/jovyan",
                "Jupyter Server 2.15.0 is running at:",
                f"http://{session.pod}:8888/user/{user}/lab?token=...",
                f"    http://127.0.0.1:8888/user/{user}/lab?token=...",
                "Use Control-C to stop this server and shut down all kernels (twice to skip "
                "confirmation).",
            )
        ]
        self.logs.write_many(self.settings.namespace, session.pod, "notebook", lines)

    def _chatter(self, session: Session) -> Callable[[random.Random, float], str]:
        base = f"/user/{session.user}"

        def line(rng: random.Random, ts: float) -> str:
            choice = rng.random()
            if choice < 0.5:
                message = (
                    f"200 GET {base}/api/kernels/{session.kernel}?{int(ts * 1000)} "
                    f"({session.user}@10.42.0.1) {rng.uniform(0.5, 4):.2f}ms"
                )
            elif choice < 0.8:
                message = "Saving file at /index.ipynb"
            else:
                message = f"200 GET {base}/api/contents?content=1&{int(ts * 1000)} " \
                    f"({session.user}@10.42.0.1) {rng.uniform(2, 30):.2f}ms"  # fmt: skip
            return fmt.jupyter_server("I", ts, "ServerApp", message)

        return line

    def ready(self, pod: Obj) -> None:
        session = self.sessions.get(pod["metadata"]["name"])
        if session is None or session.state != "spawning":
            return
        session.state = "running"
        if session.timeout is not None:
            session.timeout.cancel()
        took = self.timeline.now - session.created
        user, target = session.user, f"http://{session.ip}:8888"
        self.hub_log("I", "base:1127", f"User {user} took {took:.3f} seconds to start")
        self.hub_log("I", "proxy:332", f"Adding user {user} to proxy /user/{user}/ => {target}")
        self._add_route(session)
        self.hub_log("I", "users:899", f"Server {user} is ready")
        self.binder_log("I", "builder:803", f"Launched {session.launch.repo.url} in {took:.0f}s")
        self._notebook(session, f"Kernel started: {session.kernel}")
        self._notebook(session, f"Connecting to kernel {session.kernel}.")

    def _add_route(self, session: Session) -> None:
        route, target = f"/user/{session.user}", f"http://{session.ip}:8888"
        self.proxy_log("info", f"Adding route {route} -> {target}")
        self.proxy_log("info", f"Route added {route} -> {target}")
        self.proxy_log("info", f"201 POST /api/routes{route} ")

    def exited(self, pod: Obj, container: str, code: int) -> None:
        session = self.sessions.get(pod["metadata"]["name"])
        if session is None or session.state == "stopping":
            return

        def noticed() -> None:
            if self.sessions.get(session.pod) is not session or session.state == "stopping":
                return
            self.hub_log(
                "W", "base:1348", f"User {session.user} server stopped, with exit code: {code}"
            )
            self.stop(session)

        # The hub polls each spawner every poll_interval from its start (Spawner.start_polling).
        since = self.timeline.now - session.created
        self.timeline.after(POLL_INTERVAL - since % POLL_INTERVAL, noticed)

    def rejected(self, pod: Obj, reason: str) -> None:
        session = self.sessions.get(pod["metadata"]["name"])
        if session is None:
            return
        self._spawn_failed(session, f"pod {self.settings.namespace}/{session.pod} failed: {reason}")

    def removed(self, pod: Obj) -> None:
        session = self.sessions.pop(pod["metadata"]["name"], None)
        if session is None or session.state == "stopping":
            return
        # Deleted or evicted behind the hub's back: it notices on its next poll.
        user = session.user
        if session.timeout is not None:
            session.timeout.cancel()
        self.hub_log("W", "base:1348", f"User {user} server stopped, with exit code: 1")
        self.hub_log("I", "proxy:356", f"Removing user {user} from proxy (/user/{user}/)")
        self.proxy_log("info", f"Removing route /user/{user}")
        self.proxy_log("info", f"204 DELETE /api/routes/user/{user} ")

    # -- failures and stops ----------------------------------------------------------
    def _spawn_timeout(self, session: Session) -> None:
        if session.state == "spawning" and self.sessions.get(session.pod) is session:
            self._spawn_failed(
                session,
                f"pod {self.settings.namespace}/{session.pod} did not start in "
                f"{START_TIMEOUT:.0f} seconds!",
            )

    def _spawn_failed(self, session: Session, why: str) -> None:
        self.failed += 1
        self.hub_log("E", "user:1005", f"Unhandled error starting {session.user}'s server: {why}")
        self.binder_log(
            "E", "launcher:339", f"Error starting server for user {session.user}: "
            f"HTTP 500: Internal Server Error\n{why}",
        )  # fmt: skip
        self.stop(session, route=False)

    def stop(self, session: Session, route: bool = True) -> None:
        """The hub stops the server: route removed, pod deleted."""
        if session.state == "stopping":
            return
        session.state = "stopping"
        if session.timeout is not None:
            session.timeout.cancel()
        user = session.user
        if route:
            self.hub_log("I", "proxy:356", f"Removing user {user} from proxy (/user/{user}/)")
            self.proxy_log("info", f"Removing route /user/{user}")
            self.proxy_log("info", f"204 DELETE /api/routes/user/{user} ")
        self.hub_log("I", "spawner:3282", f"Deleting pod {self.settings.namespace}/{session.pod}")
        self.sessions.pop(session.pod, None)
        self.writer.delete(types.PODS, self.settings.namespace, session.pod, DELETE_GRACE)
        self.hub_log("I", "base:1350", f"User {user} server took {self.rng.uniform(0.3, 2):.3f} "
                  "seconds to stop")  # fmt: skip

    # -- the idle culler -------------------------------------------------------------
    def start_culler(self) -> None:
        first = self.timeline.now + self.settings.cull_every
        self.timeline.every(self.settings.cull_every, self.cull, first)

    def cull(self) -> None:
        if not self.hub_up:
            return
        now = self.timeline.now
        s = self.settings
        self.hub_log("I", "log:192", f"200 GET /hub/api/users?state=ready ({CULLER}) "
                  f"{self.rng.uniform(5, 60):.2f}ms")  # fmt: skip
        for session in sorted(self.sessions.values(), key=lambda x: x.created):
            if session.state != "running":
                continue
            inactive = now - min(now, session.active_until)
            age = now - session.created
            if inactive >= s.cull_timeout:
                self._culler(
                    "__init__:252", f"Culling server {session.user} (inactive for "
                    f"{_format_td(inactive)})",
                )  # fmt: skip
            elif s.cull_max_age and age >= s.cull_max_age:
                self._culler(
                    "__init__:261", f"Culling server {session.user} (age: {_format_td(age)}, "
                    f"inactive for {_format_td(inactive)})",
                )  # fmt: skip
            else:
                continue
            self.stop(session)
            self.hub_log("I", "log:192", f"204 DELETE /hub/api/users/{session.user}/server "
                      f"({CULLER}) {self.rng.uniform(300, 2000):.2f}ms")  # fmt: skip
            self._culler("__init__:385", f"Culling user {session.user} (inactive for "
                         f"{_format_td(inactive)})")  # fmt: skip
            self.hub_log("I", "log:192", f"204 DELETE /hub/api/users/{session.user} ({CULLER}) "
                      f"{self.rng.uniform(5, 40):.2f}ms")  # fmt: skip

    # -- hub, proxy and binder pods come and go --------------------------------------
    def hub_ready(self, pod: str) -> None:
        self.hub_pod = pod
        pending = [s for s in self.sessions.values() if s.state == "spawning"]
        running = len(self.sessions) - len(pending)
        self.hub_log("I", "app:3077", f"Initialized {running} spawners in "
                  f"{0.002 * running + 0.05:.3f} seconds")  # fmt: skip
        for session in pending:
            self._spawn_failed(session, "server was pending spawn when the Hub restarted")
        self.timeline.every(ROUTE_CHECK_INTERVAL, lambda: self._check_routes(pod),
                            self.timeline.now + 1.0)  # fmt: skip

    def hub_gone(self, pod: str) -> None:
        if self.hub_pod != pod:
            return
        self.hub_pod = None
        for session in self.sessions.values():
            if session.state == "spawning":
                self.binder_log(
                    "E", "launcher:339", f"Error starting server for user {session.user}: "
                    "HTTP 599: Connection closed\n",
                )  # fmt: skip

    def proxy_started(self, pod: str) -> None:
        """A new proxy has no routes: every session's browser connection drops."""
        first, self._had_proxy = not self._had_proxy, True
        self.proxy_pod = pod
        if first or not any(s.state == "running" for s in self.sessions.values()):
            return
        self.routes_missing = True
        for session in self.sessions.values():
            if session.state == "running":
                self._notebook(session, f"Starting buffering for {session.kernel}:"
                               f"{session.kernel[::-1]}")  # fmt: skip

    def proxy_gone(self, pod: str) -> None:
        if self.proxy_pod == pod:
            self.proxy_pod = None

    def _check_routes(self, hub_pod: str) -> None:
        """JupyterHub's periodic check_routes (every last_activity_interval)."""
        if self.hub_pod != hub_pod or not self.proxy_up or not self.routes_missing:
            return
        self.routes_missing = False
        self.hub_log("I", "proxy:477", "Adding route for Hub: / => http://hub:8081")
        self.proxy_log("info", "Adding route / -> http://hub:8081")
        self.proxy_log("info", "Route added / -> http://hub:8081")
        for session in sorted(self.sessions.values(), key=lambda x: x.created):
            if session.state != "running":
                continue
            url = f"http://{session.ip}:8888/user/{session.user}/"
            self.hub_log("W", "proxy:417", f"Adding missing route for /user/{session.user}/ "
                      f"(Server(url={url}, bind_url={url}))")  # fmt: skip
            self._add_route(session)
            self._notebook(session, f"Connecting to kernel {session.kernel}.")
            self._notebook(session, f"Restoring connection for {session.kernel}:"
                           f"{session.kernel[::-1]}")  # fmt: skip

    def binder_ready(self, pod: str) -> None:
        self.binder_pods.add(pod)

    def binder_started(
        self, pod: str, quota: int | None, banned: dict[str, list[str]] | None = None
    ) -> None:
        self.binder_quotas[pod] = quota
        self.binder_bans[pod] = banned or {}

    def binder_gone(self, pod: str) -> None:
        self.binder_pods.discard(pod)
        self.binder_quotas.pop(pod, None)
        self.binder_bans.pop(pod, None)

    def count_pods(self, selector: dict[str, str]) -> int:
        return sum(
            1
            for pod in self.store.list(types.PODS, self.settings.namespace)
            if all((pod["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
        )
