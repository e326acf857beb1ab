"""Command line: global options, subcommands, exit codes.

Exit codes: 0 done, 1 failed, 2 usage or configuration error, 3 refused (read-only
mode or not confirmed), 130 interrupted. Heavy modules are imported by the command
that needs them, so ``binderctl --help`` and ``status`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from binderctl import __version__
from binderctl.errors import EXIT_INTERRUPTED, EXIT_USAGE, BinderctlError, UsageError
from binderctl.formatting import inert
from binderctl.parsing import parse_duration

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
)

EPILOG = """\
exit codes: 0 done, 1 failed, 2 usage or configuration error,
            3 refused (read-only or not confirmed), 130 interrupted

With no command, binderctl opens the console for the configured member.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
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
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds < 1:
        raise argparse.ArgumentTypeError("the timeout must be at least 1s")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = _Parser(
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"binderctl.commands.{name}")
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from binderctl.commands import Context

    parser = build_parser()
    args = parser.parse_args(argv)
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
