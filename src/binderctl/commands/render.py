"""The headless face of long operations: progress on stderr, plans and summaries.

On a terminal the running step is redrawn live (spinner, elapsed time, what it waits
for) and each finished step leaves one line; elsewhere (pipes, CI logs) the finished
lines are printed, one per step, and what a running step waits for at most every
``WAITING_EVERY`` seconds. A step's notice (the DNS records to create) is printed whole.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

from binderctl.formatting import inert, table

if TYPE_CHECKING:
    from binderctl.services.hetzner import PlanItem
    from binderctl.services.provision import ProgressEvent, Summary

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_WORDS = {"done": "done", "skipped": "ok", "failed": "FAILED"}
_MARKS = {"done": "✓", "skipped": "✓", "failed": "✗"}
WAITING_EVERY = 30.0  # seconds between two "waiting" lines of one step (not live)


class ProgressPrinter:
    """A ``ProgressEvent`` listener; ``close()`` it when the operation ends."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._lock = threading.Lock()
        self._running: tuple[str, float] | None = None
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._waiting = ""  # the running step's latest message (live)
        self._said: dict[str, float] = {}  # step -> when its last waiting line was printed

    def __call__(self, event: ProgressEvent) -> None:
        if event.notice:  # what the operator must do now: printed once, whole
            self._end()
            self._write(event.notice.rstrip("\n") + "\n")
        if event.state == "running":
            if self.live:
                self._waiting = "" if event.notice else event.message
                if self._running is None or self._running[0] != event.title:
                    self._start(event.title)
            elif event.message and not event.notice:
                now = time.monotonic()
                if now - self._said.get(event.step, -WAITING_EVERY) >= WAITING_EVERY:
                    self._said[event.step] = now
                    self._write(f"{event.title:<16} ...    {inert(event.message, 160)}\n")
            return
        if event.state == "pending":
            return
        self._end()
        mark = f"{_MARKS[event.state]} " if self.live else ""
        line = (
            f"{mark}{event.title:<16} {_WORDS[event.state]:<6} "
            f"{inert(event.message, 160)} ({event.elapsed:.1f}s)"
        )
        self._write(line + "\n")

    def close(self) -> None:
        self._end()

    def _write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text)
            self.stream.flush()

    def _start(self, title: str) -> None:
        self._end()
        self._running = (title, time.monotonic())
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        frame = 0
        while self._running is not None and not self._stop.is_set():
            title, started = self._running
            spinner = _SPINNER[frame % len(_SPINNER)]
            waiting = inert(self._waiting, 100)
            self._write(
                f"\r\x1b[2K{spinner} {title:<16} {time.monotonic() - started:5.1f}s  {waiting}"
            )
            frame += 1
            self._stop.wait(0.1)

    def _end(self) -> None:
        if self._ticker is None:
            return
        self._stop.set()
        self._ticker.join()
        self._ticker = None
        self._running = None
        self._waiting = ""
        self._write("\r\x1b[2K")


def plan_text(items: list[PlanItem]) -> str:
    rows = [[i.action, i.kind, inert(i.name, 60), inert(i.detail, 100)] for i in items]
    return table(["ACTION", "RESOURCE", "NAME", "DETAIL"], rows)


def registry_text(registry: dict[str, str]) -> str:
    user = f" as {inert(registry['username'], 60)}" if registry["username"] else ""
    return (
        f"registry {inert(registry['url'], 100)}{user}: password from "
        f"{registry['password_from']}, kept in Secret {registry['secret']} (not in the "
        "HelmChart)"
    )


def summary_text(summary: Summary) -> str:
    lines = [f"Member {summary.member} is provisioned."]
    if summary.server_id is not None:
        lines.append(
            f"  server      {summary.server_name} (id {summary.server_id}), IPv4 {summary.ipv4}"
        )
    if summary.dns:
        lines.append("  DNS         A records (keep them; checked unless --skip-dns-wait):")
        width = max(len(name) for name, _, _ in summary.dns)
        lines += [
            f"                {name:<{width}}  {kind}  {value}" for name, kind, value in summary.dns
        ]
    if summary.kubeconfig:
        expires = (summary.certificate_expires or "?")[:10]
        lines.append(
            f"  kubeconfig  {summary.kubeconfig} (client certificate expires {expires}; "
            "`binderctl renew-certs` renews it)"
        )
    if summary.health:
        checks = ", ".join(f"{inert(name, 40)} {state}" for name, state in summary.health.items())
        lines.append(f"  health      {checks}")
    for warning in summary.warnings:
        lines.append(f"  warning     {inert(warning, 400)}")
    if summary.federation:
        from binderctl.services.federation import entry_yaml

        lines.append("  federation  once DNS resolves, ask for this entry to be added under")
        lines.append(
            "              federationRedirect.hosts (mybinder.org-deploy config/prod.yaml):"
        )
        block = entry_yaml(summary.federation)
        lines += [f"                {line}" for line in block.splitlines()]
    return "\n".join(lines)
