"""The provisioning pipeline in-process: events, recorded state, resuming, extension."""

from __future__ import annotations

import io
import json
import stat

import hcloud
import pytest

from binderctl.commands.render import ProgressPrinter
from binderctl.config import MemberConfig
from binderctl.demo.hetzner import HetznerEmulator
from binderctl.demo.world import DemoWorld
from binderctl.errors import BinderctlError, ConfigError
from binderctl.services.hetzner import HetznerService
from binderctl.services.provision import (
    HETZNER_STEPS,
    ProgressEvent,
    Run,
    Step,
    StepResult,
    provision,
    public_key,
    state_path,
)

NAMES = ["check", "ssh-key", "firewall", "primary-ip", "dns", "server"]


def run(service: HetznerService, steps: list[Step] | None = None) -> list[ProgressEvent]:
    events: list[ProgressEvent] = []
    provision(service.member, service, events.append, HETZNER_STEPS if steps is None else steps)
    return events


def finals(events: list[ProgressEvent]) -> list[tuple[str, str]]:
    return [(e.step, e.state) for e in events if e.state not in ("pending", "running")]


def test_events_state_file_and_summary(service: HetznerService, in_world: DemoWorld) -> None:
    events: list[ProgressEvent] = []
    summary = provision(service.member, service, events.append, HETZNER_STEPS)
    assert [(e.step, e.state) for e in events[:6]] == [(n, "pending") for n in NAMES]
    notices = [e for e in events if e.notice]
    assert [e.step for e in notices] == ["dns"]
    assert f"demo.binder.test.    300  IN  A  {summary.ipv4}" in notices[0].notice
    assert [(e.step, e.state) for e in events[6:] if not e.notice] == [
        (name, state) for name in NAMES for state in ("running", "done")
    ]
    assert all(e.elapsed >= 0 for e in events)
    assert summary.server_name == "binderctl-demo"
    assert summary.ipv4 is not None and summary.dns == [
        ("demo.binder.test", "A", summary.ipv4),
        ("*.demo.binder.test", "A", summary.ipv4),
    ]
    path = state_path(service.member)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.parent == in_world.home / "state" / "demo"
    recorded = json.loads(path.read_text())
    assert [recorded["steps"][n]["state"] for n in NAMES] == ["done"] * 6
    assert recorded["steps"]["server"]["data"]["ipv4"] == summary.ipv4
    assert in_world.token not in path.read_text()

    assert finals(run(service)) == [(n, "skipped") for n in NAMES]


def test_a_failed_step_resumes_without_redoing_the_others(
    service: HetznerService, emulator: HetznerEmulator, api: hcloud.Client
) -> None:
    emulator.faults.fail("POST", "/primary_ips", status=503)
    with pytest.raises(BinderctlError, match="reserving the primary IPv4"):
        run(service)
    recorded = json.loads(state_path(service.member).read_text())["steps"]
    assert [recorded[n]["state"] for n in NAMES[:4]] == ["done", "done", "done", "failed"]
    assert "server" not in recorded
    assert finals(run(service)) == [
        ("check", "skipped"),
        ("ssh-key", "skipped"),
        ("firewall", "skipped"),
        ("primary-ip", "done"),
        ("dns", "done"),
        ("server", "done"),
    ]
    assert len(api.servers.get_all()) == 1


def test_an_interrupted_step_is_recorded_and_finished_next_time(
    service: HetznerService, api: hcloud.Client
) -> None:
    def interrupt(run: Run) -> StepResult:
        raise KeyboardInterrupt

    events: list[ProgressEvent] = []
    with pytest.raises(KeyboardInterrupt):
        provision(
            service.member,
            service,
            events.append,
            [*HETZNER_STEPS[:3], Step("primary-ip", "Primary IPv4", interrupt, interrupt)],
        )
    assert (events[-1].step, events[-1].state, events[-1].message) == (
        "primary-ip",
        "failed",
        "interrupted",
    )
    recorded = json.loads(state_path(service.member).read_text())["steps"]
    assert recorded["primary-ip"]["state"] == "interrupted"
    assert finals(run(service))[-3:] == [
        ("primary-ip", "done"),
        ("dns", "done"),
        ("server", "done"),
    ]
    assert len(api.primary_ips.get_all()) == 1


def test_a_done_step_whose_resource_vanished_is_run_again(
    service: HetznerService, api: hcloud.Client
) -> None:
    run(service)
    api.ssh_keys.get_all()[0].delete()
    assert ("ssh-key", "done") in finals(run(service))
    assert len(api.ssh_keys.get_all()) == 1


def test_later_stages_append_steps(service: HetznerService) -> None:
    seen: list[str] = []

    def wait_for_ssh(run: Run) -> StepResult:
        seen.append(run.value("server", "ipv4"))
        return StepResult(f"SSH answers on {seen[-1]}")

    events = run(service, [*HETZNER_STEPS, Step("ssh", "SSH", wait_for_ssh, wait_for_ssh)])
    assert finals(events)[-1] == ("ssh", "done") and seen


def test_missing_public_key(member: MemberConfig, world: DemoWorld) -> None:
    world.key_path.with_suffix(".pub").unlink()
    with pytest.raises(ConfigError, match="ssh-keygen -t ed25519"):
        public_key(member)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_printer_plain_and_live() -> None:
    plain = io.StringIO()
    printer = ProgressPrinter(plain)
    printer(ProgressEvent("ssh-key", "SSH key", "pending"))
    printer(ProgressEvent("ssh-key", "SSH key", "running"))
    printer(ProgressEvent("ssh-key", "SSH key", "done", "created SSH key k (id 1)", 0.25))
    printer(ProgressEvent("server", "Server", "failed", "boom\x1b[2J", 1.5))
    printer.close()
    assert plain.getvalue().splitlines() == [
        "SSH key          done   created SSH key k (id 1) (0.2s)",
        "Server           FAILED boom?[2J (1.5s)",
    ]
    live = Terminal()
    printer = ProgressPrinter(live)
    assert printer.live
    printer(ProgressEvent("server", "Server", "running"))
    printer(ProgressEvent("server", "Server", "skipped", "verified", 0.1))
    printer.close()
    assert "\r\x1b[2K" in live.getvalue()
    assert live.getvalue().endswith("✓ Server           ok     verified (0.1s)\n")
