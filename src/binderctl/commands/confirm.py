"""The headless face of the action runner: ask on the terminal (or take --yes), show
progress on stderr, print the outcome."""

from __future__ import annotations

import sys
from collections.abc import Callable

from binderctl.commands import Context
from binderctl.errors import RefusedError
from binderctl.services import catalogue
from binderctl.services.actions import Action, ActionRunner, Operations, Prepared, describe
from binderctl.services.catalogue import Request
from binderctl.services.stages import Listener


def terminal_confirm(assume_yes: bool) -> Callable[[Action, Prepared], bool]:
    def confirm(action: Action, prepared: Prepared) -> bool:
        if assume_yes:
            return True
        if not sys.stdin.isatty():
            raise RefusedError(
                f"not confirmed: {action.name} {action.target} needs confirmation and there "
                "is no terminal to ask on",
                hint="pass --yes to run it without a prompt",
            )
        print(describe(action, prepared), file=sys.stderr)
        print("Go ahead? [y/N] ", end="", file=sys.stderr, flush=True)
        return sys.stdin.readline().strip().lower() in ("y", "yes")

    return confirm


def operations(ctx: Context, events: Listener | None = None) -> Operations:
    """The member's operations with the config's federation and upgrade settings."""
    config = ctx.config
    return Operations(
        ctx.member,
        check=config.federation.check,
        federation=config.federation,
        upgrades=config.upgrades,
        events=events,
    )


def run_action(ctx: Context, request: Request, events: Listener | None = None) -> int:
    """Build the requested action, run it through the runner, print the outcome (``-o
    json``: one document, with each target's outcome). ``events``: a staged upgrade's
    step events (else its progress lines go to stderr like any action's)."""
    member = ctx.member
    action = catalogue.build(operations(ctx, events), request)
    runner = ActionRunner(
        member,
        readonly=ctx.readonly,
        confirm=terminal_confirm(ctx.assume_yes),
        progress=ctx.info,
    )
    outcome = runner.run(action)
    if ctx.json_output:
        ctx.emit_json(
            {
                "member": member.name,
                "action": action.name,
                "target": action.target,
                "parameters": dict(action.parameters),
                "outcome": "ok",
                "detail": outcome,
                "targets": dict(runner.record.targets) if runner.record else {},
            }
        )
    else:
        print(outcome)
    return 0
