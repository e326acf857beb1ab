"""Incident actions, one subcommand per entry (and alias) of the action catalogue
(``services/catalogue.py``): drain, resume, restart, kill-session, delete-build,
delete-builds, prune-images, reboot, renew-certs. Each asks for confirmation (``--yes``
for scripts), is refused in read-only mode (exit 3) and leaves one audit record."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable

from binderctl.commands import Context, Subparsers
from binderctl.commands.confirm import run_action
from binderctl.services import catalogue

WIDTH = 78


def _run(ctx: Context) -> int:
    return run_action(ctx, catalogue.request_from(ctx.args))


def description(
    action: catalogue.ActionSpec, help_text: str, alias: catalogue.Alias | None = None
) -> str:
    """The --help text: what it does, then its blast radius, one item per case."""
    given = alias.targets if alias is not None else ()
    lines = [*textwrap.wrap(f"{help_text}.", WIDTH), "", "blast radius:"]
    for part in action.blast:
        if given and part.when in action.choices and part.when not in given:
            continue  # another target's
        label = "" if part.when in given else part.label
        text = f"{label}: {part.text}" if label else part.text
        lines += textwrap.wrap(text, WIDTH, initial_indent="  - ", subsequent_indent="    ")
    return "\n".join(lines)


def add_action(
    sub: Subparsers,
    common: argparse.ArgumentParser,
    name: str,
    help_text: str,
    action: catalogue.ActionSpec,
    alias: catalogue.Alias | None = None,
    aliases: tuple[str, ...] = (),
    handler: Callable[[Context], int] = _run,
) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=description(action, help_text, alias),
        parents=[common],
        aliases=list(aliases),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    catalogue.add_arguments(parser, action, alias)


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Every action whose CLI words are its name (``upgrade k3s`` is upgrade_cmd's)."""
    for action in catalogue.ACTIONS:
        if action.command:
            continue
        plain = tuple(
            a.name for a in catalogue.ALIASES if a.action == action.name and not a.targets
        )
        add_action(sub, common, action.name, action.help, action, aliases=plain)
    for alias in catalogue.ALIASES:
        if alias.targets:
            add_action(sub, common, alias.name, alias.help, catalogue.spec(alias.action), alias)
