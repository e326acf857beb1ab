"""A plain (non-editable) `pip install .` in a fresh venv: the wheel carries the assets."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_plain_pip_install_in_fresh_venv(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=580,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    binderctl = env_dir / "bin" / "binderctl"
    env = {
        **os.environ,
        "BINDERCTL_HOME": str(tmp_path / "home"),
        "BINDERCTL_CONFIG": str(tmp_path / "cfg" / "config.toml"),
    }
    version = subprocess.run([str(binderctl), "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0, version.stderr
    init = subprocess.run(
        [str(binderctl), "config", "init"], capture_output=True, text=True, env=env
    )
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "cfg" / "config.toml").is_file()
    assets = subprocess.run(
        [str(python), "-c", "from binderctl.paths import assets_dir; print(assets_dir())"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    packaged = Path(assets.stdout.strip())
    assert packaged.is_relative_to(env_dir), packaged
    assert sorted(p.name for p in packaged.iterdir()) == sorted(
        p.name for p in (ROOT / "assets").iterdir()
    )
    assert sys.version_info >= (3, 11)
