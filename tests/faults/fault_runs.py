"""One provisioning run under faults, and the tally of many.

``provision_run(seed, via)`` starts a fresh demo world, arms the faults drawn from
``seed``, provisions the member (the real ``binderctl --provision --yes`` as a
subprocess, or the pipeline in-process with a short client timeout), and if that
failed, checks the message was clear, clears the faults and runs again: the resume
must finish. Then Hetzner's resources are compared with ``provision.json``.
"""

from __future__ import annotations

import random
import subprocess
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from binderctl.auth import hetzner_token
from binderctl.config import load_config
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.errors import BinderctlError
from binderctl.services.hetzner import HetznerService
from binderctl.services.provision import provision
from tests.faults.fault_catalogue import draw
from tests.faults.fault_checks import Findings, inspect_member
from tests.faults.faultworld import OPTIONS
from tests.kit.cli import run_cli

Via = Literal["cli", "in-process"]
CLIENT_TIMEOUT = (2.0, 1.0)  # in-process: (connect, read) seconds, so held answers time out
STEP_TIMEOUT = 120.0  # the longest wait of any one step
CLI_TIMEOUT = 300.0  # a CLI run that takes longer counts as hung


@dataclass(frozen=True)
class Attempt:
    ok: bool
    message: str = ""  # what the operator was told when it failed
    clear: bool = True  # a one-line error (with a hint), no traceback


@dataclass(frozen=True)
class RunRecord:
    seed: int
    via: Via
    faults: str
    hits: dict[str, int]
    first: Attempt
    resumed: Attempt | None
    findings: Findings


def _in_process(world: DemoWorld) -> Attempt:
    with world.environment():
        member = load_config(world.config_path).member(MEMBER)
        service = HetznerService(member, hetzner_token(member.name), timeout=CLIENT_TIMEOUT)
        try:
            provision(member, service, lambda event: None, timeout=STEP_TIMEOUT)
        except BinderctlError as exc:
            return Attempt(False, str(exc))
        except Exception:  # what the CLI would show as a traceback
            return Attempt(False, traceback.format_exc(), clear=False)
    return Attempt(True)


def _cli(world: DemoWorld) -> Attempt:
    try:
        done = run_cli(world, "--provision", "--yes", timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Attempt(False, f"no answer within {CLI_TIMEOUT:g}s", clear=False)
    if done.returncode == 0:
        return Attempt(True)
    errors = [line for line in done.stderr.splitlines() if line.startswith("binderctl: ")]
    clear = done.returncode in (1, 2) and bool(errors) and "Traceback" not in done.stderr
    return Attempt(False, done.stderr.strip() if not clear else errors[-1], clear)


def attempt(world: DemoWorld, via: Via) -> Attempt:
    return _cli(world) if via == "cli" else _in_process(world)


def provision_run(seed: int, via: Via) -> RunRecord:
    plan = draw(random.Random(seed), client_timeout=None if via == "cli" else CLIENT_TIMEOUT[1])
    with DemoWorld(seed=seed, **OPTIONS) as world:
        plan.arm(world)
        first = attempt(world, via)
        plan.disarm(world)
        resumed = None if first.ok else attempt(world, via)
        return RunRecord(
            seed, via, plan.describe(), plan.hits(world), first, resumed, inspect_member(world)
        )


@dataclass
class Tally:
    runs: int = 0
    via: Counter[str] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)
    completed: int = 0  # at the first attempt, faults and all
    failed_then_resumed: int = 0
    resume_failed: int = 0
    unclear: int = 0  # a failure shown with a traceback, or without a message
    duplicates: int = 0
    orphans: int = 0
    unsound: int = 0  # runs that left more or less than one server, or a bad state file
    notes: list[str] = field(default_factory=list)

    def add(self, record: RunRecord) -> None:
        self.runs += 1
        self.via[record.via] += 1
        self.hits.update(record.hits)
        found = record.findings
        self.duplicates += found.duplicates
        self.orphans += len(found.orphans)
        label = f"seed {record.seed} ({record.via}, {record.faults})"
        if record.first.ok:
            self.completed += 1
        elif record.resumed is not None and record.resumed.ok:
            self.failed_then_resumed += 1
        else:
            self.resume_failed += 1
            message = record.resumed.message if record.resumed else "?"
            self.notes.append(f"{label}: the resume failed: {message}")
        for tried in (record.first, record.resumed):
            if tried is not None and not tried.clear:
                self.unclear += 1
                self.notes.append(f"{label}: unclear failure:\n{tried.message}")
        if not found.sound:
            self.unsound += 1
            self.notes.append(f"{label}: {found}")

    @property
    def injected(self) -> int:
        return sum(self.hits.values())

    @property
    def clean(self) -> bool:
        return not (
            self.resume_failed or self.unclear or self.duplicates or self.orphans or self.unsound
        )

    def report(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.hits.items()))
        via = ", ".join(f"{name} {count}" for name, count in sorted(self.via.items()))
        lines = [
            f"runs                 {self.runs} ({via})",
            f"faults injected      {self.injected} ({kinds})",
            f"completed            {self.completed}",
            f"failed-then-resumed  {self.failed_then_resumed}",
            f"resume failed        {self.resume_failed}",
            f"unclear failures     {self.unclear}",
            f"duplicates           {self.duplicates}",
            f"orphans              {self.orphans}",
            f"unsound end states   {self.unsound}",
        ]
        return "\n".join(lines + self.notes)
