"""``binderctl --provision --demo``: an in-process world, from nothing to a healthy
member, removed when the run ends; the user's own files are not touched."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from binderctl.auth import TOKEN_ENV
from binderctl.config import ENDPOINT_ENV
from binderctl.paths import CONFIG_ENV, HOME_ENV
from tests.kit.cli import BINDERCTL, CLI_TIMEOUT
from tests.provision.provisionkit import HEALTHY, STEP_NAMES


def test_provision_demo_brings_a_member_up_in_a_world_of_its_own(tmp_path: Path) -> None:
    home = tmp_path / "user"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BINDERCTL_", "HCLOUD"))}
    for name in (TOKEN_ENV, ENDPOINT_ENV, CONFIG_ENV, HOME_ENV, "KUBECONFIG", "SSH_AUTH_SOCK"):
        env.pop(name, None)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), TMPDIR=str(tmp_path))
    done = subprocess.run(
        [str(BINDERCTL), "--provision", "--demo", "-o", "json"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary = json.loads(done.stdout)
    assert summary["health"] == HEALTHY
    assert [s["step"] for s in summary["steps"]] == STEP_NAMES
    found = re.search(r"demo world in (\S+) \(removed when this run ends\)", done.stderr)
    assert found is not None
    folder = Path(found.group(1))
    assert folder.parent == tmp_path and not folder.exists()
    assert summary["kubeconfig"].startswith(str(folder))
    assert list(home.iterdir()) == []
