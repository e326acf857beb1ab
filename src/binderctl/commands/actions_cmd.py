"""Incident actions: drain, resume, restart, kill-session, delete-builds, prune-images,
reboot, renew-certs. Each asks for confirmation (``--yes`` for scripts), is refused in
read-only mode (exit 3) and leaves one audit record."""

from __future__ import annotations

import argparse

from binderctl.commands import Context, Subparsers, add_command
from binderctl.commands.arguments import add_stuck_after, duration, whole_number
from binderctl.commands.confirm import run_action
from binderctl.formatting import age
from binderctl.models import COMPONENTS
from binderctl.services.actions import BLAST_RADIUS
from binderctl.services.quota_change import DEFAULT_TIMEOUT


def _drain(ctx: Context) -> int:
    force_after = ctx.option("force_after")
    return run_action(
        ctx,
        lambda ops: ops.drain(
            wait=bool(ctx.option("wait")),
            threshold=ctx.option("threshold"),
            force_after=None if force_after is None else float(force_after),
            timeout=float(ctx.option("timeout")),
        ),
    )


def _resume(ctx: Context) -> int:
    return run_action(ctx, lambda ops: ops.resume(timeout=float(ctx.option("timeout"))))


def _restart(ctx: Context) -> int:
    return run_action(ctx, lambda ops: ops.restart(ctx.option("component")))


def _kill_session(ctx: Context) -> int:
    older = ctx.option("older_than")
    return run_action(
        ctx,
        lambda ops: ops.kill_sessions(
            name=ctx.option("name"),
            repo=ctx.option("repo"),
            older_than=None if older is None else float(older),
        ),
    )


def _delete_builds(ctx: Context) -> int:
    stuck, failed = bool(ctx.option("stuck")), bool(ctx.option("failed"))
    if not (stuck or failed):
        stuck = failed = True
    return run_action(ctx, lambda ops: ops.delete_builds(stuck=stuck, failed=failed))


def _prune_images(ctx: Context) -> int:
    return run_action(ctx, lambda ops: ops.prune_images())


def _reboot(ctx: Context) -> int:
    return run_action(ctx, lambda ops: ops.reboot(hard=bool(ctx.option("hard"))))


def _renew_certs(ctx: Context) -> int:
    return run_action(ctx, lambda ops: ops.renew_certs())


# name -> (one-line help, handler, the blast radius entries its --help repeats)
COMMANDS: dict[str, tuple[str, object, tuple[str, ...]]] = {
    "drain": (
        "take the member out of rotation: launch quota 0, until BinderHub's /health has it",
        _drain,
        ("drain", "drain-force"),
    ),
    "resume": (
        "put the member back in rotation: uncordon, restore the quota recorded by drain",
        _resume,
        ("resume",),
    ),
    "restart": (
        "restart hub, binder or proxy (rollout restart) or dind (delete its pods)",
        _restart,
        ("restart-hub", "restart-binder", "restart-proxy", "restart-dind"),
    ),
    "kill-session": (
        "delete session pods: one by name, all of a repo, or all older than a duration",
        _kill_session,
        ("kill-session",),
    ),
    "delete-builds": (
        "delete stuck and/or failed build pods (default: both)",
        _delete_builds,
        ("delete-builds",),
    ),
    "prune-images": (
        "remove unused container images on the node (k3s crictl rmi --prune)",
        _prune_images,
        ("prune-images",),
    ),
    "reboot": (
        "reboot the server through the Hetzner API (soft by default)",
        _reboot,
        ("reboot", "reboot-hard"),
    ),
    "renew-certs": (
        "rotate the k3s certificates and fetch a fresh kubeconfig",
        _renew_certs,
        ("renew-certs",),
    ),
}


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    parsers = {}
    for name, (help_text, handler, radius) in COMMANDS.items():
        parser = add_command(sub, common, name, help_text, handler)
        parser.description = f"{help_text}. " + " ".join(BLAST_RADIUS[r] for r in radius)
        parsers[name] = parser
    drain = parsers["drain"]
    drain.add_argument(
        "--wait", action="store_true", help="wait until the sessions fall to --threshold"
    )
    drain.add_argument(
        "--threshold",
        type=whole_number("--threshold", 0, 100_000),
        default=0,
        metavar="N",
        help="with --wait: sessions left that count as drained (default 0)",
    )
    drain.add_argument(
        "--force-after",
        type=duration,
        metavar="D",
        help="evict the sessions still running after D (e.g. 30m); implies --wait",
    )
    for name in ("drain", "resume"):
        parsers[name].add_argument(
            "--timeout",
            type=duration,
            default=DEFAULT_TIMEOUT,
            metavar="D",
            help="how long to wait for BinderHub's /health to report the new quota "
            f"(default {age(DEFAULT_TIMEOUT)})",
        )
    parsers["restart"].add_argument("component", choices=COMPONENTS, help="what to restart")
    which = parsers["kill-session"].add_mutually_exclusive_group(required=True)
    which.add_argument("name", nargs="?", metavar="NAME", help="a session pod (jupyter-...)")
    which.add_argument("--repo", metavar="R", help="every session of this repo URL")
    which.add_argument("--older-than", type=duration, metavar="D", help="sessions older than D")
    builds = parsers["delete-builds"]
    builds.add_argument("--stuck", action="store_true", help="builds running for too long")
    builds.add_argument("--failed", action="store_true", help="builds that failed")
    add_stuck_after(builds)
    parsers["reboot"].add_argument(
        "--hard", action="store_true", help="power-cycle instead (hard reset)"
    )
