"""The benchmark suite's quick run works end to end (CI runs it so that it cannot rot;
the numbers are not judged here)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# issue 8's six benchmarks, 18's two, 12's drain-to-out, 19's drills, 16's watch, 17's
# kubelet-stats
BENCHMARKS = {
    *("status", "console-start", "sessions-table", "log-view", "live-model", "provisioning"),
    *("scaling", "headless-start", "drain-to-out", "drills", "watch", "kubelet-stats"),
}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.timeout(600)
def test_quick_suite_reports_every_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=590,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    document = json.loads(out.read_text(encoding="utf-8"))
    rows = document["benchmarks"]
    assert {row["benchmark"] for row in rows.values()} == BENCHMARKS
    for name, row in rows.items():
        for key in ("figure", "baseline", "ratio"):
            assert isinstance(row[key], float) and math.isfinite(row[key]), (name, key, row)
        assert row["ratio"] == pytest.approx(row["figure"] / row["baseline"]), name
        assert isinstance(row["met"], bool) and row["target"], name
    assert {"cores", "memory_gb", "python", "machine"} <= document["machine"].keys()
    for name in rows:
        assert name in result.stdout  # the printed table
