"""`binderctl demo [--empty] [--sessions N] [--dir DIR] [--env-file F]
[--prime-versions KEY=VALUE]`: serve the demo world until Ctrl-C.

The world includes a federation: the emulated redirector, a prime and another member
(``demo/federation``); ``--prime-versions`` moves the prime's ``/versions`` once the
member is up.

Without ``--empty`` the member is first brought up through the real provisioning
pipeline (progress on stderr), then ``--sessions N`` sessions are started. Prints the
endpoints and a shell snippet that points binderctl, kubectl and hcloud clients at the
world (``--env-file F`` writes it to F, 0600). Exit 0 after a clean shutdown.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TYPE_CHECKING

from binderctl.commands import Context, Subparsers, add_command, drill_cmd
from binderctl.demo import DEMO_SPEED
from binderctl.paths import expand, write_private

if TYPE_CHECKING:
    from binderctl.demo.world import DemoWorld


def _demo(ctx: Context) -> int:
    from binderctl.demo.world import MEMBER, DemoWorld

    directory = ctx.option("dir")
    env_file = ctx.option("env_file")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    folder = expand(directory, "--dir") if directory else None
    env_path = expand(env_file, "--env-file") if env_file else None
    with DemoWorld(
        folder, speed=ctx.option("speed"), seed=ctx.option("seed"), sessions=ctx.option("sessions")
    ) as world:
        if not ctx.option("empty"):
            from binderctl.commands.render import ProgressPrinter

            ctx.info("provisioning the demo member through the real pipeline...")
            printer = ProgressPrinter()
            try:
                world.provision(printer)
            finally:
                printer.close()
        changes = ctx.option("prime_versions")
        if changes and world.federation is not None:
            world.federation.set_prime_versions(changes)
            ctx.info(f"the prime's /versions moved: {changes}")
        if env_path:
            write_private(env_path, world.shell_snippet())
        if ctx.json_output:
            ctx.emit_json(
                {
                    "directory": str(world.directory),
                    "endpoints": world.endpoints,
                    "addresses": str(world.network),
                    "member": MEMBER,
                    "env": world.env,
                }
            )
            sys.stdout.flush()
        else:
            _describe(world, env_file)
        while not stop.wait(0.5):
            pass
    ctx.info("demo world stopped")
    return 0


def _describe(world: DemoWorld, env_file: str | None) -> None:
    from binderctl.demo.world import MEMBER

    rows = [
        ("folder", str(world.directory)),
        *world.endpoints.items(),
        ("server addresses", str(world.network)),
        ("member", f"{MEMBER} (config {world.config_path})"),
    ]
    width = max(len(name) for name, _ in rows)
    print("binderctl demo world is running; Ctrl-C stops it.")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print()
    if env_file:
        print(f"In another shell: source {env_file}")
    else:
        print("In another shell, paste:")
        print(world.shell_snippet(), end="")
    print("then try: binderctl status, binderctl sessions, kubectl get pods -A, binderctl")
    print(flush=True)


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = add_command(sub, common, "demo", "serve the demo world until Ctrl-C", _demo)
    parser.add_argument(
        "--dir", metavar="DIR", help="the demo's folder (default: a temporary one, removed after)"
    )
    parser.add_argument("--env-file", metavar="F", help="also write the shell snippet to F (0600)")
    parser.add_argument(
        "--empty",
        action="store_true",
        help="start with nothing provisioned (then run `binderctl --provision` against it)",
    )
    parser.add_argument(
        "--sessions",
        type=_count,
        default=0,
        metavar="N",
        help="sessions already running on the member at the start (0 to 5000)",
    )
    parser.add_argument(
        "--speed",
        type=_speed,
        default=DEMO_SPEED,
        metavar="X",
        help=f"simulated time runs X times faster (default {DEMO_SPEED:g})",
    )
    parser.add_argument(
        "--prime-versions",
        type=_versions,
        metavar="KEY=VALUE[,KEY=VALUE]",
        help="once the member is up, the federation's prime moves to these versions (as at "
        "mybinder.org's next bump), so the member differs from it; keys: build_image, "
        "binderhub",
    )
    parser.add_argument(
        "--seed", type=_count, default=0, metavar="N", help="random seed (same seed, same world)"
    )
    drill_cmd.register(parser.add_subparsers(dest="demo_command", metavar="{drill}"), common)


def _count(text: str) -> int:
    from binderctl.parsing import parse_positive_int

    try:
        return parse_positive_int(text, name="the value", low=0, high=5000)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text[:20]!r} is not a number; expected 0.1 to 100"
        ) from None
    if not 0.1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value:g} is out of range; expected 0.1 to 100")
    return value


def _versions(text: str) -> dict[str, str]:
    from binderctl.demo.federation.world import VERSION_KEYS

    changes: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in VERSION_KEYS or not value or len(value) > 200:
            raise argparse.ArgumentTypeError(
                f"{part[:40]!r} is not KEY=VALUE; keys: {', '.join(sorted(VERSION_KEYS))}, "
                "e.g. build_image=quay.io/jupyterhub/repo2docker:2026.5.0"
            )
        changes[key] = value
    return changes
