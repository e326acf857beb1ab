"""Helpers for the console tests: reading what the console shows, waiting for it, and
looking into the demo world."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from typing import TypeVar

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from binderctl.demo import DEMO_SPEED
from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj
from binderctl.demo.world import DemoWorld, in_process_world
from binderctl.screens.typing import READ_SECONDS, TYPING_GAP
from tests.kit.worlds import on_loop

T = TypeVar("T")
SIZE = (140, 44)  # the terminal the tests run the console in


def shown_text(widget: Static, width: int = 140) -> str:
    """The plain text a Static shows (tables and styled text alike)."""
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def notifications(app: App) -> list[str]:
    return [n.message for n in app._notifications]


async def until(pilot: Pilot, check: Callable[[], T], seconds: float = 30.0) -> T:
    """Let the console run until ``check()`` is truthy; return what it returned."""
    for _ in range(int(seconds / 0.1)):
        if result := check():
            return result
        await pilot.pause(0.1)
    raise AssertionError("the console never got there")


async def deliberately(pilot: Pilot, *keys: str) -> None:
    """Press each key on its own, as someone who reads before answering does: after a
    dialog has been read and apart from other keys (``screens/typing.py``)."""
    for key in keys:
        await pilot.pause(max(READ_SECONDS, TYPING_GAP) + 0.05)
        await pilot.press(key)


@contextlib.contextmanager
def extra_pod(world: DemoWorld, pod: Obj) -> Iterator[None]:
    """``pod`` created in the world's member for the block (deleted after, if still there)."""
    store = world.cluster().store
    meta = pod["metadata"]
    on_loop(world, store.create, types.PODS, pod)
    try:
        yield
    finally:
        if on_loop(world, store.find, types.PODS, meta["namespace"], meta["name"]) is not None:
            on_loop(world, store.delete, types.PODS, meta["namespace"], meta["name"])


def session_pods(world: DemoWorld) -> list[Obj]:
    store = world.cluster().store
    return [
        pod
        for pod in on_loop(world, store.list, types.PODS)
        if (pod["metadata"].get("labels") or {}).get("component") == "singleuser-server"
    ]


def running_sessions(world: DemoWorld) -> set[str]:
    """The names of the session pods the world's member runs now."""
    return {
        pod["metadata"]["name"]
        for pod in session_pods(world)
        if (pod.get("status") or {}).get("phase") == "Running"
        and not pod["metadata"].get("deletionTimestamp")
    }


@contextlib.contextmanager
def provisioned_world(sessions: int, seed: int) -> Iterator[DemoWorld]:
    """A demo world provisioned through the real pipeline, with ``sessions`` sessions
    running and no new launches; its environment applied meanwhile."""
    with in_process_world(
        action_seconds=0.05,
        backoff=0.01,
        speed=DEMO_SPEED,
        seed=seed,
        sessions=sessions,
        launches_per_minute=0.0,
    ) as world:
        world.provision()
        yield world
