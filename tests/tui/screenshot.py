"""Write assets/dashboard.svg: the console on a busy demo member.

The demo world is provisioned through the real pipeline and starts the sessions
`binderctl --demo` starts, then keeps launching; the console runs long enough for the
history plots to fill, and the picture is taken only if BinderHub's /health is OK.

Run: .venv/bin/python tests/tui/screenshot.py  (about a minute)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from binderctl.app import BinderctlApp
from binderctl.commands.default_cmd import DEMO_SESSIONS
from binderctl.config import MemberConfig, load_config
from binderctl.demo.world import in_process_world
from binderctl.paths import assets_dir

SIZE = (124, 26)
SETTLE_SECONDS = 45


async def shoot(member: MemberConfig, target: Path) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(SETTLE_SECONDS)
        health = app.model.health if app.model else None
        if health is None or not health.ok:
            raise SystemExit(f"the member is not healthy ({health}); no screenshot written")
        app.save_screenshot(str(target))


def main() -> None:
    with in_process_world(action_seconds=0.2, sessions=DEMO_SESSIONS) as world:
        world.provision()
        member = load_config(world.config_path).member(None)
        asyncio.run(shoot(member, assets_dir() / "dashboard.svg"))


if __name__ == "__main__":
    main()
