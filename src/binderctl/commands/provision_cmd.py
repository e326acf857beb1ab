"""`binderctl --provision [--member M] [--dry-run] [--timeout D] [--skip-dns-wait] [--yes]
[-o json] [--demo]`.

Progress on stderr (live on a terminal, one line per step otherwise), the summary on
stdout (one JSON document with ``-o json``). On a terminal it shows the plan and asks
before creating anything, unless ``--yes``; from a script the flag itself is the intent.
Interrupted (Ctrl-C, exit 130) or failed (exit 1) runs resume where they stopped.
``--timeout`` bounds the longest wait of any one step (DNS, SSH, k3s, rollout, health);
``--skip-dns-wait`` prints the DNS records without waiting for them to resolve.
"""

from __future__ import annotations

import sys

from binderctl.commands import Context
from binderctl.commands.render import (
    ProgressPrinter,
    plan_text,
    registry_text,
    summary_text,
)
from binderctl.errors import UsageError


def run_provision(ctx: Context) -> int:
    if ctx.option("command") is not None:
        raise UsageError(
            "--provision runs on its own; it cannot be combined with a command",
            hint="run `binderctl --provision` and the command separately",
        )
    if ctx.option("demo"):
        from binderctl.demo import PROVISION_DEMO_SPEED
        from binderctl.demo.world import in_process_world

        with in_process_world(speed=PROVISION_DEMO_SPEED) as world:
            ctx.info(f"demo world in {world.directory} (removed when this run ends)")
            return _provision(ctx)
    return _provision(ctx)


def _provision(ctx: Context) -> int:
    from binderctl.commands.confirm import terminal_confirm
    from binderctl.services import provision as pipeline
    from binderctl.services.actions import Action, ActionRunner, Prepared
    from binderctl.services.hetzner import HetznerService

    member = ctx.member
    hetzner = HetznerService.for_member(member)
    if ctx.option("dry_run"):
        registry = pipeline.registry_plan(member)
        items = pipeline.plan(member, hetzner)
        if ctx.json_output:
            document = {"member": member.name, "plan": [i.to_json() for i in items]}
            ctx.emit_json(document | ({"registry": registry} if registry else {}))
        else:
            print(plan_text(items))
            if registry:
                print(registry_text(registry))
        return 0

    asking = sys.stdin.isatty() and not ctx.assume_yes
    printer = ProgressPrinter()
    timeout = ctx.option("provision_timeout")
    action, summaries = pipeline.provision_action(
        member,
        hetzner,
        printer,
        (lambda items: f"creates or changes\n{plan_text(items)}") if asking else None,
        timeout=pipeline.DEFAULT_TIMEOUT if timeout is None else float(timeout),
        federation=ctx.config.federation,
        skip_dns_wait=bool(ctx.option("skip_dns_wait")),
    )
    ask = terminal_confirm(assume_yes=False)

    def confirmed(action: Action, prepared: Prepared) -> bool:
        return not prepared.details or ask(action, prepared)

    runner = ActionRunner(member, readonly=ctx.readonly, confirm=confirmed, progress=ctx.info)
    try:
        runner.run(action)
    finally:
        printer.close()
    summary = summaries[0]
    if ctx.json_output:
        ctx.emit_json(summary.to_json())
    else:
        print(summary_text(summary))
    return 0
