"""What the benchmarks share: the options, and the busy demo member (started on first use)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from benchmarks.capture import Capture, capture_pod_watch
from benchmarks.member import MemberProcess
from binderctl.config import MemberConfig, load_config
from binderctl.demo import DEMO_SPEED

BINDERCTL = str(Path(sys.executable).with_name("binderctl"))


@dataclass(frozen=True)
class Options:
    sessions: int
    quick: bool
    repeat: int | None  # None: each benchmark's own default


class Suite:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.base_env = dict(os.environ)  # before the member's environment is applied
        self._member: MemberProcess | None = None

    def repeats(self, full: int, quick: int) -> int:
        """How often to repeat a benchmark: ``--repeat``, else its own full or quick count."""
        if self.options.repeat is not None:
            return self.options.repeat
        return quick if self.options.quick else full

    def scaled(self, full: int, quick: int) -> int:
        """A size (line counts and the like): small with ``--quick``."""
        return quick if self.options.quick else full

    @property
    def member(self) -> MemberProcess:
        """The demo member (at ``binderctl demo``'s speed), provisioned, sized for the
        sessions, which start with ``capture``; its environment becomes this process's."""
        if self._member is None:
            self._member = MemberProcess(self.options.sessions, DEMO_SPEED)
            os.environ.update(self._member.env)
        return self._member

    @property
    def env(self) -> dict[str, str]:
        return self.member.env

    @cached_property
    def member_config(self) -> MemberConfig:
        return load_config(Path(self.env["BINDERCTL_CONFIG"])).member(None)

    @cached_property
    def capture(self) -> Capture:
        """The pod watch stream of the member while its sessions started (they start here)."""
        from binderctl.services.kube import Kube

        member = self.member
        with Kube(self.member_config) as kube:
            return capture_pod_watch(kube, lambda: member.command("start_sessions"))

    def busy_member(self) -> MemberProcess:
        """The member once its sessions run."""
        assert self.capture.events
        return self.member

    @contextlib.contextmanager
    def member_with(self, sessions: int) -> Iterator[tuple[MemberProcess, MemberConfig]]:
        """A member of its own (stopped after) whose ``sessions`` sessions have just
        started (the busy member's thin out as the suite runs), and its config;
        meanwhile this process's environment points at it."""
        saved = dict(os.environ)
        with MemberProcess(sessions, DEMO_SPEED, self.base_env) as member:
            member.command("start_sessions")
            os.environ.update(member.env)
            try:
                config = load_config(Path(member.env["BINDERCTL_CONFIG"])).member(None)
                yield member, config
            finally:
                os.environ.clear()
                os.environ.update(saved)

    def close(self) -> None:
        if self._member is not None:
            self._member.stop()
            self._member = None
