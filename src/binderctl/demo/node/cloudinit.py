"""cloud-init on the simulated node: its stages, the user data it applies, its status.

Modelled on cloud-init 25.3 as Ubuntu 24.04 ships it. A user data that does not load
is a *recoverable* error (a WARNING: ``status: done``, ``extended_status: degraded
done``, exit code 2); a failing runcmd is an error (``status: error``, exit code 1).
Only the modules binderctl's template uses are simulated; other keys are ignored.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import gzip
import json
import shlex
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import yaml

from binderctl.demo.node.fs import MemoryFS
from binderctl.demo.node.streams import FileOutput, Output

VERSION = "25.3-0ubuntu1~24.04.1"
OUTPUT_LOG = "/var/log/cloud-init-output.log"
RUNCMD_SCRIPT = "/var/lib/cloud/instance/scripts/runcmd"
# Per-instance modules (write_files, runcmd) run only when this file is new.
INSTANCE_ID = "/var/lib/cloud/data/instance-id"
DATASOURCE = "DataSourceHetzner"
STAGES = ("init-local", "init", "modules-config", "modules-final")
_LOG_NAMES = {"modules-config": "modules:config", "modules-final": "modules:final"}
_RUNCMD_ERROR = (
    "('scripts_user', RuntimeError('Runparts: 1 failures (runcmd) in 1 attempted commands'))"
)

# Runs one runcmd line as /bin/sh would: (line, output, line number) -> exit status.
LineRunner = Callable[[str, Output, int], Awaitable[int]]


def _stamp(when: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))


def _log_time() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f",{int(now % 1 * 1000):03d}"


class CloudInit:
    """One boot's worth of cloud-init, plus what persists on disk between boots."""

    def __init__(self, fs: MemoryFS, user_data: str | None) -> None:
        self._fs = fs
        self.user_data = user_data
        self._booted_at = time.monotonic()
        self._v1: dict[str, dict[str, Any]] = {}
        self._stage: str | None = None
        self._datasource: str | None = None
        self._done = False
        self._changed = asyncio.Event()
        self._config: dict[str, Any] = {}
        self._first_boot = False

    # -- the run ---------------------------------------------------------------

    def power_on(self) -> None:
        """A boot starts: status.json is fresh, no stage has run yet."""
        self._booted_at = time.monotonic()
        self._v1 = {
            stage: {"errors": [], "finished": None, "recoverable_errors": {}, "start": None}
            for stage in STAGES
        }
        self._stage = None
        self._datasource = None
        self._done = False
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _log(self, text: str) -> None:
        self._fs.append(OUTPUT_LOG, text)

    def _warn(self, stage: str, module: str, message: str) -> None:
        self._log(f"{_log_time()} - {module}[WARNING]: {message}\n")
        self._v1[stage]["recoverable_errors"].setdefault("WARNING", []).append(message)

    def _begin(self, stage: str) -> None:
        self._stage = stage
        self._v1[stage]["start"] = time.time()
        uptime = time.monotonic() - self._booted_at
        name = _LOG_NAMES.get(stage, stage)
        self._log(
            f"Cloud-init v. {VERSION} running '{name}' at {_stamp(time.time())}. "
            f"Up {uptime:.2f} seconds.\n"
        )
        self._notify()

    def _finish(self, stage: str) -> None:
        self._v1[stage]["finished"] = time.time()
        self._stage = None
        self._notify()

    async def run_early(self, seconds: float) -> None:
        """init-local and init: the datasource, and on first boot the user data and files."""
        self._begin("init-local")
        await asyncio.sleep(seconds / 2)
        self._finish("init-local")
        self._begin("init")
        self._datasource = DATASOURCE
        self._first_boot = not self._fs.exists(INSTANCE_ID)
        if self._first_boot:
            self._fs.write(INSTANCE_ID, f"{uuid.uuid4().int % 10**8}\n")
            self._config = self._load_user_data()
            self._write_files(deferred=False)
        await asyncio.sleep(seconds / 2)
        self._finish("init")

    async def run_late(self, run_line: LineRunner) -> None:
        """modules:config and modules:final: packages, deferred files, runcmd."""
        self._begin("modules-config")
        self._finish("modules-config")
        self._begin("modules-final")
        if self._first_boot:
            self._packages()
            self._write_files(deferred=True)
            await self._runcmd(run_line)
        uptime = time.monotonic() - self._booted_at
        self._log(
            f"Cloud-init v. {VERSION} finished at {_stamp(time.time())}. Datasource "
            f"{DATASOURCE}.  Up {uptime:.2f} seconds\n"
        )
        self._finish("modules-final")
        self._done = True
        self._notify()

    def _load_user_data(self) -> dict[str, Any]:
        text = self.user_data or ""
        if not text.strip():
            return {}
        if not text.startswith("#cloud-config"):
            shown = text[:40].encode()
            self._warn(
                "init",
                "__init__.py",
                f"Unhandled non-multipart (text/x-not-multipart) userdata: '{shown!r}...'",
            )
            return {}
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            message = "Failed loading yaml blob"
            mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
            if mark is not None:
                message += (
                    f'. Invalid format at line {mark.line + 1} column {mark.column + 1}: "{exc}"'
                )
            self._warn("init", "util.py", message)
            self._warn(
                "init", "cloud_config.py", "Failed at merging in cloud config part from part-001"
            )
            return {}
        if loaded is None:
            return {}
        if not isinstance(loaded, dict):
            self._warn(
                "init",
                "util.py",
                "Failed loading yaml blob. Yaml load allows (<class 'dict'>,) root types, "
                f"but got {type(loaded).__name__} instead",
            )
            return {}
        return loaded

    def _write_files(self, *, deferred: bool) -> None:
        entries = self._config.get("write_files") or []
        stage = "modules-final" if deferred else "init"
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict) or bool(entry.get("defer")) != deferred:
                continue
            path = entry.get("path")
            if not path:
                self._warn(
                    stage,
                    "cc_write_files.py",
                    f"No path provided to write for entry {index + 1} in module write_files",
                )
                continue
            try:
                content = _decode(
                    entry.get("content", ""), str(entry.get("encoding", "text/plain"))
                )
                mode = _permissions(entry.get("permissions", "0644"))
            except ValueError as exc:
                self._warn(stage, "cc_write_files.py", f"{path}: {exc}")
                continue
            owner, _, group = str(entry.get("owner", "root:root")).partition(":")
            self._fs.write(
                path,
                content,
                mode=mode,
                owner=owner,
                group=group or owner,
                append=bool(entry.get("append")),
            )

    def _packages(self) -> None:
        if self._config.get("package_update") or self._config.get("packages"):
            self._log(
                "Hit:1 http://mirror.hetzner.com/ubuntu/packages noble InRelease\n"
                "Hit:2 http://mirror.hetzner.com/ubuntu/packages noble-updates InRelease\n"
                "Hit:3 http://mirror.hetzner.com/ubuntu/security noble-security InRelease\n"
                "Reading package lists...\n"
            )
        packages = self._config.get("packages") or []
        if packages:
            self._log(
                "Reading package lists...\nBuilding dependency tree...\n"
                "Reading state information...\n"
            )
            for package in packages:
                self._log(f"{package} is already the newest version.\n")
            self._log("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")

    async def _runcmd(self, run_line: LineRunner) -> None:
        commands = self._config.get("runcmd") or []
        if not isinstance(commands, list):
            self._warn(
                "modules-final",
                "cc_runcmd.py",
                "Invalid cloud-config provided: runcmd is not a list",
            )
            return
        lines = [shlex.join(map(str, c)) if isinstance(c, list) else str(c) for c in commands]
        if not lines:
            return
        self._fs.write(
            RUNCMD_SCRIPT, "#!/bin/sh\n" + "".join(f"{line}\n" for line in lines), mode=0o700
        )
        output = FileOutput(self._fs, OUTPUT_LOG)
        status = 0
        for number, line in enumerate(lines, start=2):
            status = await run_line(line, output, number)
        if status != 0:
            self._log(
                f"{_log_time()} - cc_scripts_user.py[WARNING]: Failed to run module scripts_user "
                "(scripts in /var/lib/cloud/instance/scripts)\n"
                f"{_log_time()} - log_util.py[WARNING]: Running module scripts_user (<module "
                "'cloudinit.config.cc_scripts_user' from '/usr/lib/python3/dist-packages/"
                "cloudinit/config/cc_scripts_user.py'>) failed\n"
            )
            self._v1["modules-final"]["errors"].append(_RUNCMD_ERROR)

    # -- `cloud-init status` ---------------------------------------------------

    @property
    def done(self) -> bool:
        return self._done

    async def wait_changed(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def details(self) -> dict[str, Any]:
        """What ``cloud-init status --format json`` prints, as a dict."""
        errors: list[str] = []
        recoverable: dict[str, list[str]] = {}
        for _, info in sorted(self._v1.items()):
            errors.extend(info["errors"])
            for level, messages in info["recoverable_errors"].items():
                recoverable.setdefault(level, []).extend(messages)
        running = "done" if self._done else "running"
        if errors:
            status, extended = "error", f"error - {running}"
        elif recoverable:
            status, extended = running, f"degraded {running}"
        else:
            status, extended = running, running
        if self._datasource:
            detail = self._datasource
        elif self._stage:
            detail = f"Running in stage: {self._stage}"
        else:
            detail = "Cloud-init enabled by systemd cloud-init-generator"
        latest = max(
            (t for info in self._v1.values() for t in (info["start"], info["finished"]) if t),
            default=0.0,
        )
        return {
            "boot_status_code": "enabled-by-generator",
            "datasource": (self._datasource or "").lower().replace("datasource", ""),
            "detail": detail,
            "errors": errors,
            "extended_status": extended,
            "last_update": _stamp(latest) if latest else "",
            "recoverable_errors": recoverable,
            "status": status,
            "stage": self._stage,
            **{stage: dict(info) for stage, info in self._v1.items()},
        }

    def render_status(self, fmt: str, long: bool, waited: bool) -> tuple[str, int]:
        details = self.details()
        code = 1 if details["errors"] else 2 if details["recoverable_errors"] else 0
        if fmt == "json":
            return json.dumps(
                details, indent=2, sort_keys=True, separators=(",", ": ")
            ) + "\n", code
        if fmt == "yaml":
            return yaml.safe_dump(details, default_flow_style=False) + "\n", code
        text = ("\n" if waited else "") + f"status: {details['status']}\n"
        if long:
            errors = (
                "".join(f"\n\t- {e}" for e in details["errors"]) if details["errors"] else " []"
            )
            recoverable = (
                "\n"
                + "\n".join(
                    f"{level}:\n\t- " + "\n\t- ".join(m.replace("\n", " ") for m in messages)
                    for level, messages in details["recoverable_errors"].items()
                )
                if details["recoverable_errors"]
                else " {}"
            )
            last_update = (
                f"last_update: {details['last_update']}\n" if details["last_update"] else ""
            )
            text += (
                f"extended_status: {details['extended_status']}\n"
                f"boot_status_code: {details['boot_status_code']}\n"
                f"{last_update}detail: {details['detail']}\n"
                f"errors:{errors}\nrecoverable_errors:{recoverable}\n"
            )
        return text, code


def _decode(content: Any, encoding: str) -> bytes:
    raw = content if isinstance(content, bytes) else str(content).encode()
    kind = encoding.lower()
    try:
        if kind in ("b64", "base64", "gz+b64", "gz+base64", "gzip+b64", "gzip+base64"):
            raw = base64.b64decode(raw, validate=True)
        if kind.startswith(("gz", "gzip")):
            raw = gzip.decompress(raw)
    except (binascii.Error, OSError) as exc:
        raise ValueError(f"cannot decode content as {encoding}: {exc}") from None
    return raw


def _permissions(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"invalid permissions {value!r}")
    if isinstance(value, int | float):
        return int(value)
    try:
        return int(str(value), 8)
    except ValueError:
        raise ValueError(f"invalid permissions {value!r}") from None
