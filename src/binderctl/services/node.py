"""SSH to the member's node (asyncssh): readiness, kubeconfig, disk, images, certificates.

``NodeClient`` is the asyncio API; ``Node`` wraps it for threads (each call runs in an
event loop of its own), which is how the pipeline and the TUI's workers call it.
Root logs in with the member's key; an encrypted key is used through ssh-agent. The
server's host key is pinned on first contact in the member's data dir ``known_hosts``
and a different key is refused until the operator forgets the old one deliberately.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import hashlib
import json
import os
import shlex
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncssh
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError, ConfigError
from binderctl.formatting import inert
from binderctl.paths import member_dir, write_private
from binderctl.services.kube import kubeconfig_path

KNOWN_HOSTS = "known_hosts"
REMOTE_KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
CLOUD_INIT_LOG = "/var/log/cloud-init-output.log"
BOOT_ID = "/proc/sys/kernel/random/boot_id"
K3S_DATA = "/var/lib/rancher"
DEFAULT_API_PORT = 6443
LOG_LINES = 20
LOG_LINE_CHARS = 400
USER = "root"
FIRST_POLL = 0.1  # seconds before the first retry of a wait; grows up to poll_interval
POLL_GROWTH = 1.5
# Less time than this left is no use for one more attempt; its timeout would only hide
# why the earlier ones failed.
LAST_ATTEMPT = 0.05
# The command that drops a pinned host key (commands/node_cmd.py); named in HostKeyChanged.
FORGET_COMMAND = "binderctl node forget-host-key"

T = TypeVar("T")


class NodeUnreachable(BinderctlError):
    """No SSH session could be had (refused, reset, timed out); worth trying again."""


class HostKeyChanged(BinderctlError):
    """The server presented a host key other than the pinned one."""


class NodeAuthError(BinderctlError):
    """The server refused the key."""


class CommandTimeout(BinderctlError):
    """A command on the node ran longer than allowed."""


@dataclass(frozen=True)
class SshKey:
    path: Path
    public_key: str  # the OpenSSH public key line, as registered with Hetzner
    fingerprint: str  # SHA256:...
    encrypted: bool


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_status: int
    stdout: str = field(repr=False)  # may be a credential (k3s.yaml)
    stderr: str = field(repr=False)


@dataclass(frozen=True)
class Kubeconfig:
    path: Path
    expires: datetime.datetime  # the client certificate's notAfter, UTC
    certificate_sha256: str


@dataclass(frozen=True)
class DiskUsage:
    mount: str
    total: int
    used: int
    available: int


@dataclass(frozen=True)
class PruneResult:
    images_removed: int
    bytes_freed: int
    disk: DiskUsage


# -- the operator's key -----------------------------------------------------------------


def _private_key(path: Path) -> tuple[asyncssh.SSHKey | None, bool]:
    """The key (None when encrypted) and whether it is encrypted; ConfigError otherwise."""
    if path.is_dir():
        raise ConfigError(f"the SSH key {path} is a directory, not a private key file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"the SSH private key {path} does not exist",
            hint=f"create one with `ssh-keygen -t ed25519 -f {path}` or set ssh_key in the config",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the SSH private key {path}: {exc.strerror}",
            hint="check the file's owner and permissions (ssh-keygen makes it 0600)",
        ) from None
    try:
        return asyncssh.import_private_key(data), False
    except asyncssh.KeyImportError:
        pass
    try:
        asyncssh.import_private_key(data, passphrase="-")
    except asyncssh.KeyEncryptionError:
        return None, True
    except asyncssh.KeyImportError:
        pass
    raise ConfigError(
        f"{path} is not a private key binderctl can use",
        hint="expected an OpenSSH or PEM private key (ed25519, RSA or ECDSA)",
    )


def _key_pair(member: MemberConfig) -> tuple[SshKey, asyncssh.SSHKey | None]:
    """The member's key described, and the private key itself unless it is encrypted."""
    path = member.ssh_key_path
    key, encrypted = _private_key(path)
    pub_path = Path(f"{path}.pub")
    try:
        text = pub_path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the SSH public key {pub_path}: {exc}") from None
    if text:
        try:
            public = asyncssh.import_public_key(text)
        except asyncssh.KeyImportError:
            raise ConfigError(f"{pub_path} is not an OpenSSH public key") from None
        if key is not None and public.public_data != key.public_data:
            raise ConfigError(
                f"{pub_path} does not belong to the private key {path}",
                hint=f"write the matching one with `ssh-keygen -y -f {path} > {pub_path}`",
            )
    elif key is not None:
        public = key.convert_to_public()
        text = public.export_public_key().decode().strip()
    else:
        raise ConfigError(
            f"the SSH key {path} is encrypted and its public key {pub_path} is missing",
            hint=f"write it with `ssh-keygen -y -f {path} > {pub_path}` (asks the passphrase once)",
        )
    return SshKey(path, text, public.get_fingerprint("sha256"), encrypted), key


