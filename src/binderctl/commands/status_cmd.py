"""`binderctl status`: health, rotation, sessions vs quota vs max_pods, builds, node,
components, certificate expiry, latest warnings, and what needs attention; exit 1 while
an error-level item needs attention."""

from __future__ import annotations

import argparse
import textwrap
from dataclasses import asdict
from typing import Any

from binderctl.commands import Context, Subparsers, add_command
from binderctl.commands import rows as r
from binderctl.commands.arguments import add_stuck_after
from binderctl.errors import EXIT_FAILED, EXIT_OK
from binderctl.formatting import age, cores, cpu, inert, size
from binderctl.models import COMPONENTS, Attention, Health, NodeStatus, Rotation
from binderctl.services.attention import worst
from binderctl.services.cluster import ClusterState, running
from binderctl.services.federation import HostReport
from binderctl.services.federation_rows import verdict_json
from binderctl.services.kube import Kube
from binderctl.services.status import StatusReport, status_report

WARNINGS_SHOWN = 5
LABEL = 12


def _quota(rotation: Rotation | None) -> str:
    if rotation is None or rotation.quota_error is not None:
        return "?"
    return "no limit" if rotation.quota is None else str(rotation.quota)


def _fix(item: Attention) -> str:
    """The command that fixes ``item``, as typed in a shell, or ""."""
    if item.action is None:
        return ""
    from binderctl.services.catalogue import spec

    words = spec(item.action).command or (item.action,)
    return " ".join(("binderctl", *words, *([item.target] if item.target else [])))


def _percent(used: float | None, total: float | None) -> str:
    return f" ({100 * used / total:.0f}%)" if used is not None and total else ""


# -- JSON ----------------------------------------------------------------------------
def _health_json(health: Health | None) -> dict[str, Any] | None:
    if health is None:
        return None
    return {
        "ok": health.ok,
        "error": health.error,
        "checks": [{"service": c.service, "ok": c.ok, **c.detail} for c in health.checks],
        "versions": health.versions,
    }


def _observed_json(observed: HostReport | None) -> dict[str, Any] | None:
    if observed is None:
        return None
    return {**verdict_json(observed.verdict), "host": observed.host.name,
            "checked": r.iso(observed.checked)}  # fmt: skip


def _rotation_json(
    rotation: Rotation | None, observed: HostReport | None = None
) -> dict[str, Any] | None:
    if rotation is None:
        return None
    return {
        # by the federation redirector's rules, from /health, /versions and the prime's
        "observed": _observed_json(observed),
        "in_rotation": rotation.in_rotation,
        "quota": rotation.quota,
        "quota_error": rotation.quota_error,
        "cordoned": rotation.cordoned,
        "drain_recorded": rotation.drain_recorded,
        "previous_quota": rotation.previous_quota,
        "problem": rotation.problem,
    }


def _node_json(node: NodeStatus | None) -> dict[str, Any] | None:
    if node is None:
        return None
    return {
        "name": node.name,
        "conditions": node.conditions,
        "cordoned": node.cordoned,
        "cpu": {"used": node.cpu_usage, "capacity": node.cpu_capacity},
        "memory": {"used": node.memory_usage, "capacity": node.memory_capacity},
        "disk": {"used": node.disk_usage, "capacity": node.disk_capacity},
        "pods": {"used": node.pods_used, "max": node.pods_max},
    }


def _counts(state: ClusterState) -> dict[str, dict[str, int]]:
    sessions = list(state.sessions.values())
    builds = list(state.builds.values())
    return {
        "sessions": {
            "total": len(sessions),
            "running": running(sessions),
            "pending": sum(1 for s in sessions if s.phase == "Pending"),
        },
        "builds": {
            "total": len(builds),
            "running": sum(1 for b in builds if b.phase == "Running"),
            "stuck": sum(1 for b in builds if b.stuck),
            "failed": sum(1 for b in builds if b.phase == "Failed"),
        },
    }


