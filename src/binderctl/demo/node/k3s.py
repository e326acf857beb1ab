"""k3s on the simulated node: the install script, the systemd unit, and what it starts.

The cluster itself (the Kubernetes API, certificates, images) belongs to the world: the
node calls the world's ``K3sStarter`` the first time k3s starts and keeps the
``K3sCluster`` it returns across restarts and reboots.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import re
import shlex
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import yaml

from binderctl.config import DEFAULT_K3S_VERSION
from binderctl.demo.node.fs import MemoryFS
from binderctl.demo.node.journal import Journal
from binderctl.demo.node.settings import NodeFaults, NodeTimings
from binderctl.demo.node.streams import Output

UNIT = "k3s.service"
BINARY = "/usr/local/bin/k3s"
UNIT_FILE = "/etc/systemd/system/k3s.service"
ENV_FILE = "/etc/systemd/system/k3s.service.env"
K3S_YAML = "/etc/rancher/k3s/k3s.yaml"
KUBELET_DROPIN_DIR = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d"
REGISTRIES_YAML = "/etc/rancher/k3s/registries.yaml"
SERVER_DATA_DIR = "/var/lib/rancher/k3s/server"
INSTALLER_URL = "https://get.k3s.io"
INSTALLER_SCRIPT = "#!/bin/sh\n# k3s installation script (https://get.k3s.io)\nset -e\n"
CONTAINERD_SOCKET = "unix:///run/k3s/containerd/containerd.sock"
# Images pruned by crictl are printed one per line; the starter reports only bytes.
TYPICAL_IMAGE_BYTES = 800 * 2**20
ROTATABLE_SERVICES = (
    "admin", "api-server", "controller-manager", "scheduler", "k3s-controller", "k3s-server",
    "cloud-controller", "etcd", "auth-proxy", "kubelet", "kube-proxy",
)  # fmt: skip
# The kubelet's own defaults, which k3s keeps unless told otherwise.
KUBELET_DEFAULTS = {
    "maxPods": 110,
    "imageGCHighThresholdPercent": 85,
    "imageGCLowThresholdPercent": 80,
}
_KUBELET_FLAGS = {
    "max-pods": "maxPods",
    "image-gc-high-threshold": "imageGCHighThresholdPercent",
    "image-gc-low-threshold": "imageGCLowThresholdPercent",
}
_VALUE_FLAGS = {
    "tls-san", "write-kubeconfig-mode", "kubelet-arg", "node-name", "disable", "token",
    "kube-controller-manager-arg",
}  # fmt: skip
DEFAULT_NODE_CIDR_MASK = 24  # kube-controller-manager --node-cidr-mask-size (IPv4)
_VERSION = re.compile(r"v(\d+)\.(\d+)\.\d+\+k3s\d+")
KUBELET_DROPIN_SINCE = (1, 32)
JOB_FAILED = (
    "Job for k3s.service failed because the control process exited with error code.\n"
    'See "systemctl status k3s.service" and "journalctl -xeu k3s.service" for details.\n'
)


class K3sHost(Protocol):
    """What a privileged pod with the host's root and PID namespace (the
    system-upgrade-controller's Job) can do to k3s on the node."""

    @property
    def running(self) -> bool:
        """A k3s server process is there."""
        ...

    def binary_version(self) -> str:
        """The release of the binary on disk (``k3s -v``)."""
        ...

    def replace_binary(self, version: str) -> None:
        """Copy another release's binary over it."""
        ...

    def terminate(self) -> None:
        """SIGTERM to the k3s process; systemd (Restart=always) starts it again."""
        ...


@dataclass(frozen=True)
class K3sParams:
    """What the world needs to bring up the cluster behind this node."""

    node_name: str
    public_ip: str
    tls_sans: tuple[str, ...]
    version: str
    max_pods: int
    image_gc_high_percent: int
    image_gc_low_percent: int
    write_kubeconfig_mode: str
    disabled: tuple[str, ...] = ()  # packaged components --disable names (traefik, ...)
    plain_http_registries: tuple[str, ...] = ()  # registries.yaml mirrors with http://
    node_cidr_mask: int = DEFAULT_NODE_CIDR_MASK  # the node's pod range, from the flags
    host: K3sHost | None = field(default=None, compare=False)