def check_ssh_key(member: MemberConfig) -> SshKey:
    """Check the member's key pair before anything is created or contacted."""
    return _key_pair(member)[0]


# -- known_hosts ------------------------------------------------------------------------


def known_hosts_path(member: MemberConfig) -> Path:
    return member_dir("data", member.name) / KNOWN_HOSTS


def _host_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def _known_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _matches(line: str, pattern: str) -> bool:
    fields = line.split()
    return len(fields) >= 3 and not line.startswith(("#", "@")) and pattern in fields[0].split(",")


def pinned_host_keys(member: MemberConfig, host: str) -> list[asyncssh.SSHKey]:
    pattern = _host_pattern(host, member.ssh_port)
    keys = []
    for line in _known_lines(known_hosts_path(member)):
        if _matches(line, pattern):
            with contextlib.suppress(asyncssh.KeyImportError):
                keys.append(asyncssh.import_public_key(" ".join(line.split()[1:3])))
    return keys


def _replace_host_key(member: MemberConfig, host: str, key: asyncssh.SSHKey | None) -> bool:
    """Drop the lines of ``host`` and add ``key`` for it; whether any line was dropped."""
    path = known_hosts_path(member)
    pattern = _host_pattern(host, member.ssh_port)
    lines = _known_lines(path)
    kept = [line for line in lines if not _matches(line, pattern)]
    dropped = len(kept) < len(lines)
    if key is not None:
        algorithm, data = key.export_public_key().decode().split()[:2]
        kept.append(f"{pattern} {algorithm} {data}")
    if kept != lines:
        write_private(path, "".join(f"{line}\n" for line in kept))
    return dropped


def pinned_hosts(member: MemberConfig) -> list[str]:
    """The hosts (at the member's SSH port) whose keys are pinned, in file order."""
    hosts: list[str] = []
    for line in _known_lines(known_hosts_path(member)):
        if line.startswith(("#", "@")) or len(line.split()) < 3:
            continue
        for pattern in line.split()[0].split(","):
            host, sep, port = pattern.removeprefix("[").rpartition("]:")
            if not sep:
                host, port = pattern, "22"
            if port == str(member.ssh_port) and host not in hosts:
                hosts.append(host)
    return hosts


def forget_host_key(member: MemberConfig, host: str) -> bool:
    """Drop the pinned host key of ``host`` (a server rebuilt on purpose); True if one was."""
    return _replace_host_key(member, host, None)


class _HostKeyCheck(asyncssh.SSHClient):
    """Called only for a key that is not pinned: trust on first use, or when told to."""

    def __init__(self, pinned: bool, accept_new: bool) -> None:
        self._pinned = pinned
        self._accept_new = accept_new
        self.offered: asyncssh.SSHKey | None = None

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        self.offered = key
        return not self._pinned or self._accept_new


