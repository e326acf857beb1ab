"""Read-only mode: actions are hidden, and refused (and said so) however they are asked for."""

from __future__ import annotations

import json

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.screens.confirm import ConfirmScreen
from binderctl.services import catalogue
from binderctl.services.audit import audit_path
from binderctl.widgets.header import render_header
from tests.tui.tuikit import SIZE, deliberately


def shown_keys(app: BinderctlApp) -> set[str]:
    """The keys the footer shows."""
    return {key for key, active in app.screen.active_bindings.items() if active.binding.show}


def audit_records(member: MemberConfig) -> list[dict[str, object]]:
    path = audit_path(member.name)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_readonly_hides_actions_and_marks_the_header(member: MemberConfig) -> None:
    app = BinderctlApp(member, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "READ-ONLY" in render_header(app.header_state).plain
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("Screen:") for t in titles)
        assert not any(t.startswith("Action:") for t in titles)
        assert not shown_keys(app) & {"D", "U", "r", "P"}
        await deliberately(pilot, "D", "r")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await deliberately(pilot, "2")
        await pilot.pause()
        assert "ctrl+d" not in shown_keys(app)
        assert "slash" in shown_keys(app)
        await pilot.press("ctrl+d")
        await pilot.pause()
        refusals = [n for n in app._notifications if "read-only mode" in n.message]
        assert [n.title for n in refusals] == ["drain", "restart", "kill-session"]
        assert "drain (D) is refused" in refusals[0].message
    assert audit_records(member) == []  # nothing reached the runner


async def test_readonly_refuses_the_command_line(member: MemberConfig) -> None:
    app = BinderctlApp(member, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        for command in ("drain", "restart proxy", "kill jupyter-someone", "delete-builds"):
            await pilot.press("colon", *command, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmScreen)
    refusals = [n.message for n in app._notifications if "read-only mode: refused" in n.message]
    assert len(refusals) == 4
    records = audit_records(member)
    assert [r["outcome"] for r in records] == ["refused"] * 4
    assert [r["action"] for r in records] == ["drain", "restart", "kill-session", "delete-builds"]


async def test_readonly_from_the_config_is_enforced_by_the_runner(member: MemberConfig) -> None:
    from dataclasses import replace

    locked = replace(member, readonly=True)
    app = BinderctlApp(locked, readonly=False)
    async with app.run_test(size=SIZE) as pilot:
        app.perform(catalogue.request("resume"))
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert any("read-only mode: refused" in n.message for n in app._notifications)
    assert audit_records(locked)[-1]["outcome"] == "refused"
