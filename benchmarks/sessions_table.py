"""3. Sessions table: the main thread's time to apply one tick in which 5 % of the
sessions changed, against building the table from scratch; and key presses during ticks.

The real console runs in this process (``App.run_test``, headless) against the busy
member and fills its Sessions screen from the live model. The live model is then
stopped so that only the ticks made here reach the screen: each replaces 5 % of the
sessions with changed ones (new CPU and memory figures, as a metrics poll brings) and
is applied by ``SessionsScreen.render_model()`` followed by the repaint it causes; the
main thread's CPU time for both is the figure. The baseline applies the same state to a
fresh Sessions screen, so every row is built, added and sorted.

Key presses (cursor down/up) go in from another thread, as a terminal's input does,
while ticks arrive through the app's own path (``model_changed``, coalesced redraws)
every redraw interval; the baseline is the same presses with no ticks.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from itertools import count

from textual.pilot import Pilot

from benchmarks.keys import press_and_time
from benchmarks.measure import Row, Target
from benchmarks.suite import Suite
from binderctl.app import REDRAW_SECONDS, BinderctlApp
from binderctl.screens.sessions import SessionsScreen
from binderctl.services.cluster import ClusterState
from binderctl.widgets.live_table import LiveTable

NAME = "sessions-table"
SIZE = (140, 44)
CHANGED_SHARE = 0.05
PRESSES = 20
PRESS_SPACING = 0.15
FILL_TIMEOUT = 120.0


class Ticker:
    """Successive states of the model, each with the next ``share`` of the sessions
    changed (new CPU and memory figures) from the one before."""

    def __init__(self, state: ClusterState, share: float) -> None:
        self.state = state
        self._keys = sorted(state.sessions)
        self.size = max(1, round(share * len(self._keys)))
        self._start = 0
        self._serial = count(1)

    def tick(self) -> ClusterState:
        keys = [self._keys[(self._start + i) % len(self._keys)] for i in range(self.size)]
        self._start = (self._start + self.size) % len(self._keys)
        bump = next(self._serial)
        sessions = self.state.sessions
        changed = {
            key: replace(
                sessions[key],
                cpu=(sessions[key].cpu or 0.0) + bump / 100,
                memory=(sessions[key].memory or 0) + bump * 1_000_000,
            )
            for key in keys
        }
        self.state = replace(self.state, sessions={**sessions, **changed})
        return self.state


async def main_thread_seconds(pilot: Pilot, screen: SessionsScreen) -> float:
    started = time.thread_time()
    screen.render_model()
    await pilot.pause()
    return time.thread_time() - started


async def filled(app: BinderctlApp, pilot: Pilot, sessions: int) -> ClusterState:
    deadline = time.monotonic() + FILL_TIMEOUT
    while time.monotonic() < deadline:
        screen, model = app.screen, app.model
        shown = isinstance(screen, SessionsScreen) and screen.query_one(LiveTable).row_count
        if model is not None and shown and shown >= sessions:
            return model
        await pilot.pause(0.1)
    model, error = app.model, app.connect_error
    seen = "no model" if model is None else f"{len(model.sessions)} sessions, {model.connection}"
    raise RuntimeError(f"the Sessions screen never showed {sessions} sessions ({seen}; {error})")


async def _keys(app: BinderctlApp, table: LiveTable, states: list[ClusterState]) -> float:
    """The slowest of PRESSES key presses, with ``states`` arriving one every redraw
    interval (as long as they last)."""
    done = asyncio.Event()

    async def tick() -> None:
        for state in states:
            if done.is_set():
                return
            app.model = state
            app.model_changed({"session"})
            await asyncio.sleep(REDRAW_SECONDS)

    ticking = asyncio.create_task(tick())
    try:
        latencies = await asyncio.to_thread(
            press_and_time, app, ("down", "up"), lambda: table.cursor_row, PRESSES, PRESS_SPACING
        )
    finally:
        done.set()
        await ticking
    return max(latencies)


async def _measure(suite: Suite, tick_row: Row, key_row: Row) -> None:
    app = BinderctlApp(suite.member_config, start="sessions")
    async with app.run_test(size=SIZE) as pilot:
        base = await filled(app, pilot, round(0.95 * suite.options.sessions))
        assert app.cluster is not None
        app.cluster.stop()  # from now on only the ticks made here reach the screen
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.query_one(LiveTable)
        ticker = Ticker(base, CHANGED_SHARE)
        tick_row.notes.append(
            f"{len(base.sessions):,} sessions shown, {ticker.size} changed per tick"
        )
        tick_count = round(PRESSES * PRESS_SPACING * 2 / REDRAW_SECONDS)
        for _ in range(suite.repeats(5, 3)):
            fresh = SessionsScreen()
            app.model = None
            await app.push_screen(fresh)
            await pilot.pause()
            app.model = ticker.state
            baseline = await main_thread_seconds(pilot, fresh)
            await app.pop_screen()  # the screen catches up with ticker.state (not timed)
            await pilot.pause()
            app.model = ticker.tick()
            figure = await main_thread_seconds(pilot, screen)
            tick_row.add(figure * 1000, baseline * 1000)
            during = await _keys(app, table, [ticker.tick() for _ in range(tick_count)])
            key_row.add(during * 1000, await _keys(app, table, []) * 1000)


def run(suite: Suite) -> list[Row]:
    suite.busy_member()
    tick_row = Row(
        NAME,
        "sessions-tick",
        "apply a 5 % tick",
        "build the table from scratch",
        "ms",
        Target(0.1),
    )
    key_row = Row(
        NAME,
        "sessions-keys",
        "slowest key press during ticks",
        "slowest key press, no ticks",
        "ms",
        Target(0.0, 50.0),
    )
    asyncio.run(_measure(suite, tick_row, key_row))
    return [tick_row, key_row]
