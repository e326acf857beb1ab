"""Command line: global options, subcommands, exit codes.

Exit codes: 0 done, 1 failed, 2 usage or configuration error, 3 refused (read-only
mode or not confirmed), 130 interrupted. Heavy modules are imported by the command
that needs them: ``--version`` imports no command module, and a command named X loads
only its module ``X_cmd`` when there is one (the others are found by loading them all).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from binderctl import __version__
from binderctl.errors import EXIT_INTERRUPTED, EXIT_USAGE, BinderctlError, UsageError

# Modules under binderctl.commands; each defines register(subparsers, common).
COMMAND_MODULES = (
    "config_cmd",
    "auth_cmd",
    "budget_cmd",
    "status_cmd",
    "lists_cmd",
    "logs_cmd",
    "actions_cmd",
    "audit_cmd",
    "teardown_cmd",
    "demo_cmd",
    "node_cmd",
    "federation_cmd",
    "watch_cmd",
    "upgrade_cmd",
    "abuse_cmd",
)

EPILOG = """\
exit codes: 0 done, 1 failed, 2 usage or configuration error,
            3 refused (read-only or not confirmed), 130 interrupted

With no command, binderctl opens the console for the configured member.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        from binderctl.formatting import inert

        self.print_usage(sys.stderr)
        # argparse quotes some values with repr() but echoes unrecognized arguments as is
        self.exit(EXIT_USAGE, f"binderctl: error: {inert(message, 1000)}\n")


def common_options() -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("global options")
    group.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="configuration file (default: BINDERCTL_CONFIG or the user config dir)",
    )
    group.add_argument(
        "--member",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="which member of the config to act on (default: the only one)",
    )
    group.add_argument(
        "--readonly",
        action="store_true",
        default=argparse.SUPPRESS,
        help="refuse every action that changes anything",
    )
    group.add_argument(
        "-y",
        "--yes",
        action="store_true",
        default=argparse.SUPPRESS,
        help="answer yes to confirmations (for scripts)",
    )
    group.add_argument(
        "-o",
        "--output",
        choices=("text", "json"),
        default=argparse.SUPPRESS,
        help="output format for data (json: one document on stdout)",
    )
    return common


def _step_timeout(text: str) -> int:
    from binderctl.parsing import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds < 1:
        raise argparse.ArgumentTypeError("the timeout must be at least 1s")
    return seconds


def _top_parser(
    common: argparse.ArgumentParser,
    add_help: bool = True,
    parser_class: type[_Parser] = _Parser,
) -> argparse.ArgumentParser:
    """binderctl's own options, without the commands."""
    parser = parser_class(
        add_help=add_help,
        prog="binderctl",
        description="Operations console for a single-node mybinder.org federation member.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"binderctl {__version__}")
    parser.add_argument(
        "--provision",
        action="store_true",
        help="run the provisioning pipeline headless (Hetzner resources, k3s, BinderHub)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="with --provision: print the plan, change nothing"
    )
    parser.add_argument(
        "--timeout",
        dest="provision_timeout",
        type=_step_timeout,
        metavar="DURATION",
        help="with --provision: the longest wait of any one step, e.g. 90s or 20m (default 15m)",
    )
    parser.add_argument(
        "--skip-dns-wait",
        action="store_true",
        help="with --provision: print the DNS records but do not wait until they resolve",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against an in-process demo world (no Hetzner account needed)",
    )
    return parser


class _ScanError(Exception):
    pass


class _Scan(_Parser):
    def error(self, message: str) -> NoReturn:
        raise _ScanError(message)


def modules_needed(argv: Sequence[str] | None) -> Sequence[str]:
    """The command modules that parsing ``argv`` needs: none for the console, the
    command's own module when it has one, else all (the whole parser reports errors).
    Handles ``--version`` (exits)."""
    scan = _top_parser(common_options(), add_help=False, parser_class=_Scan)
    scan.add_argument("command", nargs="?")
    scan.add_argument("rest", nargs=argparse.REMAINDER)
    try:
        args, unknown = scan.parse_known_args(argv)
    except _ScanError:
        return COMMAND_MODULES
    if args.command is None:
        return () if not unknown else COMMAND_MODULES  # unknown: -h, or a bad option
    own = f"{args.command}_cmd"
    return (own,) if own in COMMAND_MODULES else COMMAND_MODULES


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The parser with the commands of ``modules``."""
    common = common_options()
    parser = _top_parser(common)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in modules:
        module = importlib.import_module(f"binderctl.commands.{name}")
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(modules_needed(argv))
    args = parser.parse_args(argv)
    from binderctl.commands import Context

    ctx = Context(args)
    try:
        if args.provision:
            from binderctl.commands.provision_cmd import run_provision

            return run_provision(ctx)
        if args.provision_timeout is not None:
            raise UsageError("--timeout applies to --provision only")
        if args.skip_dns_wait:
            raise UsageError("--skip-dns-wait applies to --provision only")
        if args.command is None:
            from binderctl.commands.default_cmd import run_default

            return run_default(ctx)
        return int(args.handler(ctx) or 0)
    except BinderctlError as exc:
        print(f"binderctl: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("binderctl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
