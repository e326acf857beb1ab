"""The demo member the benchmarks measure, in a process of its own.

``python -m benchmarks.member --sessions N --speed X`` starts a ``DemoWorld`` sized for
N sessions, brings the member up through the real provisioning pipeline, prints one
JSON line (the world's environment) and then answers commands, one JSON object a line on
stdin, with one JSON line on stdout; ``start_sessions`` starts the N sessions (so that
what the API server sends meanwhile can be recorded). The emulators get a process (and
so a GIL and a core) of their own, as a real member's API server would: nothing they do
is counted in the clients' figures.

``MemberProcess`` is the benchmarks' side of it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from binderctl.config import load_config
from binderctl.demo.cluster import EmulatedK3s
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.services import provision
from binderctl.services.hetzner import HetznerService

Command = Callable[[EmulatedK3s, dict[str, Any]], Any]


def _flood(cluster: EmulatedK3s, args: dict[str, Any]) -> None:
    rate = args["per_second"]
    cluster.member.flood_logs(
        args["namespace"], args["pod"], args["container"], None if rate is None else float(rate)
    )


def _stop_log(cluster: EmulatedK3s, args: dict[str, Any]) -> None:
    """The container's log ends (as when it exits): followers reach the end of it."""
    cluster.member.logs.stop(args["namespace"], args["pod"], args["container"])


COMMANDS: dict[str, Command] = {"flood": _flood, "stop_log": _stop_log}


def serve(sessions: int, speed: float) -> None:
    with DemoWorld(speed=speed, sessions=sessions) as world:
        member = load_config(world.config_path).member(MEMBER)
        with world.environment():  # as world.provision(), but the sessions start later
            provision.provision(member, HetznerService.for_member(member), lambda _: None)
        cluster = world.cluster()
        runtime = world.runtime
        assert runtime is not None
        ready = {"env": world.env, "directory": str(world.directory), "endpoints": world.endpoints}
        print(json.dumps(ready), flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            if request["op"] == "start_sessions":
                world.start_sessions()
                print(json.dumps({"ok": True, "result": None}), flush=True)
                continue
            command = COMMANDS[request["op"]]

            async def call(request: dict[str, Any] = request, command: Command = command) -> Any:
                return command(cluster, request)

            result = runtime.run(call())
            print(json.dumps({"ok": True, "result": result}), flush=True)


class MemberProcess:
    """A provisioned demo member in a subprocess; ``env`` points clients at it."""

    def __init__(self, sessions: int, speed: float, env: dict[str, str] | None = None) -> None:
        base = dict(os.environ) if env is None else env
        command = ["--sessions", str(sessions), "--speed", str(speed)]
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (open while the process runs)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.member", *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env=base,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        ready = self._read()
        self.env: dict[str, str] = {**base, **ready["env"]}
        self.directory = Path(ready["directory"])
        self.endpoints: dict[str, str] = ready["endpoints"]

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._errors.seek(0)
            errors = self._errors.read()[-3000:].decode(errors="replace")
            raise RuntimeError(f"the benchmark member exited:\n{errors}")
        return json.loads(line)

    def command(self, op: str, **args: Any) -> Any:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self._process.stdin.flush()
        return self._read()["result"]

    def stop(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._errors.close()

    def __enter__(self) -> MemberProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.member")
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--speed", type=float, required=True)
    args = parser.parse_args()
    serve(args.sessions, args.speed)


if __name__ == "__main__":
    main()
