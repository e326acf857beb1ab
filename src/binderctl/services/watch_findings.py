"""What the watcher judges for one member: the live model plus the slow reads, through
the attention policy (the console's and `binderctl status`'s), as findings to track."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from binderctl.config import Config
from binderctl.errors import BinderctlError
from binderctl.models import Attention
from binderctl.services.alert_state import Finding
from binderctl.services.watcher import (
    BUDGET_SECONDS,
    CERT_SECONDS,
    SERVER_SECONDS,
    Cached,
    MemberWatch,
)


def command_for(item: Attention, member: str, several: bool) -> str | None:
    if item.action is None:
        return None
    words = ["binderctl", item.action]
    if item.target:
        words.append(item.target)
    if several:
        words += ["--member", member]
    return " ".join(words)


def finding(item: Attention, member: str, several: bool) -> Finding:
    """The key tells apart items of one kind about different things (hub and binder
    down), not one item whose words change (3 stuck builds, then 4)."""
    subject = item.subject or item.target
    return Finding(
        key=item.kind if subject is None else f"{item.kind}:{subject}",
        kind=item.kind,
        severity=item.severity,
        text=item.text,
        command=command_for(item, member, several),
    )


class MemberJudge:
    """Judges each member from its live model (started at the first call) and the slow
    reads, each at its own pace; the models stop on ``close``."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._several = len(config.members) > 1
        self._models: list[Any] = []

    def __enter__(self) -> MemberJudge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for model in self._models:
            model.stop()
        self._models.clear()

    def _start(self, watch: MemberWatch) -> None:
        from binderctl.services.startup import connect

        try:
            watch.model = connect(watch.member)
        except BinderctlError as exc:
            watch.start_error = exc.message
            return
        self._models.append(watch.model)
        watch.start_error = None
        self._reads(watch)

    def _reads(self, watch: MemberWatch) -> None:
        from binderctl.services.budget_report import month_to_date_summary
        from binderctl.services.federation import member_verdict
        from binderctl.services.hetzner import HetznerService
        from binderctl.services.kube import client_cert_expiry

        member = watch.member
        kube = watch.model.kube
        watch.reads = {
            "cert": Cached(CERT_SECONDS, lambda: client_cert_expiry(kube.path)),
            "verdict": Cached(
                self.config.federation.check.period,
                lambda: member_verdict(self.config, member).verdict,
            ),
            "budget": Cached(BUDGET_SECONDS, lambda: month_to_date_summary(member)),
            "server": Cached(
                SERVER_SECONDS, lambda: HetznerService.for_member(member).server_flags()
            ),
        }

    def reconfigure(self, config: Config, watches: Iterable[MemberWatch]) -> None:
        self.config = config
        for watch in watches:
            if watch.model is not None:
                self._reads(watch)

    def settle(self, watches: Iterable[MemberWatch], timeout: float) -> None:
        """For one evaluation (``--once``): start each model and wait until it has
        listed and polled once (at most ``timeout`` seconds in all)."""
        deadline = time.monotonic() + timeout
        for watch in watches:
            self._start(watch)
            if watch.model is not None:
                watch.model.wait_synced(max(0.0, deadline - time.monotonic()))

    def __call__(self, watch: MemberWatch, now: float) -> list[Finding]:
        from binderctl.services.attention import Facts, judge, world_open_ports

        if watch.model is None:
            self._start(watch)
        if watch.model is None:
            text = f"the watcher cannot follow member {watch.member.name}: {watch.start_error}"
            item = Attention("watch-no-access", "error", text)
            return [finding(item, watch.member.name, self._several)]
        values = {name: read.get(now) for name, read in watch.reads.items()}
        facts = Facts(
            cert_expiry=values["cert"],
            cert_error=watch.reads["cert"].error,
            open_ports=world_open_ports(watch.member),
            observed=values["verdict"],
            pod_headroom=self.config.federation.check.pod_headroom,
            budget=values["budget"],
            server=values["server"],
        )
        state = watch.model.state()
        items = judge(state, facts, time.time())
        return [finding(item, watch.member.name, self._several) for item in items]
