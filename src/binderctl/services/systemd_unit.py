"""The systemd unit that keeps `binderctl watch` running (restarted when it dies)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

UNIT_NAME = "binderctl-watch.service"
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")

TEMPLATE = """\
[Unit]
Description=binderctl watch: alerts for the binder members of {config}
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart={command}
Restart=always
RestartSec=10
# The targets' secrets (BINDERCTL_WATCH_<TARGET>=...) and HCLOUD_TOKEN: a file of mode
# 0600, as a service has no keyring session of its own. Never put them in this unit.
EnvironmentFile=-{env_file}
Environment=PYTHONUNBUFFERED=1
NoNewPrivileges=yes
{user}
[Install]
WantedBy={wanted_by}
"""


def unit_dir(system: bool) -> Path:
    if system:
        return SYSTEM_UNIT_DIR
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "systemd" / "user"


def render(config: Path, env_file: Path, system: bool, user: str) -> str:
    command = shlex.join([sys.executable, "-m", "binderctl", "--config", str(config), "watch"])
    return TEMPLATE.format(
        config=config,
        command=command,
        env_file=env_file,
        user=f"User={user}\n" if system else "",
        wanted_by="multi-user.target" if system else "default.target",
    )


def enable_hint(system: bool) -> str:
    scope = "" if system else " --user"
    return (
        f"systemctl{scope} daemon-reload && systemctl{scope} enable --now {UNIT_NAME}\n"
        f"journalctl{scope} -u {UNIT_NAME} -f    # its structured log lines"
    )
