"""Fire drills from the console: palette entries that start, score and stop a drill on
the demo member (through the demo's control endpoint, as `binderctl demo drill` does),
and a notice with the score when the drill ends. The workers report through messages
(``notify`` and ``call_later`` post them), so they never wait for the interface."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

from binderctl.errors import BinderctlError

if TYPE_CHECKING:
    from textual.app import App

SCORE_POLL_SECONDS = 1.0


def system_commands(app: App[Any]) -> Iterator[SystemCommand]:
    from binderctl.demo.drills.client import available

    if not available():
        return
    yield SystemCommand(
        "Drill: Start a drill",
        "a real incident on the demo member, to practise on",
        lambda: _run(app, _choose),
    )
    yield SystemCommand(
        "Drill: Score", "the running or last drill: times and actions", lambda: _run(app, _score)
    )
    yield SystemCommand(
        "Drill: Stop", "end the running drill, undo its fault", lambda: _run(app, _stop)
    )


def _run(app: App[Any], job: Any) -> None:
    app.run_worker(lambda: _guarded(app, job), thread=True, group="drills")


def _guarded(app: App[Any], job: Any) -> None:
    from binderctl.demo.drills.client import DrillClient

    try:
        job(app, DrillClient())
    except BinderctlError as exc:
        app.notify(str(exc), title="Drill", severity="error", markup=False)


def _choose(app: App[Any], client: Any) -> None:
    from binderctl.screens.choose import ChooseScreen

    drills = {f"{d['name']}: {d['title']}": d["name"] for d in client.drills()}

    def chosen(choice: str | None) -> None:
        if choice:
            _run(app, lambda app, client: _start(app, client, drills[choice]))

    app.call_later(app.push_screen, ChooseScreen("Start which drill?", list(drills)), chosen)


def _start(app: App[Any], client: Any, name: str) -> None:
    run = client.start(name)
    fixes = ", ".join(run["fixes"]) or "nothing: it ends by itself"
    app.notify(
        f"{run['detail']}\nResolved by: {fixes}",
        title=f"Drill {name} started",
        markup=False,
        timeout=10,
    )
    while (current := client.status()["current"]) and current["state"] == "running":
        time.sleep(SCORE_POLL_SECONDS)
    if current and current["name"] == name:
        _notify_score(app, current)


def _score(app: App[Any], client: Any) -> None:
    current = client.status()["current"]
    if current is None:
        app.notify("no drill has run yet", title="Drill", markup=False)
        return
    _notify_score(app, current)


def _stop(app: App[Any], client: Any) -> None:
    _notify_score(app, client.stop())


def score_text(run: dict[str, Any]) -> str:
    def after(seconds: float | None) -> str:
        return "not yet" if seconds is None else f"after {seconds:.1f} s"

    lines = [
        f"{run['state']}; detected {after(run['seconds_to_detect'])}, "
        f"resolved {after(run['seconds_to_resolve'])}"
    ]
    if run["detected_by"]:
        lines.append(f"binderctl said: {run['detected_by']}")
    actions = [f"{a['action']} {a['target']} ({a['outcome']})" for a in run["resolved_by"]]
    if run["state"] != "running":
        lines.append("actions: " + ("; ".join(actions) or "none"))
    return "\n".join(lines)


def _notify_score(app: App[Any], run: dict[str, Any]) -> None:
    app.notify(score_text(run), title=f"Drill {run['name']}", markup=False, timeout=20)
