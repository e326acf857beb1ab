"""The pure parts of abuse response: ban patterns as BinderHub matches them, rates over
the window, the suspicion rules, and reading the kubelet's answers."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote

import pytest

from binderctl.errors import UsageError
from binderctl.models import Session, SessionTraffic
from binderctl.services import abuse, bans
from binderctl.services.kubelet_stats import PodCounters, parse_packets, parse_summary
from binderctl.services.repos import GIT, GITHUB, GITLAB, ban_patterns, repo_url
from binderctl.services.traffic import TrafficIndex, rates


def banned(pattern: str, spec: str) -> bool:
    """binderhub ``RepoProvider.is_banned``: re.match, ignoring case."""
    return re.match(pattern, spec, re.IGNORECASE) is not None


@pytest.mark.parametrize(
    ("spec", "hit"),
    [
        ("org/repo/HEAD", True),
        ("org/repo/0123abcd", True),
        ("ORG/Repo/main", True),
        ("org/repo.git/main", True),
        ("org/repo-two/HEAD", False),
        ("org/repo2/HEAD", False),
        ("org/re/HEAD", False),
        ("other/org/repo/HEAD", False),
        ("org2/repo/HEAD", False),
    ],
)
def test_a_github_ban_matches_that_repository_only(spec: str, hit: bool) -> None:
    assert banned(ban_patterns("org/repo")[GITHUB], spec) is hit


def test_the_git_provider_is_banned_too_escaped_or_not() -> None:
    pattern = ban_patterns("https://github.com/org/repo")[GIT]
    for url in ("https://github.com/org/repo", "http://github.com/org/repo.git"):
        assert banned(pattern, f"{quote(url, safe='')}/HEAD")
        assert banned(pattern, f"{quote(url, safe='').lower()}/main")
    assert not banned(pattern, f"{quote('https://github.com/org/repository', safe='')}/HEAD")
    assert not banned(pattern, f"{quote('https://github.com/org2/repo', safe='')}/HEAD")


def test_gitlab_and_other_hosts() -> None:
    lab = ban_patterns("https://gitlab.com/group/sub/project")
    assert set(lab) == {GITLAB, GIT}
    assert banned(lab[GITLAB], "group%2Fsub%2Fproject/main")
    assert not banned(lab[GITLAB], "group%2Fsub%2Fproject-x/main")
    assert set(ban_patterns("https://git.example.org/a/b")) == {GIT}


@pytest.mark.parametrize("text", ["", "repo", "ftp://x.org/a/b", "https://github.com/a", "a b/c"])
def test_what_is_not_a_repository(text: str) -> None:
    with pytest.raises(UsageError):
        repo_url(text)


def test_repository_urls_are_one_form() -> None:
    assert repo_url("org/repo") == "https://github.com/org/repo"
    assert repo_url("https://www.GitHub.com/org/repo.git/") == "https://github.com/org/repo"
    assert repo_url("gitlab.com/g/p") == "https://gitlab.com/g/p"


def test_bans_keep_the_patterns_binderctl_did_not_set() -> None:
    values = {"config": {GITHUB: {"banned_specs": ["^mine/by-hand/"]}}}
    ban = bans.new_ban("org/repo", "mining", "alice", 1.0)
    bans._set_specs(values, [], [ban])
    assert values["config"][GITHUB]["banned_specs"] == ["^mine/by-hand/", ban.patterns[GITHUB]]
    bans._set_specs(values, [ban], [])
    assert values["config"] == {GITHUB: {"banned_specs": ["^mine/by-hand/"]}}


def counters(time: float, tx: int, cpu_seconds: float, **more: object) -> PodCounters:
    base = PodCounters(
        "ns", "p", "u", 1000.0, time, rx_bytes=2 * tx, tx_bytes=tx, cpu_time=time,
        cpu_cores=1.0, cpu_seconds=cpu_seconds, cpu_start=1000.0, tx_packets=tx // 100,
    )  # fmt: skip
    return replace(base, **more)  # type: ignore[arg-type]


def test_rates_over_the_window_and_since_the_start() -> None:
    first, last = counters(1100.0, 10_000, 50.0), counters(1160.0, 70_000, 110.0)
    found = rates(first, last)
    assert (found.tx, found.rx, found.tx_packets, found.cpu) == (1000.0, 2000.0, 10.0, 1.0)
    assert found.window == 60.0
    alone = rates(last, last)  # one sample: averages since the pod started
    assert (alone.tx, alone.cpu, alone.window) == (70_000 / 160, 110 / 160, 0.0)


def test_the_window_slides_and_starts_again_after_a_restart() -> None:
    emitted: list[tuple[str, object]] = []
    index = TrafficIndex(lambda kind, key, old, new: emitted.append((key, new)), window=60.0)
    for second in range(0, 200, 10):
        index.apply({"ns/p": counters(1000.0 + second, 100 * second, second)}, {"ns/p": 1.0})
    window = index.samples["ns/p"]
    assert window[-1].time - window[0].time == 60.0  # the oldest sample still in the window
    index.apply({"ns/p": counters(1300.0, 5, 1.0, uid="u2")}, {"ns/p": 1.0})
    assert len(index.samples["ns/p"]) == 1
    index.apply({}, {})
    assert "ns/p" not in index.rows and emitted[-1] == ("ns/p", None)


def traffic(pod: str, **figures: float | None) -> SessionTraffic:
    base = SessionTraffic(pod, 1000.0, 2000.0, 5.0, 0.02, 1.0, 0.05, samples=3, window=60.0)
    return replace(base, **figures)  # type: ignore[arg-type]


def session(pod: str, repo: str) -> Session:
    return Session(pod, "binderhub", pod, repo, "HEAD", 0.0, "Running")


def test_the_miner_and_the_scanner_rank_first_with_their_reasons() -> None:
    sessions = {f"binderhub/s{i}": session(f"s{i}", "https://github.com/a/b") for i in range(20)}
    sessions["binderhub/miner"] = session("miner", "https://github.com/x/mine")
    sessions["binderhub/miner2"] = session("miner2", "https://github.com/x/mine")
    sessions["binderhub/scan"] = session("scan", "https://github.com/y/scan")
    figures = {key: traffic(s.pod) for key, s in sessions.items()}
    figures["binderhub/miner"] = traffic("miner", cpu=0.99)
    figures["binderhub/scan"] = traffic("scan", tx_packet_rate=3000.0, tx_rate=192_000.0)
    ranked = abuse.rank(sessions, figures)
    assert [s.session.pod for s in ranked[:2]] == ["scan", "miner"]
    assert ranked[0].signals == ("scanning", "traffic") and ranked[1].signals == ("mining",)
    assert "CPU at 99% of its limit" in ranked[1].reasons[0]
    assert [s.pod for s in ranked[1].siblings] == ["miner2"]
    assert not any(s.flagged for s in ranked[2:])
    assert [s.session.pod for s in ranked if s.flagged] == ["scan", "miner"]


def test_the_norm_needs_enough_sessions() -> None:
    few = [traffic(str(i), tx_rate=50_000.0) for i in range(abuse.NORM_MIN_SESSIONS - 1)]
    assert abuse.norm(few) == abuse.NORM_FLOOR
    busy = [traffic(str(i), tx_rate=50_000.0) for i in range(abuse.NORM_MIN_SESSIONS)]
    assert abuse.norm(busy) == 500_000.0


def test_the_kubelets_answers_are_read_leniently() -> None:
    summary = {
        "pods": [
            {
                "podRef": {"name": "p", "namespace": "ns", "uid": "u"},
                "startTime": "2026-01-01T00:00:00Z",
                "containers": [
                    {"name": "c", "startTime": "2026-01-01T00:00:10Z",
                     "cpu": {"time": "2026-01-01T00:01:00Z", "usageNanoCores": 5 * 10**8,
                             "usageCoreNanoSeconds": 25 * 10**9}},
                ],
                "network": {"time": "2026-01-01T00:01:00Z", "rxBytes": 10, "txBytes": 20},
            },
            {"podRef": {}},
            "nonsense",
        ]
    }  # fmt: skip
    (pod,) = parse_summary(summary).values()
    assert (pod.key, pod.tx_bytes, pod.cpu_cores, pod.cpu_seconds) == ("ns/p", 20, 0.5, 25.0)
    assert pod.cpu_start == pod.start + 10
    text = "\n".join(
        [
            "# TYPE container_network_transmit_packets_total counter",
            'container_network_transmit_packets_total{id="/kubepods/x",interface="eth0",'
            'namespace="ns",pod="p"} 7 1767225660000',
            'container_network_transmit_packets_total{id="/kubepods/x/y",interface="eth0",'
            'namespace="ns",pod="p"} 9 1767225660000',
            'container_network_receive_packets_total{namespace="ns",pod="p"} 3',
            'container_network_transmit_bytes_total{namespace="ns",pod="p"} 1000',
            "container_network_transmit_packets_total{broken",
        ]
    )
    assert parse_packets(text) == {"ns/p": {"tx_packets": 9, "rx_packets": 3}}


def test_the_same_reading_twice_is_one_sample() -> None:
    index = TrafficIndex(lambda *change: None)
    for _ in range(3):
        index.apply({"ns/p": counters(1100.0, 10_000, 50.0)}, {"ns/p": 1.0})
    assert len(index.samples["ns/p"]) == 1
    assert index.rows["ns/p"].tx_rate == 10_000 / 100  # since it started
