"""The provisioning pipeline: named steps run in order, each one check, act, verify.

Progress goes to a callback as ``ProgressEvent``s. After every step the outcome is
recorded in the member's state dir (``provision.json``, 0600, no secrets), so an
interrupted run resumes: a step recorded as done is only verified (read-only) and is
run again only if what it did no longer holds.

The step list is ``STEPS``; later stages (SSH, k3s, kubeconfig, charts, rollout, health)
join by appending ``Step`` objects to it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError, ConfigError
from binderctl.parsing import ssh_fingerprint
from binderctl.paths import member_dir, write_private
from binderctl.services.cloudinit import render_cloud_init
from binderctl.services.hetzner import Ensured, Found, HetznerService, PlanItem, dns_records

STATE_FILE = "provision.json"
# Stands in for the server's IPv4 when sizing the cloud-init user data in a plan.
PLACEHOLDER_IPV4 = "203.0.113.255"
StepState = Literal["pending", "running", "done", "skipped", "failed"]


@dataclass(frozen=True)
class ProgressEvent:
    step: str
    title: str
    state: StepState
    message: str = ""
    elapsed: float = 0.0


@dataclass(frozen=True)
class StepResult:
    message: str
    data: dict[str, Any] = field(default_factory=dict)  # ids and addresses for later steps


class Run:
    """What the steps of one run share: the member, its services, earlier results."""

    def __init__(self, member: MemberConfig, hetzner: HetznerService) -> None:
        self.member = member
        self.hetzner = hetzner
        self.results: dict[str, StepResult] = {}

    def value(self, step: str, key: str) -> Any:
        return self.results[step].data[key]


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    run: Callable[[Run], StepResult]  # check, act, verify; safe to repeat
    verify: Callable[[Run], StepResult | None]  # read-only; None when no longer true


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
    return StepResult(run.hetzner.check_server_type())


def _server(run: Run) -> StepResult:
    user_data = render_cloud_init(run.member, run.value("primary-ip", "ipv4"))
    return _ensured(
        run.hetzner.ensure_server(
            user_data,
            ssh_key_id=run.value("ssh-key", "id"),
            firewall_id=run.value("firewall", "id"),
            primary_ip_id=run.value("primary-ip", "id"),
        )
    )


def _server_verified(run: Run) -> StepResult | None:
    return _verified(
        run.hetzner.server_status(run.value("firewall", "id"), run.value("primary-ip", "id"))
    )


STEPS: list[Step] = [
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
    Step("server", "Server", _server, _server_verified),
]


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
    state["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
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

    def to_json(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "server": {"id": self.server_id, "name": self.server_name, "ipv4": self.ipv4},
            "dns": [{"name": n, "type": t, "value": v} for n, t, v in self.dns],
            "steps": self.steps,
        }


Listener = Callable[[ProgressEvent], None]


def provision(
    member: MemberConfig,
    hetzner: HetznerService,
    on_event: Listener,
    steps: list[Step] | None = None,
) -> Summary:
    """Run the steps in order; raise on the first failure (recorded, so a rerun resumes)."""
    steps = STEPS if steps is None else steps
    state = load_state(member)
    records: dict[str, dict[str, Any]] = state["steps"]
    run = Run(member, hetzner)
    for step in steps:
        on_event(ProgressEvent(step.name, step.title, "pending"))
    for step in steps:
        record = records.setdefault(step.name, {})
        was_done = record.get("state") == "done"
        started = time.monotonic()
        on_event(ProgressEvent(step.name, step.title, "running"))
        record.update(state="running", started=datetime.now(UTC).isoformat(timespec="seconds"))
        _save(member, state)
        try:
            result = step.verify(run) if was_done else None
            outcome: StepState = "skipped" if result else "done"
            if result is None:
                result = step.run(run)
        except (Exception, KeyboardInterrupt) as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            message = "interrupted" if interrupted else _failure(exc)
            elapsed = time.monotonic() - started
            record.update(
                state="interrupted" if interrupted else "failed",
                message=message,
                elapsed=round(elapsed, 3),
            )
            _save(member, state)
            on_event(ProgressEvent(step.name, step.title, "failed", message, elapsed))
            raise
        elapsed = time.monotonic() - started
        run.results[step.name] = result
        record.update(
            state="done", message=result.message, data=result.data, elapsed=round(elapsed, 3)
        )
        _save(member, state)
        on_event(ProgressEvent(step.name, step.title, outcome, result.message, elapsed))
    return _summary(member, run, records)


def _failure(exc: BaseException) -> str:
    return exc.message if isinstance(exc, BinderctlError) else f"{type(exc).__name__}: {exc}"


def _summary(member: MemberConfig, run: Run, records: dict[str, dict[str, Any]]) -> Summary:
    server = run.results.get("server")
    ipv4 = server.data.get("ipv4") if server else None
    return Summary(
        member=member.name,
        server_id=server.data.get("id") if server else None,
        server_name=server.data.get("name") if server else None,
        ipv4=ipv4,
        dns=dns_records(member, ipv4) if ipv4 else [],
        steps=[
            {
                "step": name,
                "state": r.get("state"),
                "message": r.get("message", ""),
                "elapsed": r.get("elapsed"),
            }
            for name, r in records.items()
        ],
    )


def plan(member: MemberConfig, hetzner: HetznerService) -> list[PlanItem]:
    """What a run would create, change or keep; changes nothing."""
    found_ip = hetzner.primary_ip_status()
    user_data = render_cloud_init(member, found_ip.ipv4 if found_ip else PLACEHOLDER_IPV4)
    return hetzner.plan(public_key(member), len(user_data.encode()))
