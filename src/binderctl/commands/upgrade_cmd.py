"""`binderctl upgrade plan [-o json]`: what runs, what is current, what the prime runs
(read-only); `binderctl upgrade k3s|charts|schedule`: the staged upgrades and the
automatic k3s upgrade, actions of the catalogue (``services/catalogue.py``: confirmation,
read-only refusal, audit), with step progress on stderr. ``--dry-run`` prints every step
and changes nothing."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from binderctl.commands import Context, Subparsers
from binderctl.commands.actions_cmd import add_action
from binderctl.formatting import inert, table
from binderctl.services import catalogue

if TYPE_CHECKING:
    from binderctl.services.upgrade_plan import UpgradePlan, Version

GROUP = "upgrade"


def _shown(version: Version | None) -> str:
    if version is None:
        return "-"
    return inert(version.value, 60) or "?"


def render_plan(plan: UpgradePlan) -> str:
    rows = [
        [c.name, _shown(c.running), _shown(c.current), _shown(c.prime), c.status]
        for c in plan.components
    ]
    lines = [table(["COMPONENT", "RUNNING", "CURRENT", "PRIME", "STATUS"], rows), "", "sources:"]
    for c in plan.components:
        parts = [f"running: {c.running.source}", f"current: {c.current.source}"]
        if c.prime is not None:
            parts.append(f"prime: {c.prime.source}")
        lines.append(f"  {c.name}: " + inert("; ".join(parts), 400))
    notes = [
        f"  {c.name}: {inert(c.note, 300)}"
        + (f" (`binderctl {' '.join(catalogue.spec(c.action).command)}`)" if c.action else "")
        for c in plan.components
        if c.note or c.action
    ]
    if notes:
        lines += ["", "to do:", *notes]
    if plan.schedule is not None:
        import time

        lines += ["", inert(plan.schedule.words(time.time()), 300)]
    lines += [f"warning: {inert(w, 300)}" for w in plan.warnings]
    return "\n".join(lines)


def _plan(ctx: Context) -> int:
    from binderctl.services.upgrade_plan import upgrade_plan

    config = ctx.config
    plan = upgrade_plan(ctx.member, config.federation, config.upgrades)
    if ctx.json_output:
        ctx.emit_json(plan.to_json())
    else:
        print(render_plan(plan))
    return 0


def _action(ctx: Context) -> int:
    from binderctl.commands.confirm import operations, run_action
    from binderctl.commands.render import ProgressPrinter

    request = catalogue.request_from(ctx.args)
    if request.options.get("dry_run"):
        action = catalogue.build(operations(ctx), request)
        prepared = action.prepare()
        if ctx.json_output:
            ctx.emit_json({"member": ctx.member.name, "action": action.name,
                           "dry_run": True, "steps": prepared.details.splitlines()})  # fmt: skip
        else:
            print(f"dry run, nothing changes: {prepared.details}")
        return 0
    printer = ProgressPrinter()
    try:
        return run_action(ctx, request, events=printer)
    finally:
        printer.close()


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        GROUP,
        help="k3s and the charts kept current: plan, k3s, charts, schedule",
        description="What runs against what is current and what the prime runs (plan), "
        "and staged upgrades that drain, upgrade, verify and resume (k3s, charts), or an "
        "automatic k3s upgrade in a maintenance window (schedule).",
        parents=[common],
    )
    words = parser.add_subparsers(
        dest="upgrade_command", metavar="WHAT", required=True, parser_class=type(parser)
    )
    plan = words.add_parser(
        "plan",
        help="what runs now, what is current, what the prime runs (changes nothing)",
        description="k3s, the BinderHub chart and build_image, cert-manager, traefik and the "
        "registry: running, current and the prime's versions, each with its source.",
        parents=[common],
    )
    plan.set_defaults(handler=_plan)
    for action in catalogue.ACTIONS:
        if action.command[:1] == (GROUP,):
            add_action(words, common, action.command[1], action.help, action, handler=_action)
