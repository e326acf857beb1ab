"""Write assets/dashboard.svg: the console on a busy simulated member.

Run: .venv/bin/python tests/tui/screenshot.py  (about 40 seconds: it lets the history fill)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from binderctl.app import BinderctlApp
from binderctl.config import MemberConfig
from binderctl.paths import HOME_ENV, assets_dir

sys.path.insert(0, str(Path(__file__).parent))
from livekit import live_member

SETTLE_SECONDS = 40


async def shoot(member: MemberConfig, target: Path) -> None:
    app = BinderctlApp(member)
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause(SETTLE_SECONDS)
        app.save_screenshot(str(target))


def main() -> None:
    os.environ[HOME_ENV] = tempfile.mkdtemp(prefix="binderctl-shot-")
    member = MemberConfig(
        name="hetzner",
        binder_host="hetzner.mybinder.org",
        hub_host="hub.hetzner.mybinder.org",
        ssh_allowed_cidrs=("203.0.113.0/24",),
        api_allowed_cidrs=("203.0.113.0/24",),
    )
    with live_member(member, sessions=60, launches_per_minute=20.0):
        asyncio.run(shoot(member, assets_dir() / "dashboard.svg"))


if __name__ == "__main__":
    main()
