"""`binderctl demo drill list|start NAME|status|stop`: fire drills on a running demo.

They talk to the control endpoint of a `binderctl demo` started elsewhere (its env
snippet names it); `-o json` prints the endpoint's JSON document.
"""

from __future__ import annotations

import argparse
from typing import Any

from binderctl.commands import Context, Subparsers, add_command
from binderctl.formatting import inert, table


def _client() -> Any:
    from binderctl.demo.drills.client import DrillClient

    return DrillClient()


def _list(ctx: Context) -> int:
    drills = _client().drills()
    if ctx.json_output:
        ctx.emit_json({"drills": drills})
        return 0
    rows = [
        [d["name"], d["title"], ", ".join(d["fixes"]) or "-", "yes" if d["resolves_itself"] else ""]
        for d in drills
    ]
    print(table(["DRILL", "WHAT", "RESOLVED BY", "ENDS BY ITSELF"], rows))
    return 0


def _start(ctx: Context) -> int:
    run = _client().start(ctx.option("name"), ctx.option("duration"))
    if ctx.json_output:
        ctx.emit_json(run)
    else:
        print(f"drill {run['name']} started: {inert(run['detail'], 300)}")
        print(f"  symptom: {inert(run['symptom'], 300)}")
        print("  `binderctl demo drill status` keeps the score")
    return 0


def _status(ctx: Context) -> int:
    document = _client().status()
    if ctx.json_output:
        ctx.emit_json(document)
        return 0
    run = document["current"]
    if run is None:
        print("no drill has run yet: `binderctl demo drill list` names them")
        return 0
    _describe(run)
    return 0


def _stop(ctx: Context) -> int:
    run = _client().stop()
    if ctx.json_output:
        ctx.emit_json(run)
    else:
        _describe(run)
    return 0


def _describe(run: dict[str, Any]) -> None:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} s after the start"

    print(f"drill {run['name']}: {run['state']}  ({inert(run['title'], 100)})")
    print(f"  started   {run['started_at']}: {inert(run['detail'], 300)}")
    detected = seconds(run["seconds_to_detect"])
    print(
        f"  detected  {detected}"
        + (f": {inert(run['detected_by'], 300)}" if run["detected_by"] else "")
    )
    print(f"  resolved  {seconds(run['seconds_to_resolve'])}")
    for action in run["resolved_by"]:
        target = inert(action["target"], 80)
        print(f"    {action['time']}  {action['action']} {target}: {action['outcome']}")
    if run["state"] == "running":
        fixes = ", ".join(f"`binderctl {fix}`" for fix in run["fixes"]) or "nothing"
        print(f"  resolved by: {fixes}")
        if run["resolves_itself"]:
            print(f"  if ignored: {inert(run['resolves_itself'], 300)}")


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    drill = sub.add_parser(
        "drill",
        help="fire drills on a running demo (list, start, status, stop)",
        description="Start a real incident on a running `binderctl demo` and keep the score.",
        parents=[common],
    )
    actions = drill.add_subparsers(dest="drill_command", metavar="ACTION", required=True)
    add_command(actions, common, "list", "the drills, what resolves each", _list)
    start = add_command(actions, common, "start", "start a drill on the demo member", _start)
    start.add_argument("name", metavar="NAME", help="a drill's name (see `list`)")
    start.add_argument(
        "--duration",
        type=_duration,
        metavar="SECONDS",
        help="for drills that end by themselves: how long, in simulated seconds (default 600)",
    )
    add_command(actions, common, "status", "the running or last drill and its score", _status)
    add_command(actions, common, "stop", "end the running drill and undo its fault", _stop)


def _duration(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a number of seconds") from None
    if not 1 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"{value:g} is out of range; expected 1 to 86400")
    return value