def document(report: StatusReport) -> dict[str, Any]:
    state = report.state
    now = state.time
    counts = _counts(state)
    return {
        "member": report.member,
        "time": r.iso(now),
        "api_server": report.server,
        "health": _health_json(state.health),
        "rotation": _rotation_json(state.rotation, report.federation),
        "sessions": {
            **counts["sessions"],
            "quota": state.rotation.quota if state.rotation else None,
            "launches_last_hour": state.launches_last_hour,
        },
        "builds": counts["builds"],
        "node": _node_json(state.node),
        "components": {n: r.component_json(c, now) for n, c in state.components.items()},
        "certificate": {
            "expires": r.iso(report.cert_expiry),
            "seconds_left": None if report.cert_expiry is None else int(report.cert_expiry - now),
            "error": report.cert_error,
        },
        "firewall": {"world_open_ports": list(report.world_open_ports), "source": "config"},
        "hetzner": None if report.hetzner is None else asdict(report.hetzner),
        "warnings": [r.warning_json(w) for w in state.warnings[:WARNINGS_SHOWN]],
        "errors": dict(state.errors),
        "attention": [asdict(item) for item in report.attention],
        "problems": list(report.problems),  # the attention items' texts (older scripts)
        "upgrade_schedule": report.schedule.to_json() if report.schedule else None,
    }


# -- text ----------------------------------------------------------------------------
def _line(label: str, text: str) -> str:
    return f"{label:<{LABEL}}{inert(text, r.width() - LABEL)}"


def _health_text(health: Health | None) -> str:
    if health is None:
        return "not checked"
    if health.ok is None:
        return f"UNKNOWN: {inert(health.error or '?', 120)}"
    checks = ", ".join(f"{inert(c.service, 30)} {'ok' if c.ok else 'FAIL'}" for c in health.checks)
    return f"{'OK' if health.ok else 'FAILING'} ({checks or 'no checks'})"


def _version_lines(health: Health | None) -> list[str]:
    version = health.versions.get("binderhub") if health else None
    return [_line("binderhub", str(version))] if version else []


def _rotation_text(rotation: Rotation | None) -> str:
    if rotation is None:
        return "unknown (no node list)"
    if rotation.quota_error:
        return f"unknown: {inert(rotation.quota_error, 100)}"
    node = "node cordoned" if rotation.cordoned else "node schedulable"
    head = "IN ROTATION" if rotation.in_rotation else "OUT OF ROTATION"
    text = f"{head}: launch quota {_quota(rotation)}, {node}"
    if rotation.drain_recorded:
        previous = rotation.previous_quota
        text += f"; resume restores {'no limit' if previous is None else previous}"
    return text


def _observed_text(observed: HostReport | None) -> str:
    if observed is None:
        return "not judged"
    verdict = observed.verdict
    head = {True: "IN ROTATION", False: "OUT OF ROTATION", None: "UNKNOWN"}[verdict.in_rotation]
    return f"{head}: {inert(verdict.detail, 300)}"


def _node_lines(node: NodeStatus | None) -> list[str]:
    if node is None:
        return [_line("node", "no node")]
    ready = "Ready" if node.conditions.get("Ready") == "True" else "NOT READY"
    processor = f"cpu {cores(node.cpu_usage)}/{cpu(node.cpu_capacity)}"
    processor += _percent(node.cpu_usage, node.cpu_capacity)
    memory = f"memory {size(node.memory_usage)}/{size(node.memory_capacity)}"
    memory += _percent(node.memory_usage, node.memory_capacity)
    if node.disk_usage is None:
        disk = f"disk {size(node.disk_capacity)}, usage not read (--disk reads it over SSH)"
    else:
        disk = f"disk {size(node.disk_usage)}/{size(node.disk_capacity)}"
        disk += _percent(node.disk_usage, node.disk_capacity)
    pressures = [k for k, v in node.conditions.items() if k.endswith("Pressure") and v == "True"]
    return [
        _line("node", f"{inert(node.name, 40)} {ready}  {processor}  {memory}"),
        _line("", disk + (f"  {', '.join(pressures)}" if pressures else "")),
    ]


