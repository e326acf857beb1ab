"""The console (Textual) on the hostile cluster: what each screen draws is inert
(no control character, lone surrogate or bidi override from the data), markup shows as
typed, and long strings are cut."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from binderctl.app import BinderctlApp
from binderctl.config import load_config
from binderctl.demo.world import patched_environ
from tests.fuzz.fuzzkit import MEMBER, make_sandbox
from tests.fuzz.hostile import ESCAPES, LONG, MARKUP, start, unsafe_characters
from tests.tui.tuikit import deliberately

SIZE = (120, 40)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[BinderctlApp]:
    sandbox = make_sandbox(tmp_path)
    running = start(sandbox.home / "data" / MEMBER / "kubeconfig")
    with patched_environ(sandbox.env):
        yield BinderctlApp(load_config(sandbox.config_path).member(MEMBER))
    running.stop()


def screen_text(app: BinderctlApp) -> str:
    """The characters the screen would draw, row by row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def shown(pilot: Pilot, check: Callable[[str], Any], seconds: float = 20.0) -> str:
    """The screen's text once ``check`` accepts it."""
    for _ in range(int(seconds / 0.1)):
        text = screen_text(pilot.app)  # type: ignore[arg-type]
        if check(text):
            return text
        await pilot.pause(0.1)
    raise AssertionError(f"the screen never showed it:\n{text}")


async def test_every_screen_draws_hostile_data_inertly(app: BinderctlApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        seen = {}
        # names are cut in their middle: the markup's start shows, as typed
        for key, marker in (("1", "?[31mred?[0m"), ("2", "[bol"),
                            ("3", "build-long"), ("6", "FAKE ROW")):  # fmt: skip
            await deliberately(pilot, key)  # a screen's key, on its own
            seen[key] = await shown(pilot, lambda text, marker=marker: marker in text)
        app.action_show("logs", "hub")
        seen["logs"] = await shown(pilot, lambda text: MARKUP in text)
        for key, text in seen.items():
            assert unsafe_characters(text) == set(), key
            assert LONG[:150] not in text, key
        assert ESCAPES.replace("\x1b", "?")[:12] in seen["1"] + seen["6"]  # visible, inactive
        assert "[bold red" in seen["2"] + seen["3"] + seen["6"]
