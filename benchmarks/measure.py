"""What every benchmark reports: a figure, its baseline measured side by side, a target.

A benchmark measures its figure and its baseline in the same repeat, one after the
other, so that whatever else the machine is doing weighs on both; a ``Row`` keeps every
sample and reports the medians and their ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Target:
    """``figure <= factor * baseline + plus`` (``at_least``: ``>=``)."""

    factor: float
    plus: float = 0.0
    at_least: bool = False

    def bound(self, baseline: float) -> float:
        return self.factor * baseline + self.plus

    def met(self, figure: float, baseline: float) -> bool:
        bound = self.bound(baseline)
        return figure >= bound if self.at_least else figure <= bound

    def describe(self, unit: str) -> str:
        sign = ">=" if self.at_least else "<="
        if not self.factor:
            return f"{sign} {self.plus:g} {unit}"
        if not self.plus:
            return f"{sign} {self.factor:g}x"
        return f"{sign} {self.factor:g}x + {self.plus:g} {unit}"


@dataclass
class Row:
    """One line of the results: ``name`` within ``benchmark``, in ``unit``."""

    benchmark: str
    name: str
    figure_label: str
    baseline_label: str
    unit: str
    target: Target
    figures: list[float] = field(default_factory=list)
    baselines: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: float, baseline: float) -> None:
        self.figures.append(figure)
        self.baselines.append(baseline)

    @property
    def figure(self) -> float:
        return statistics.median(self.figures)

    @property
    def baseline(self) -> float:
        return statistics.median(self.baselines)

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool:
        return self.target.met(self.figure, self.baseline)

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "figure": self.figure,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "unit": self.unit,
            "figure_is": self.figure_label,
            "baseline_is": self.baseline_label,
            "target": self.target.describe(self.unit),
            "target_bound": self.target.bound(self.baseline),
            "met": self.met,
            "samples": {"figure": self.figures, "baseline": self.baselines},
            "notes": self.notes,
        }


def timed_run(command: Sequence[str], env: dict[str, str], timeout: float = 300.0) -> float:
    """Wall seconds of ``command`` from spawn to exit (output discarded); fails loudly."""
    started = time.perf_counter()
    result = subprocess.run(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {result.returncode}: {result.stderr.decode()[-2000:]}"
        )
    return elapsed


def rss_mb(pid: int | None = None) -> float:
    """Resident memory now (not the peak) of a process, in MB (10^6 bytes)."""
    path = f"/proc/{pid or os.getpid()}/statm"
    with open(path, encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def describe_machine() -> dict[str, Any]:
    """Cores, memory, Python and architecture of this machine (for the results)."""
    import platform

    memory_kb = 0
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024**2, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
    }
