"""Which sessions look like abuse, judged once: the Abuse view, the attention policy (so
``status``, the console's panel and the drills) and the abuse report read this.

Three signals, from the kubelet's counters over the live model's window
(``services/traffic.py``; with one sample, the averages since the session started):

- mining: the CPU at its limit, sustained: the window's average at ``MINING_SHARE`` of
  the pod's CPU limit or more (a miner keeps every core it may have busy; a person's
  notebook is idle most of the time);
- scanning: ``SCAN_PACKETS`` packets out a second or more (a port scan sends a small
  packet per probe; a notebook's websocket sends a few a second);
- far above the member's norm: bytes out at ``NORM_FACTOR`` times the member's 90th
  percentile of sessions, and at least ``NORM_FLOOR`` (a flood, or spam).

Sessions rank by ``score``: each signal found adds ``FLAG_WEIGHT``, so a flagged session
ranks above every other; then how far each figure is towards its threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from binderctl.formatting import cpu, packet_rate, rate
from binderctl.formatting import share as share_text
from binderctl.models import Session, SessionTraffic
from binderctl.services.repos import normalize_repo

MINING_SHARE = 0.9
SCAN_PACKETS = 500.0  # packets a second
NORM_FACTOR = 10.0
NORM_FLOOR = 128_000.0  # bytes a second
NORM_MIN_SESSIONS = 10  # fewer sessions with figures: no norm, the floor alone
FLAG_WEIGHT = 3.0
PART_CAP = 3.0
SIGNALS = ("mining", "scanning", "traffic")


@dataclass(frozen=True)
class Suspicion:
    """One session as judged: its signals (``mining``, ``scanning``, ``traffic``), each
    with its reason in words, and every other running session of its repository."""

    key: str
    session: Session
    traffic: SessionTraffic
    score: float
    signals: tuple[str, ...]
    reasons: tuple[str, ...]
    repo_sessions: tuple[Session, ...] = ()  # every running session of its repository

    @property
    def flagged(self) -> bool:
        return bool(self.signals)

    @property
    def siblings(self) -> tuple[Session, ...]:
        """The other running sessions of its repository."""
        return tuple(s for s in self.repo_sessions if s is not self.session)


def norm(traffic: Iterable[SessionTraffic]) -> float:
    """Bytes out a second above which a session is far above the member's norm."""
    rates = sorted(t.tx_rate for t in traffic if t.tx_rate is not None)
    if len(rates) < NORM_MIN_SESSIONS:
        return NORM_FLOOR
    p90 = rates[min(len(rates) - 1, int(0.9 * len(rates)))]
    return max(NORM_FLOOR, NORM_FACTOR * p90)


Assessed = tuple[float, tuple[str, ...], tuple[str, ...]]  # score, signals, reasons


def assess(traffic: SessionTraffic, threshold: float) -> Assessed:
    """(score, signals, reasons) of one session; ``threshold``: ``norm(...)``."""
    signals: list[str] = []
    reasons: list[str] = []
    score = 0.0
    used = traffic.cpu_share
    over = _over(traffic)
    if used is not None:
        score += min(used, PART_CAP)
        if used >= MINING_SHARE:
            signals.append("mining")
            reasons.append(
                f"CPU at {share_text(used)} of its limit ({cpu(traffic.cpu)} of "
                f"{cpu(traffic.cpu_limit)}) {over}"
            )
    packets = traffic.tx_packet_rate
    if packets is not None:
        score += min(packets / SCAN_PACKETS, PART_CAP)
        if packets >= SCAN_PACKETS:
            signals.append("scanning")
            reasons.append(f"{packet_rate(packets)} out {over}")
    sent = traffic.tx_rate
    if sent is not None:
        score += min(sent / threshold, PART_CAP)
        if sent >= threshold:
            signals.append("traffic")
            reasons.append(f"{rate(sent)} out {over}: the member's norm is under {rate(threshold)}")
    return score + FLAG_WEIGHT * len(signals), tuple(signals), tuple(reasons)


def _over(traffic: SessionTraffic) -> str:
    if traffic.samples > 1 and traffic.window:
        return f"over {traffic.window:.0f} s"
    return "on average since it started"


def rank(sessions: Mapping[str, Session], traffic: Mapping[str, SessionTraffic]) -> list[Suspicion]:
    """Every running session with figures, most suspicious first."""
    running = {k: s for k, s in sessions.items() if s.phase == "Running"}
    repos = {key: normalize_repo(each.repo) for key, each in running.items()}
    grouped: dict[str, list[Session]] = {}
    for key, repo in repos.items():
        grouped.setdefault(repo, []).append(running[key])
    by_repo = {repo: tuple(group) for repo, group in grouped.items()}
    threshold = norm(t for k, t in traffic.items() if k in running)
    found = []
    for key, figures in traffic.items():
        session = running.get(key)
        if session is None:
            continue
        score, signals, reasons = assess(figures, threshold)
        group = by_repo[repos[key]]
        found.append(Suspicion(key, session, figures, score, signals, reasons, group))
    found.sort(key=lambda s: (-s.score, s.key))
    return found
