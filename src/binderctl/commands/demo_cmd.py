"""`binderctl demo [--dir DIR] [--env-file F]`: serve the demo world until Ctrl-C.

Prints the endpoints and a shell snippet that points binderctl and hcloud clients at the
world (``--env-file F`` writes it to F, 0600). Exit 0 after a clean shutdown.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from binderctl.commands import Context, add_command
from binderctl.paths import write_private

if TYPE_CHECKING:
    from binderctl.demo.world import DemoWorld


def _demo(ctx: Context) -> int:
    from binderctl.demo.world import MEMBER, DemoWorld

    directory = ctx.option("dir")
    env_file = ctx.option("env_file")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with DemoWorld(Path(directory).expanduser() if directory else None) as world:
        if env_file:
            write_private(Path(env_file).expanduser(), world.shell_snippet())
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
    print("then try: binderctl --provision --yes")
    print(flush=True)


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = add_command(sub, common, "demo", "serve the demo world until Ctrl-C", _demo)
    parser.add_argument(
        "--dir", metavar="DIR", help="the demo's folder (default: a temporary one, removed after)"
    )
    parser.add_argument("--env-file", metavar="F", help="also write the shell snippet to F (0600)")