# -- the kubeconfig ---------------------------------------------------------------------


def rewrite_kubeconfig(text: str, name: str, host: str) -> tuple[str, x509.Certificate]:
    """k3s.yaml pointed at ``host`` (same port) with cluster, user and context named ``name``.

    Error messages never quote the content: it holds the client key.
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        raise BinderctlError(f"{REMOTE_KUBECONFIG} on the node is not valid YAML") from None
    try:
        cluster, user = doc["clusters"][0], doc["users"][0]
        port = urlsplit(cluster["cluster"]["server"]).port or DEFAULT_API_PORT
        cert_data = base64.b64decode(user["user"]["client-certificate-data"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise BinderctlError(
            f"{REMOTE_KUBECONFIG} on the node lacks a cluster with a server URL or a user "
            "with a client certificate"
        ) from None
    try:
        certificate = x509.load_pem_x509_certificate(cert_data)
    except ValueError:
        raise BinderctlError(
            f"the client certificate in {REMOTE_KUBECONFIG} cannot be read"
        ) from None
    address = f"[{host}]" if ":" in host else host
    cluster["cluster"]["server"] = f"https://{address}:{port}"
    cluster["name"] = user["name"] = name
    doc["clusters"], doc["users"] = [cluster], [user]
    doc["contexts"] = [{"name": name, "context": {"cluster": name, "user": name}}]
    doc["current-context"] = name
    return yaml.safe_dump(doc, default_flow_style=False, sort_keys=False), certificate


def parse_df(text: str) -> DiskUsage:
    """The data line of ``df -B1 --output=size,used,avail,target``."""
    lines = text.strip().splitlines()
    fields = lines[-1].split(maxsplit=3) if len(lines) >= 2 else []
    if len(fields) != 4 or not all(f.isdigit() for f in fields[:3]):
        raise BinderctlError(f"unexpected output from df on the node: {inert(text, 120)!r}")
    return DiskUsage(fields[3], int(fields[0]), int(fields[1]), int(fields[2]))


def _reason(exc: BaseException) -> str:
    return inert(str(exc)) or type(exc).__name__


def _tail(text: str) -> str:
    lines = [inert(line, LOG_LINE_CHARS) for line in text.splitlines()[-LOG_LINES:]]
    return "\n".join(f"  | {line}" for line in lines) if lines else "  | (empty)"


# -- the client -------------------------------------------------------------------------


class NodeClient:
    """Commands over SSH to ``host`` as root, one connection per operation."""

    def __init__(
        self,
        member: MemberConfig,
        host: str,
        *,
        agent_path: str | None = None,
        accept_new_host_key: bool = False,
        connect_timeout: float = 15.0,
        poll_interval: float = 2.0,
    ) -> None:
        self.member = member
        self.host = host
        self.port = member.ssh_port
        self.agent_path = agent_path if agent_path is not None else os.environ.get("SSH_AUTH_SOCK")
        self.accept_new_host_key = accept_new_host_key
        self.connect_timeout = connect_timeout
        self.poll_interval = poll_interval
        self._loaded: tuple[SshKey, asyncssh.SSHKey | None] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # -- connecting -------------------------------------------------------------------

    def _key_pair(self) -> tuple[SshKey, asyncssh.SSHKey | None]:
        if self._loaded is None:
            self._loaded = _key_pair(self.member)
        return self._loaded

    @property
    def key(self) -> SshKey:
        """The member's key, checked (and read) on first use."""
        return self._key_pair()[0]

    @contextlib.asynccontextmanager
    async def _client_keys(self) -> AsyncIterator[Sequence[asyncssh.SSHKey | asyncssh.SSHKeyPair]]:
        key, private = self._key_pair()
        if private is not None:
            yield [private]
            return
        hint = f"add it to your agent with `ssh-add {key.path}`"
        if not self.agent_path:
            raise ConfigError(
                f"the SSH key {key.path} is encrypted and no ssh-agent is running "
                "(SSH_AUTH_SOCK is not set)",
                hint=f"start one with `eval $(ssh-agent)`, then {hint}",
            )
        try:
            agent = await asyncssh.connect_agent(self.agent_path)
            agent_keys = await agent.get_keys()
        except (OSError, asyncssh.Error) as exc:
            raise ConfigError(
                f"cannot reach ssh-agent at {self.agent_path}: {exc}",
                hint="check SSH_AUTH_SOCK points at a running agent",
            ) from None
        try:
            wanted = asyncssh.import_public_key(key.public_key).public_data
            held = [k for k in agent_keys if k.public_data == wanted]
            if not held:
                raise ConfigError(
                    f"the SSH key {key.path} is encrypted and ssh-agent does not hold it",
                    hint=hint,
                )
            yield held
        finally:
            agent.close()
            await agent.wait_closed()

    @contextlib.asynccontextmanager
    async def connect(
        self, timeout: float | None = None
    ) -> AsyncIterator[asyncssh.SSHClientConnection]:
        """An SSH session as root, host key checked (and pinned on first contact)."""
        limit = timeout or self.connect_timeout
        pinned = pinned_host_keys(self.member, self.host)
        check = _HostKeyCheck(bool(pinned), self.accept_new_host_key)
        async with self._client_keys() as keys:
            try:
                conn = await asyncio.wait_for(
                    asyncssh.connect(
                        self.host,
                        self.port,
                        username=USER,
                        client_keys=keys,
                        known_hosts=([] if self.accept_new_host_key else pinned, [], []),
                        client_factory=lambda: check,
                        config=[],
                        agent_path=None,
                        preferred_auth=["publickey"],
                        connect_timeout=limit,
                        login_timeout=limit,
                    ),
                    limit,
                )
            except asyncssh.HostKeyNotVerifiable:
                raise self._host_key_changed(pinned, check.offered) from None
            except asyncssh.KeyExchangeFailed as exc:
                if pinned and not self.accept_new_host_key and "host key" in str(exc):
                    raise self._host_key_changed(pinned, None) from None
                raise NodeUnreachable(
                    f"SSH connection to {self.address} failed: {_reason(exc)}"
                ) from None
            except asyncssh.PermissionDenied:
                raise NodeAuthError(
                    f"the server {self.address} does not accept key {self.key.path} "
                    f"({self.key.fingerprint}) for {USER}",
                    hint="the server must have been created with this key's public half; "
                    "check ssh_key in the config",
                ) from None
            except TimeoutError:
                raise NodeUnreachable(
                    f"no SSH answer from {self.address} within {limit:g}s"
                ) from None
            except ConnectionRefusedError:
                raise NodeUnreachable(f"SSH connection to {self.address} refused") from None
            except (OSError, asyncssh.Error) as exc:
                raise NodeUnreachable(
                    f"SSH connection to {self.address} failed: {_reason(exc)}"
                ) from None
        if check.offered is not None:
            _replace_host_key(self.member, self.host, check.offered)
        async with conn:
            yield conn

    def _host_key_changed(
        self, pinned: Sequence[asyncssh.SSHKey], offered: asyncssh.SSHKey | None
    ) -> HostKeyChanged:
        was = ", ".join(k.get_fingerprint("sha256") for k in pinned) or "none"
        now = offered.get_fingerprint("sha256") if offered else "a key of another type"
        return HostKeyChanged(
            f"the SSH host key of {self.address} has changed (pinned {was}, offered {now}); "
            "refusing to connect: a rebuilt server looks like this, and so does an attacker "
            "in the middle",
            hint=f"if the server was rebuilt or replaced on purpose, forget the old key with "
            f"`{FORGET_COMMAND} --member {self.member.name}` and try again; the pinned keys "
            f"are in {known_hosts_path(self.member)}",
        )

    async def _exec(
        self,
        conn: asyncssh.SSHClientConnection,
        command: str,
        *,
        check: bool = True,
        timeout: float = 60.0,
    ) -> CommandResult:
        try:
            done = await asyncio.wait_for(conn.run(command, check=False), timeout)
        except TimeoutError:
            raise CommandTimeout(
                f"`{command}` on {self.host} did not finish within {timeout:g}s"
            ) from None
        except (OSError, asyncssh.Error) as exc:
            raise NodeUnreachable(
                f"the SSH connection to {self.address} was lost during `{command}`: {_reason(exc)}"
            ) from None
        if done.exit_status is None and done.exit_signal is None:  # the channel just closed
            raise NodeUnreachable(
                f"the SSH connection to {self.address} was lost during `{command}`"
            )
        result = CommandResult(
            command,
            done.exit_status if done.exit_status is not None else -1,
            str(done.stdout or ""),
            str(done.stderr or ""),
        )
        if check and result.exit_status != 0:
            reason = inert(result.stderr.strip().splitlines()[-1]) if result.stderr.strip() else ""
            raise BinderctlError(
                f"`{command}` failed on {self.host} (exit {result.exit_status})"
                + (f": {reason}" if reason else "")
            )
        return result

    async def run(
        self, command: str, *, check: bool = True, timeout: float = 60.0
    ) -> CommandResult:
        async with self.connect() as conn:
            return await self._exec(conn, command, check=check, timeout=timeout)

    async def _until(
        self, timeout: float, attempt: Callable[[float], Awaitable[T | None]]
    ) -> T | None:
        """Call ``attempt(seconds left)`` until it returns a value, across dropped
        connections, or return None at the deadline."""
        deadline = time.monotonic() + timeout
        pause = min(FIRST_POLL, self.poll_interval)
        while (remaining := deadline - time.monotonic()) > LAST_ATTEMPT:
            with contextlib.suppress(NodeUnreachable):
                result = await attempt(remaining)
                if result is not None:
                    return result
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * POLL_GROWTH, self.poll_interval)
        return None

    async def _log_tail(self, command: str) -> str:
        try:
            result = await self.run(command, check=False, timeout=self.connect_timeout)
        except BinderctlError as exc:
            return f"  | (could not read it: {exc.message})"
        return _tail(result.stdout + result.stderr)

    # -- readiness --------------------------------------------------------------------

    async def wait_for_ssh(self, timeout: float) -> str:
        """Wait until root can log in; the server's host key fingerprint."""
        last = "nothing answered"

        async def attempt(remaining: float) -> str | None:
            nonlocal last
            try:
                async with self.connect(min(remaining, self.connect_timeout)) as conn:
                    key = conn.get_server_host_key()
                    return key.get_fingerprint("sha256") if key else "unknown"
            except NodeUnreachable as exc:
                last = exc.message
                raise

        fingerprint = await self._until(timeout, attempt)
        if fingerprint is None:
            raise NodeUnreachable(
                f"SSH on {self.address} did not become reachable within {timeout:g}s "
                f"(last: {last})",
                hint="the server may still be booting; check that the firewall lets your "
                f"address reach port {self.port}",
            )
        return fingerprint

    async def wait_for_cloud_init(self, timeout: float) -> str:
        """Wait until cloud-init is done; its extended status. Errors and warnings fail."""

        async def attempt(remaining: float) -> dict[str, Any] | None:
            async with self.connect(min(remaining, self.connect_timeout)) as conn:
                try:
                    result = await self._exec(
                        conn,
                        "cloud-init status --wait --format json",
                        check=False,
                        timeout=remaining,
                    )
                except CommandTimeout:
                    return None
            try:
                details = json.loads(result.stdout)
                status = details["status"]
            except (ValueError, KeyError, TypeError):
                raise BinderctlError(
                    f"`cloud-init status` on {self.host} gave no status: "
                    f"{inert(result.stderr.strip() or result.stdout.strip(), 160)!r}"
                ) from None
            return None if status in ("running", "not started") else details

        details = await self._until(timeout, attempt)
        if details is None:
            raise BinderctlError(
                f"cloud-init on {self.host} did not finish within {timeout:g}s; the last "
                f"lines of {CLOUD_INIT_LOG}:\n{await self._cloud_init_log()}"
            )
        problems = [str(e) for e in details.get("errors") or []]
        for level, messages in (details.get("recoverable_errors") or {}).items():
            problems += [f"{level}: {m}" for m in messages]
        if details["status"] == "done" and not problems:
            return str(details.get("extended_status", "done"))
        listed = "\n".join(f"  - {inert(p)}" for p in problems) or "  - (none reported)"
        raise BinderctlError(
            f"cloud-init on {self.host} ended {details.get('extended_status', details['status'])}:"
            f"\n{listed}\nthe last lines of {CLOUD_INIT_LOG}:\n{await self._cloud_init_log()}",
            hint="the user data did not apply cleanly: fix the cause, then rebuild the server",
        )

    async def _cloud_init_log(self) -> str:
        return await self._log_tail(f"tail -n {LOG_LINES} {CLOUD_INIT_LOG}")

    async def _k3s_journal(self) -> str:
        return await self._log_tail(f"journalctl -u k3s -n {LOG_LINES} --no-pager")

    async def _k3s_state(self, conn: asyncssh.SSHClientConnection) -> str:
        result = await self._exec(conn, "systemctl is-active k3s", check=False)
        return result.stdout.strip() or "unknown"

    async def wait_for_k3s(self, timeout: float) -> None:
        """Wait until the k3s unit is active; a failed unit or the deadline fails."""
        seen = "unknown"

        async def attempt(remaining: float) -> str | None:
            nonlocal seen
            async with self.connect(min(remaining, self.connect_timeout)) as conn:
                seen = await self._k3s_state(conn)
            return seen if seen in ("active", "failed") else None

        state = await self._until(timeout, attempt)
        if state == "active":
            return
        outcome = "failed" if state == "failed" else f"is {seen} after {timeout:g}s"
        raise BinderctlError(
            f"k3s on {self.host} {outcome}; the last lines of its journal:\n"
            f"{await self._k3s_journal()}"
        )

    # -- the kubeconfig ---------------------------------------------------------------

    async def fetch_kubeconfig(self) -> Kubeconfig:
        """Store k3s.yaml, pointed at the public IP and renamed, in the member's data dir."""
        result = await self.run(f"cat {REMOTE_KUBECONFIG}", check=False)
        if result.exit_status != 0:
            raise BinderctlError(
                f"cannot read {REMOTE_KUBECONFIG} on {self.host}: "
                f"{inert(result.stderr.strip(), 160) or f'exit {result.exit_status}'}",
                hint="k3s writes it when it starts; wait for k3s first",
            )
        text, certificate = rewrite_kubeconfig(result.stdout, self.member.name, self.host)
        path = kubeconfig_path(self.member.name)
        write_private(path, text)
        der = certificate.public_bytes(serialization.Encoding.DER)
        return Kubeconfig(path, certificate.not_valid_after_utc, hashlib.sha256(der).hexdigest())

    # -- operations -------------------------------------------------------------------

    async def _disk(self, conn: asyncssh.SSHClientConnection) -> DiskUsage:
        result = await self._exec(conn, f"df -B1 --output=size,used,avail,target {K3S_DATA}")
        return parse_df(result.stdout)

    async def disk_usage(self) -> DiskUsage:
        """The filesystem that holds k3s's images and volumes."""
        async with self.connect() as conn:
            return await self._disk(conn)

    async def prune_images(self, timeout: float = 600.0) -> PruneResult:
        """``k3s crictl rmi --prune``: unused images removed, bytes freed (from df)."""
        async with self.connect() as conn:
            before = await self._disk(conn)
            result = await self._exec(conn, "k3s crictl rmi --prune", timeout=timeout)
            after = await self._disk(conn)
        removed = sum(1 for line in result.stdout.splitlines() if line.startswith("Deleted: "))
        return PruneResult(removed, max(0, before.used - after.used), after)

    async def rotate_certificates(self, timeout: float = 300.0) -> Kubeconfig:
        """Stop k3s, rotate its certificates, start it, and fetch the new kubeconfig."""
        async with self.connect() as conn:
            await self._exec(conn, "systemctl stop k3s", timeout=timeout)
            await self._exec(conn, "k3s certificate rotate", timeout=timeout)
            started = await self._exec(conn, "systemctl start k3s", check=False, timeout=timeout)
        if started.exit_status != 0:
            raise BinderctlError(
                f"k3s on {self.host} did not start again after rotating its certificates; "
                f"the last lines of its journal:\n{await self._k3s_journal()}"
            )
        await self.wait_for_k3s(timeout)
        return await self.fetch_kubeconfig()

    async def reboot(self, timeout: float = 600.0) -> None:
        """Reboot and wait until the node is back (a new boot) with k3s active."""
        async with self.connect() as conn:
            boot = (await self._exec(conn, f"cat {BOOT_ID}")).stdout.strip()
            with contextlib.suppress(NodeUnreachable, CommandTimeout):
                await self._exec(conn, "reboot", check=False, timeout=self.connect_timeout)
        deadline = time.monotonic() + timeout

        async def rebooted(remaining: float) -> str | None:
            async with self.connect(min(remaining, self.connect_timeout)) as conn:
                now = (await self._exec(conn, f"cat {BOOT_ID}", check=False)).stdout.strip()
            return now if now and now != boot else None

        if await self._until(timeout, rebooted) is None:
            raise NodeUnreachable(f"{self.host} did not come back within {timeout:g}s of `reboot`")
        await self.wait_for_cloud_init(max(1.0, deadline - time.monotonic()))
        await self.wait_for_k3s(max(1.0, deadline - time.monotonic()))

    async def sysctl(self, names: Sequence[str]) -> dict[str, str]:
        """Kernel parameters as the node has them now."""
        result = await self.run("sysctl " + " ".join(shlex.quote(n) for n in names))
        values = {}
        for line in result.stdout.splitlines():
            key, sep, value = line.partition(" = ")
            if sep:
                values[key] = value
        return values


