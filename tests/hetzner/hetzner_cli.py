"""How the Hetzner tests run the real ``binderctl`` (the venv's entry point)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

BINDERCTL = Path(sys.executable).parent / "binderctl"
RunCli = Callable[..., subprocess.CompletedProcess[str]]