class K3sCluster(Protocol):
    @property
    def kubeconfig_yaml(self) -> str:
        """k3s.yaml: server https://127.0.0.1:6443, a client certificate for one year."""
        ...

    async def set_running(self, running: bool) -> None:
        """k3s stopped or started again (the API stops answering while stopped)."""
        ...

    async def rotate_certificates(self) -> None:
        """New client and server certificates; ``kubeconfig_yaml`` changes."""
        ...

    async def upgraded(self, version: str) -> None:
        """k3s starts again from another release's binary (before ``set_running``)."""
        ...

    async def prune_images(self) -> int:
        """Remove unused images; bytes freed."""
        ...

    async def disk_usage(self) -> tuple[int, int]:
        """(used, total) bytes of the filesystem holding /var/lib/rancher."""
        ...


K3sStarter = Callable[[K3sParams], Awaitable[K3sCluster]]


class StartFailure(Exception):
    """k3s exits at start-up with this message."""


@dataclass(frozen=True)
class ServerFlags:
    tls_sans: tuple[str, ...]
    kubeconfig_mode: str
    node_name: str | None
    kubelet_args: tuple[str, ...]
    disabled: tuple[str, ...] = ()
    node_cidr_mask: int = DEFAULT_NODE_CIDR_MASK


def commit_of(version: str) -> str:
    """The short commit ``k3s --version`` shows (made up from the release)."""
    return hashlib.sha1(version.encode()).hexdigest()[:8]


def logrus(level: str, message: str) -> str:
    """A log line as k3s (logrus, no terminal) writes it."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f'time="{stamp}" level={level} msg="{message}"'


def parse_server_args(args: Sequence[str]) -> ServerFlags:
    """The ``k3s server`` flags the simulation understands; others fail like k3s does."""
    values: dict[str, list[str]] = {}
    rest = list(args)
    if rest and rest[0] == "server":
        rest.pop(0)
    elif rest and not rest[0].startswith("-"):
        raise StartFailure(f"the simulated node runs k3s servers only, not {rest[0]!r}")
    while rest:
        token = rest.pop(0)
        name, has_value, value = token.lstrip("-").partition("=")
        if not token.startswith("-") or name not in _VALUE_FLAGS:
            raise StartFailure(f"Incorrect Usage: flag provided but not defined: -{name}")
        if not has_value:
            if not rest:
                raise StartFailure(f"Incorrect Usage: flag needs an argument: -{name}")
            value = rest.pop(0)
        values.setdefault(name, []).append(value)
    mode = values.get("write-kubeconfig-mode", ["0600"])[-1]
    try:
        int(mode, 8)
    except ValueError:
        raise StartFailure(f"invalid write-kubeconfig-mode {mode!r}") from None
    return ServerFlags(
        tls_sans=tuple(values.get("tls-san", [])),
        kubeconfig_mode=mode,
        node_name=values.get("node-name", [None])[-1],
        kubelet_args=tuple(values.get("kubelet-arg", [])),
        disabled=tuple(
            item for value in values.get("disable", []) for item in value.split(",") if item
        ),
        node_cidr_mask=_node_cidr_mask(values.get("kube-controller-manager-arg", [])),
    )


def _node_cidr_mask(args: Sequence[str]) -> int:
    """``node-cidr-mask-size=N`` among the controller manager's args (the last wins)."""
    mask = DEFAULT_NODE_CIDR_MASK
    for arg in args:
        name, _, value = arg.lstrip("-").partition("=")
        if name == "node-cidr-mask-size":
            if not value.isdigit() or not 16 <= int(value) <= 30:
                raise StartFailure(
                    f"kube-controller-manager: invalid argument {value!r} for "
                    "--node-cidr-mask-size: the cluster CIDR is a /16"
                )
            mask = int(value)
    return mask


def plain_http_registries(fs: MemoryFS) -> tuple[str, ...]:
    """The registries containerd reaches over plain HTTP: mirrors in ``registries.yaml``
    whose endpoint is an ``http://`` URL (k3s reads the file when it starts)."""
    if not fs.exists(REGISTRIES_YAML):
        return ()
    try:
        loaded = yaml.safe_load(fs.read(REGISTRIES_YAML)) or {}
    except yaml.YAMLError:
        raise StartFailure(f"failed to load {REGISTRIES_YAML}") from None
    mirrors = loaded.get("mirrors") if isinstance(loaded, dict) else None
    found = []
    for name, mirror in (mirrors or {}).items():
        endpoints = (mirror or {}).get("endpoint") or [] if isinstance(mirror, dict) else []
        if any(str(e).startswith("http://") for e in endpoints):
            found.append(str(name))
    return tuple(found)


