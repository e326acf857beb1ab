"""The emulated kubelet's usage figures: the stats summary has the shape of the kubelet's
types (``stats_types``, transcribed from kubernetes), its counters agree with the rates
it reports, cAdvisor's packet counters agree with it, misbehaving sessions do what they
do, and a pod with ``kubernetes.io/egress-bandwidth`` sends no faster than that."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from binderctl.demo.kube import types
from binderctl.demo.kube.events import parse_time
from binderctl.demo.member import incidents
from binderctl.demo.member.simulation import Member, in_cluster_binderhub_chart, registry_chart
from binderctl.demo.member.usage import MINER, SCAN_PACKETS, SCANNER, SYN_BYTES
from tests.member.stats_types import check

Pods = dict[str, dict[str, Any]]
LIMITED = {"kubernetes.io/egress-bandwidth": "1M"}  # bits a second: 125,000 bytes


def pods_of(summary: dict[str, Any]) -> Pods:
    return {p["podRef"]["name"]: p for p in summary["pods"]}


def bind(member: Member, pod: str) -> None:
    """What the scheduler does (a bare member has no control plane): the pod goes to
    the node, where the kubelet runs it."""

    def to_node(obj: dict[str, Any]) -> None:
        obj["spec"]["nodeName"] = member.options.node_name

    member.store.mutate(types.PODS, "binderhub", pod, to_node)


def abused(make_member: Callable[..., Member], **options: Any) -> tuple[Member, str, str]:
    member = make_member(speed=1.0, sessions=6, **options)
    member.advance(30)
    (miner,) = incidents.misbehave(member, MINER, 1)[1]
    (scanner,) = incidents.misbehave(member, SCANNER, 1)[1]
    for pod in (miner, scanner):
        bind(member, pod)
    member.advance(60)
    return member, miner, scanner


def rate(before: dict[str, Any], after: dict[str, Any], field: str) -> float:
    seconds = parse_time(after["time"]) - parse_time(before["time"])
    return (after[field] - before[field]) / seconds


def test_the_summary_has_the_kubelets_shape(make_member: Callable[..., Member]) -> None:
    member, miner, scanner = abused(make_member)
    summary = member.kubelet_stats.summary()
    assert check(summary, "Summary") == []
    pods = pods_of(summary)
    assert {miner, scanner} <= set(pods)
    assert sum(1 for name in pods if name.startswith("jupyter-")) == 8
    assert summary["node"]["nodeName"] == member.options.node_name


def test_counters_agree_with_the_rates_reported(make_member: Callable[..., Member]) -> None:
    member, miner, scanner = abused(make_member)
    before = pods_of(member.kubelet_stats.summary())
    member.advance(60)
    after = pods_of(member.kubelet_stats.summary())
    for name, pod in after.items():
        if name not in before:
            continue
        cpu = rate(before[name]["cpu"], pod["cpu"], "usageCoreNanoSeconds")
        assert abs(cpu - pod["cpu"]["usageNanoCores"]) <= 1e-6 * max(cpu, 1e3), name
    assert 0.99e9 <= after[miner]["cpu"]["usageNanoCores"] <= 1e9  # at its limit of one core
    assert rate(before[scanner]["network"], after[scanner]["network"], "txBytes") == (
        SCAN_PACKETS * SYN_BYTES
    )
    quiet = [n for n in after if n.startswith("jupyter-") and n not in (miner, scanner)]
    assert all(after[n]["cpu"]["usageNanoCores"] < 0.7e9 for n in quiet)


def test_cadvisor_counts_the_packets_of_the_same_pods(make_member: Callable[..., Member]) -> None:
    member, _, scanner = abused(make_member)
    text = member.kubelet_stats.cadvisor()
    summary = pods_of(member.kubelet_stats.summary())  # the same (whole) second
    line = re.compile(r'(\w+)\{((?:\w+="[^"]*",?)*)\} (\d+) (\d+)')
    families: dict[str, dict[str, int]] = {}
    for row in text.splitlines():
        if row.startswith("#"):
            assert re.fullmatch(r"# (HELP|TYPE) container_network_\w+ .+", row), row
            continue
        found = line.fullmatch(row)
        assert found is not None, row
        labels = dict(re.findall(r'(\w+)="([^"]*)"', found.group(2)))
        assert set(labels) == {"container", "id", "image", "interface", "name", "namespace", "pod"}
        families.setdefault(found.group(1), {})[labels["pod"]] = int(found.group(3))
    assert (
        families["container_network_transmit_bytes_total"][scanner]
        == (summary[scanner]["network"]["txBytes"])
    )
    packets = families["container_network_transmit_packets_total"][scanner]
    assert packets == summary[scanner]["network"]["txBytes"] // SYN_BYTES


def test_a_limited_pod_sends_no_faster_than_its_bandwidth(
    make_member: Callable[..., Member],
) -> None:
    values = {
        "proxy": {"service": {"type": "ClusterIP"}},
        "singleuser": {"extraAnnotations": LIMITED},
    }
    charts = (registry_chart(), in_cluster_binderhub_chart(100, "127.0.0.1", jupyterhub=values))
    member, _, scanner = abused(make_member, charts=charts)
    pod = member.store.find(types.PODS, "binderhub", scanner)
    assert (
        pod is not None and pod["metadata"]["annotations"]["kubernetes.io/egress-bandwidth"] == "1M"
    )
    before = pods_of(member.kubelet_stats.summary())[scanner]["network"]
    member.advance(60)
    after = pods_of(member.kubelet_stats.summary())[scanner]["network"]
    assert rate(before, after, "txBytes") == 1_000_000 / 8  # capped: it wants 192,000