class Node:
    """``NodeClient`` for threads: each call runs in an event loop of its own."""

    def __init__(self, member: MemberConfig, host: str, **options: Any) -> None:
        self.client = NodeClient(member, host, **options)

    def run(self, command: str, *, check: bool = True, timeout: float = 60.0) -> CommandResult:
        return asyncio.run(self.client.run(command, check=check, timeout=timeout))

    def wait_for_ssh(self, timeout: float) -> str:
        return asyncio.run(self.client.wait_for_ssh(timeout))

    def wait_for_cloud_init(self, timeout: float) -> str:
        return asyncio.run(self.client.wait_for_cloud_init(timeout))

    def wait_for_k3s(self, timeout: float) -> None:
        asyncio.run(self.client.wait_for_k3s(timeout))

    def fetch_kubeconfig(self) -> Kubeconfig:
        return asyncio.run(self.client.fetch_kubeconfig())

    def disk_usage(self) -> DiskUsage:
        return asyncio.run(self.client.disk_usage())

    def prune_images(self, timeout: float = 600.0) -> PruneResult:
        return asyncio.run(self.client.prune_images(timeout))

    def rotate_certificates(self, timeout: float = 300.0) -> Kubeconfig:
        return asyncio.run(self.client.rotate_certificates(timeout))

    def reboot(self, timeout: float = 600.0) -> None:
        asyncio.run(self.client.reboot(timeout))

    def sysctl(self, names: Sequence[str]) -> dict[str, str]:
        return asyncio.run(self.client.sysctl(names))