def kubelet_settings(fs: MemoryFS, version: str, kubelet_args: Sequence[str]) -> dict[str, int]:
    """maxPods and image GC thresholds: defaults, drop-in files, then flags (kubelet's order)."""
    settings = dict(KUBELET_DEFAULTS)
    match = _VERSION.fullmatch(version)
    if match and (int(match.group(1)), int(match.group(2))) >= KUBELET_DROPIN_SINCE:
        for path in fs.files_in(KUBELET_DROPIN_DIR):
            try:
                loaded = yaml.safe_load(fs.read(path))
            except yaml.YAMLError:
                raise StartFailure(f"failed to load kubelet config drop-in {path}") from None
            if isinstance(loaded, dict):
                settings.update({k: v for k, v in loaded.items() if k in settings})
    for arg in kubelet_args:
        flag, _, value = arg.partition("=")
        if flag in _KUBELET_FLAGS:
            try:
                settings[_KUBELET_FLAGS[flag]] = int(value)
            except ValueError:
                raise StartFailure(
                    f'invalid argument "{value}" for "--{flag}" flag: strconv.ParseInt: '
                    f'parsing "{value}": invalid syntax'
                ) from None
    return settings


class K3sService:
    """The k3s systemd unit: installed by the script, started at boot once enabled."""

    def __init__(
        self,
        *,
        fs: MemoryFS,
        journal: Journal,
        starter: K3sStarter,
        timings: NodeTimings,
        faults: NodeFaults,
        hostname: str,
        public_ip: str,
    ) -> None:
        self._fs = fs
        self._journal = journal
        self._starter = starter
        self._timings = timings
        self._faults = faults
        self._hostname = hostname
        self._public_ip = public_ip
        self.state = "inactive"
        self.version = ""
        self.exec_args: list[str] | None = None
        self.cluster: K3sCluster | None = None
        self.rotate_pending = False
        self._start_task: asyncio.Task[bool] | None = None
        self._restart_task: asyncio.Task[None] | None = None
        self._pid = 0

    @property
    def installed(self) -> bool:
        return self.exec_args is not None

    # -- K3sHost: what the upgrade Job's pod does to the host ---------------------
    @property
    def running(self) -> bool:
        return self.state == "active"

    def binary_version(self) -> str:
        found = self._fs.get(BINARY)
        text = found.content.decode(errors="replace") if found is not None else ""
        return text.removeprefix("k3s ").strip()

    def replace_binary(self, version: str) -> None:
        self._fs.write(BINARY, f"k3s {version}\n", mode=0o755)

    def terminate(self) -> None:
        """k3s exits on SIGTERM; systemd starts it again after RestartSec."""
        self._restart_task = asyncio.get_running_loop().create_task(self._killed())

    async def _killed(self) -> None:
        self._log("info", "Received SIGTERM, shutting down")
        await self.stop(signalled=True)
        await asyncio.sleep(self._timings.k3s_restart)
        self._journal.systemd(UNIT, "k3s.service: Scheduled restart job, restart counter is at 1.")
        self._journal.systemd(UNIT, "Stopped k3s.service - Lightweight Kubernetes.")
        await self.start()

    @property
    def commit(self) -> str:
        return commit_of(self.version)

    def _log(self, level: str, message: str) -> None:
        self._journal.log(UNIT, "k3s", self._pid, logrus(level, message))

    async def install(self, env: dict[str, str], args: Sequence[str], io: Output) -> int:
        """What ``sh install.sh`` (get.k3s.io) does, with its output."""
        version = env.get("INSTALL_K3S_VERSION") or DEFAULT_K3S_VERSION
        base = f"https://github.com/k3s-io/k3s/releases/download/{version}"
        io.out(f"[INFO]  Using {version} as release\n")
        io.out(f"[INFO]  Downloading hash {base}/sha256sum-amd64.txt\n")
        if not _VERSION.fullmatch(version):
            io.err("[ERROR]  Download failed\n")
            return 1
        io.out(f"[INFO]  Downloading binary {base}/k3s\n")
        io.out("[INFO]  Verifying binary download\n")
        io.out(f"[INFO]  Installing k3s to {BINARY}\n")
        self._fs.write(BINARY, f"k3s {version}\n", mode=0o755)
        io.out("[INFO]  Skipping installation of SELinux RPM\n")
        for link in ("kubectl", "crictl", "ctr"):
            io.out(f"[INFO]  Creating /usr/local/bin/{link} symlink to k3s\n")
        io.out("[INFO]  Creating killall script /usr/local/bin/k3s-killall.sh\n")
        io.out("[INFO]  Creating uninstall script /usr/local/bin/k3s-uninstall.sh\n")
        io.out(f"[INFO]  env: Creating environment file {ENV_FILE}\n")
        k3s_env = "".join(f"{k}={v}\n" for k, v in sorted(env.items()) if k.startswith("K3S_"))
        self._fs.write(ENV_FILE, k3s_env, mode=0o600)
        exec_text = env.get("INSTALL_K3S_EXEC", "")
        exec_args = shlex.split(exec_text) + list(args)
        if not exec_args or exec_args[0].startswith("-"):
            exec_args.insert(0, "agent" if env.get("K3S_URL") else "server")
        io.out(f"[INFO]  systemd: Creating service file {UNIT_FILE}\n")
        self._fs.write(UNIT_FILE, _unit_file(exec_args))
        io.out("[INFO]  systemd: Enabling k3s unit\n")
        io.err(
            "Created symlink /etc/systemd/system/multi-user.target.wants/k3s.service "
            f"\u2192 {UNIT_FILE}.\n"
        )
        self.version = version
        self.exec_args = exec_args
        io.out("[INFO]  systemd: Starting k3s\n")
        if not await self.restart():
            io.err(JOB_FAILED)
            return 1
        return 0

    async def start(self) -> bool:
        if self.state == "active":
            return True
        if self._start_task is None or self._start_task.done():
            self._start_task = asyncio.create_task(self._start())
        return await asyncio.shield(self._start_task)

    async def restart(self) -> bool:
        await self.stop()
        return await self.start()

    async def _start(self) -> bool:
        assert self.exec_args is not None
        self.state = "activating"
        self._pid = random.randint(1000, 65000)
        self._journal.systemd(UNIT, "Starting k3s.service - Lightweight Kubernetes...")
        self.version = self.binary_version() or self.version
        self._log("info", f"Starting k3s {self.version} ({self.commit})")
        try:
            flags = parse_server_args(self.exec_args)
            if self._faults.k3s_start_fails:
                raise StartFailure(
                    "starting kubernetes: preparing server: init cluster datastore and https: "
                    "listen tcp :6443: bind: address already in use"
                )
            kubelet = kubelet_settings(self._fs, self.version, flags.kubelet_args)
            await asyncio.sleep(self._timings.k3s_start + self._faults.k3s_start_delay)
            if self.cluster is None:
                self.cluster = await self._starter(
                    K3sParams(
                        node_name=flags.node_name or self._hostname,
                        public_ip=self._public_ip,
                        tls_sans=flags.tls_sans,
                        version=self.version,
                        max_pods=kubelet["maxPods"],
                        node_cidr_mask=flags.node_cidr_mask,
                        image_gc_high_percent=kubelet["imageGCHighThresholdPercent"],
                        image_gc_low_percent=kubelet["imageGCLowThresholdPercent"],
                        write_kubeconfig_mode=flags.kubeconfig_mode,
                        disabled=flags.disabled,
                        plain_http_registries=plain_http_registries(self._fs),
                        host=self,
                    )
                )
            else:
                await self.cluster.upgraded(self.version)
                if self.rotate_pending:
                    await self.cluster.rotate_certificates()
                await self.cluster.set_running(True)
        except StartFailure as exc:
            self._log("fatal", str(exc))
            self._journal.systemd(
                UNIT, "k3s.service: Main process exited, code=exited, status=1/FAILURE"
            )
            self._journal.systemd(UNIT, "k3s.service: Failed with result 'exit-code'.")
            self._journal.systemd(UNIT, "Failed to start k3s.service - Lightweight Kubernetes.")
            self.state = "failed"
            return False
        self.rotate_pending = False
        self._fs.write(K3S_YAML, self.cluster.kubeconfig_yaml, mode=int(flags.kubeconfig_mode, 8))
        self._log("info", f"Wrote kubeconfig {K3S_YAML}")
        self._log("info", "k3s is up and running")
        self._journal.systemd(UNIT, "Started k3s.service - Lightweight Kubernetes.")
        self.state = "active"
        return True

    async def stop(self, *, signalled: bool = False) -> None:
        """``systemctl stop`` (or, ``signalled``, the process ending on SIGTERM)."""
        if self._start_task is not None and not self._start_task.done():
            self._start_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._start_task
        current = asyncio.current_task()
        if self._restart_task is not None and self._restart_task is not current:
            self._restart_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._restart_task
            self._restart_task = None
        if self.state not in ("active", "activating"):
            return
        if not signalled:
            self._journal.systemd(UNIT, "Stopping k3s.service - Lightweight Kubernetes...")
        if self.cluster is not None:
            await self.cluster.set_running(False)
        self._journal.systemd(UNIT, "k3s.service: Deactivated successfully.")
        if not signalled:
            self._journal.systemd(UNIT, "Stopped k3s.service - Lightweight Kubernetes.")
        self.state = "inactive"

    def rotate_certificates(self, io: Output) -> int:
        """``k3s certificate rotate``: new certificates are issued when k3s next starts."""
        if self.cluster is None:
            io.err(logrus("fatal", f"stat {SERVER_DATA_DIR}/tls: no such file or directory") + "\n")
            return 1
        io.err(logrus("info", "Server detected, rotating agent and server certificates") + "\n")
        io.err(logrus("info", "Rotating dynamic listener certificate") + "\n")
        for service in ROTATABLE_SERVICES:
            io.err(logrus("info", f"Rotating certificates for {service}") + "\n")
        backup = f"{SERVER_DATA_DIR}/tls-{int(time.time())}"
        io.err(
            logrus(
                "info",
                f"Successfully backed up certificates to {backup}, please restart k3s server "
                "or agent to rotate certificates",
            )
            + "\n"
        )
        self.rotate_pending = True
        return 0

    async def prune_images(self, io: Output) -> int:
        """``k3s crictl rmi --prune``."""
        if self.state != "active" or self.cluster is None:
            io.err(
                logrus(
                    "fatal",
                    f'validate service connection: validate CRI v1 image API for endpoint \\"'
                    f'{CONTAINERD_SOCKET}\\": rpc error: code = Unavailable desc = connection '
                    'error: desc = \\"transport: Error while dialing: dial unix '
                    '/run/k3s/containerd/containerd.sock: connect: no such file or directory\\""',
                )
                + "\n"
            )
            return 1
        freed = await self.cluster.prune_images()
        if freed <= 0:
            io.err(logrus("info", "No images to remove") + "\n")
            return 0
        count = max(1, round(freed / TYPICAL_IMAGE_BYTES))
        for index in range(count):
            digest = hashlib.sha256(f"{self._hostname}/{time.time()}/{index}".encode()).hexdigest()
            io.out(f"Deleted: sha256:{digest}\n")
        return 0


def _unit_file(exec_args: Sequence[str]) -> str:
    args = "".join(f" \\\n        '{arg}'" for arg in exec_args)
    return (
        "[Unit]\nDescription=Lightweight Kubernetes\nDocumentation=https://k3s.io\n"
        "Wants=network-online.target\nAfter=network-online.target\n\n"
        "[Install]\nWantedBy=multi-user.target\n\n"
        "[Service]\nType=notify\nEnvironmentFile=-/etc/default/%N\n"
        "EnvironmentFile=-/etc/sysconfig/%N\nEnvironmentFile=-/etc/systemd/system/k3s.service.env\n"
        "KillMode=process\nDelegate=yes\nLimitNOFILE=1048576\nLimitNPROC=infinity\n"
        "LimitCORE=infinity\nTasksMax=infinity\nTimeoutStartSec=0\nRestart=always\n"
        "RestartSec=5s\nExecStartPre=-/sbin/modprobe br_netfilter\n"
        "ExecStartPre=-/sbin/modprobe overlay\n"
        f"ExecStart={BINARY}{args}\n"
    )
