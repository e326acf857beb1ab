"""`binderctl logs TARGET`: lines of a pod or of every pod of a component, optionally
followed across pod restarts (rollout restarts, new builds)."""

from __future__ import annotations

import argparse
import json
import sys

from binderctl.commands import Context, Subparsers, add_command
from binderctl.commands.arguments import duration, whole_number
from binderctl.errors import UsageError
from binderctl.formatting import inert
from binderctl.models import LogLine
from binderctl.services.kube import Kube
from binderctl.services.logs import TARGETS_HELP, LogOptions, LogStream, log_target

LINE_LIMIT = 16_384


def _format(lines: list[LogLine], *, prefix: bool, timestamps: bool, as_json: bool) -> str:
    if as_json:
        return "".join(
            json.dumps({"pod": x.pod, "container": x.container, "time": x.time, "text": x.text})
            + "\n"
            for x in lines
        )
    out = []
    for line in lines:
        head = f"[{inert(line.pod, 63)}/{inert(line.container, 63)}] " if prefix else ""
        if timestamps and line.time:
            head += f"{line.time} "
        out.append(head + inert(line.text, LINE_LIMIT) + "\n")
    return "".join(out)


def _logs(ctx: Context) -> int:
    target = log_target(ctx.option("target"))
    if ctx.option("previous") and ctx.option("follow"):
        raise UsageError("--previous shows a container that has ended; it cannot be followed")
    since = ctx.option("since")
    if since is not None and since < 1:
        raise UsageError("--since must be at least 1s (the API refuses a shorter sinceSeconds)")
    options = LogOptions(
        follow=bool(ctx.option("follow")),
        tail=ctx.option("tail"),
        since=since,
        timestamps=bool(ctx.option("timestamps")),
        container=ctx.option("container"),
        previous=bool(ctx.option("previous")),
    )
    printed = 0
    with Kube(ctx.member) as kube, LogStream(kube, target, options) as stream:
        if stream.note:
            ctx.info(stream.note)
        prefix = target.pod is None or (not options.container and len(stream.containers) > 1)
        while True:
            lines = stream.take(0.5)
            printed += len(lines)
            if lines:
                sys.stdout.write(
                    _format(
                        lines,
                        prefix=prefix,
                        timestamps=options.timestamps,
                        as_json=ctx.json_output,
                    )
                )
                sys.stdout.flush()
            elif stream.done:
                break
        if stream.dropped:
            ctx.info(f"({stream.dropped} lines were dropped: output could not keep up)")
        for error in stream.errors:
            ctx.info(f"binderctl: {inert(error, 300)}")
    return 1 if stream.errors and not printed else 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    logs = add_command(sub, common, "logs", "show or follow logs", _logs)
    logs.add_argument("target", metavar="TARGET", help=TARGETS_HELP)
    logs.add_argument("-f", "--follow", action="store_true", help="keep following new lines")
    logs.add_argument(
        "--tail",
        type=whole_number("--tail", 0, 1_000_000),
        metavar="N",
        help="last N lines of each container",
    )
    logs.add_argument("--since", type=duration, metavar="D", help="lines of the last D (e.g. 10m)")
    logs.add_argument("--timestamps", action="store_true", help="show each line's time")
    logs.add_argument("-c", "--container", metavar="C", help="only this container")
    logs.add_argument(
        "--previous", action="store_true", help="the previous (ended) container instance"
    )
