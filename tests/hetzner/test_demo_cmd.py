"""`binderctl demo` as a subprocess: its env file, sourced in a shell, drives a plain
hcloud client and binderctl itself."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.kit.cli import BINDERCTL

CLIENT = """
import hcloud, os
client = hcloud.Client(os.environ["HCLOUD_TOKEN"],
                       api_endpoint=os.environ["BINDERCTL_HCLOUD_ENDPOINT"])
print(sorted(location.name for location in client.locations.get_all()))
"""


def clean_env() -> dict[str, str]:
    """This environment without anything that points binderctl somewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("BINDERCTL_", "HCLOUD_"))}


def start_demo(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BINDERCTL), "demo", *args],
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the demo never wrote its env file"
        time.sleep(0.05)


def in_sourced_shell(env_file: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"source {env_file} && {command}"],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_demo_env_file_drives_hcloud_and_binderctl(tmp_path: Path) -> None:
    folder, env_file = tmp_path / "demo", tmp_path / "demo.env"
    process = start_demo("--dir", str(folder), "--env-file", str(env_file))
    try:
        wait_for(env_file, process)
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        listed = in_sourced_shell(env_file, f"{sys.executable} -c '{CLIENT}'")
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.strip() == "['ash', 'fsn1', 'hel1', 'hil', 'nbg1', 'sin']"
        checked = in_sourced_shell(env_file, f"{BINDERCTL} config check -o json")
        assert json.loads(checked.stdout)["members"] == ["demo"], checked.stderr
        provisioned = in_sourced_shell(env_file, f"{BINDERCTL} --provision --yes -o json")
        assert provisioned.returncode == 0, provisioned.stderr
        assert json.loads(provisioned.stdout)["server"]["name"] == "binderctl-demo"
        assert (folder / "home" / "state" / "demo" / "provision.json").exists()
        status = in_sourced_shell(env_file, f"{BINDERCTL} auth status")
        assert "environment variable HCLOUD_TOKEN" in status.stdout
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "binderctl demo world is running" in stdout
    assert f"source {env_file}" in stdout
    assert "demo world stopped" in stderr and "Traceback" not in stderr
    assert folder.is_dir()  # a folder given with --dir is kept


def read_document(process: subprocess.Popen[str]) -> dict[str, object]:
    """The JSON document the running demo printed (it ends with a line ``}``)."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line == "}\n":
            break
    return json.loads("".join(lines))


def test_demo_in_a_temporary_folder_cleans_up() -> None:
    process = start_demo("-o", "json")
    document = read_document(process)
    folder = Path(str(document["directory"]))
    assert folder.is_dir() and document["member"] == "demo"
    env = document["env"]
    assert isinstance(env, dict)
    assert {"HCLOUD_TOKEN", "BINDERCTL_HCLOUD_ENDPOINT", "BINDERCTL_CONFIG"} <= set(env)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 0
    assert not folder.exists()


def test_provision_against_an_in_process_demo_world() -> None:
    result = subprocess.run(
        [str(BINDERCTL), "--demo", "--provision", "--yes", "-o", "json"],
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["server"]["name"] == "binderctl-demo"
    folder = Path(result.stderr.split("demo world in ", 1)[1].split(" (removed", 1)[0])
    assert not folder.exists()