def _server_lines(report: StatusReport) -> list[str]:
    """What Hetzner says of the server (nothing when it could not be asked)."""
    flags = report.hetzner
    if flags is None:
        return []
    marks = [m for m, on in (("LOCKED", flags.locked), ("IPv4 BLOCKED", flags.ipv4_blocked)) if on]
    text = f"{inert(flags.name, 40)} {inert(flags.status, 20)}, IPv4 {flags.ipv4 or '-'}"
    return [_line("server", text + (f"  {', '.join(marks)}" if marks else ""))]


def render(report: StatusReport) -> str:
    state = report.state
    now = state.time
    rotation = state.rotation
    node = state.node
    sessions, builds = _counts(state).values()
    pods = f"pods {node.pods_used}/{node.pods_max}" if node else "pods ?"
    quota = _quota(rotation)
    components = "  ".join(
        r.component_text(c) for name in COMPONENTS if (c := state.components.get(name)) is not None
    )
    lines = [
        f"member {report.member}  ({report.server})  {r.iso(now)}",
        _line("health", _health_text(state.health)),
        *_version_lines(state.health),
        _line("redirector", _observed_text(report.federation)),
        _line("rotation", _rotation_text(rotation)),
        _line(
            "sessions",
            f"{sessions['running']} running, {sessions['pending']} pending; "
            f"launch quota {quota}; {pods}",
        ),
        _line("launches", f"{state.launches_last_hour} in the last hour"),
        _line(
            "builds",
            f"{builds['running']} running, {builds['stuck']} stuck, {builds['failed']} failed",
        ),
        *_node_lines(node),
        _line("components", components or "none found"),
        *_server_lines(report),
    ]
    if report.cert_expiry is not None:
        left = report.cert_expiry - now
        when = f"expires in {age(left)}" if left > 0 else "HAS EXPIRED"
        lines.append(
            _line("certificate", f"client certificate {when} ({r.iso(report.cert_expiry)})")
        )
    elif report.cert_error:
        lines.append(_line("certificate", f"unknown: {inert(report.cert_error, 100)}"))
    if report.schedule is not None:
        lines.append(_line("upgrades", report.schedule.words(now)))
    warnings = state.warnings[:WARNINGS_SHOWN]
    for index, w in enumerate(warnings):
        text = f"{age(now - w.time):>4}  {inert(w.reason, 20)}  {inert(w.object, 40)}: "
        lines.append(_line("warnings" if index == 0 else "", text + inert(w.message, 200)))
    if not warnings:
        lines.append(_line("warnings", "none"))
    if report.attention:
        lines.append("")
        lines.append("needs attention:")
        for item in report.attention:
            fix = _fix(item)
            text = f"{item.severity.upper()}: {inert(item.text, 400)}"
            text += f" (fix: {fix})" if fix else ""
            lines += textwrap.wrap(text, r.width(), initial_indent="  - ", subsequent_indent="    ")
    return "\n".join(lines)


def _status(ctx: Context) -> int:
    with Kube(ctx.member) as kube:
        report = status_report(
            ctx.member,
            kube,
            stuck_after=float(ctx.option("stuck_after")),
            disk=bool(ctx.option("disk")),
            config=ctx.config,
        )
    if ctx.json_output:
        ctx.emit_json(document(report))
    else:
        print(render(report))
    return EXIT_FAILED if worst(report.attention) == "error" else EXIT_OK


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = add_command(
        sub, common, "status", "what the member is doing now, in one screen", _status
    )
    add_stuck_after(parser)
    parser.add_argument(
        "--disk", action="store_true", help="also read the node's disk usage over SSH (slower)"
    )
