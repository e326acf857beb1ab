from dataclasses import replace
from pathlib import Path

import yaml

from binderctl.config import MemberConfig, parse_config
from binderctl.demo.member.charts import chart_archive
from binderctl.services import charts

CONFIG = """
[members.alpha]
binder_host = "alpha.example.org"
ssh_allowed_cidrs = ["203.0.113.0/24"]
launch_quota = 120
letsencrypt_email = "ops@example.org"
"""


NODE_IP = "203.0.113.7"


def member():
    return parse_config(Path("c.toml"), CONFIG).member(None)


def by_name(member_config, node_ip: str = NODE_IP) -> dict[str, dict]:
    return {c["metadata"]["name"]: c for c in charts.helm_charts(member_config, node_ip)}


def values_of(chart: dict) -> dict:
    return yaml.safe_load(chart["spec"]["valuesContent"])


def test_charts_in_install_order_in_kube_system() -> None:
    objects = charts.helm_charts(member(), NODE_IP)
    assert [c["metadata"]["name"] for c in objects] == [
        "cert-manager", "cluster-issuer", "ingress", "cryptnono", "registry", "binderhub"
    ]  # fmt: skip
    assert {c["metadata"]["namespace"] for c in objects} == {"kube-system"}
    assert all(c["spec"]["createNamespace"] for c in objects)


def test_binderhub_values_follow_the_config() -> None:
    values = values_of(by_name(member())["binderhub"])
    assert values["config"]["LaunchQuota"]["total_quota"] == 120
    assert values["config"]["BinderHub"]["hub_url"] == "https://hub.alpha.example.org"
    assert values["ingress"]["hosts"] == ["alpha.example.org"]
    assert values["jupyterhub"]["ingress"]["hosts"] == ["hub.alpha.example.org"]
    assert values["jupyterhub"]["singleuser"]["memory"] == {"guarantee": "450M", "limit": "2G"}
    assert values["jupyterhub"]["cull"]["timeout"] == 600
    assert values["jupyterhub"]["cull"]["maxAge"] == 21600


def test_no_limit_quota_is_null() -> None:
    values = values_of(by_name(replace(member(), launch_quota=None))["binderhub"])
    assert values["config"]["LaunchQuota"]["total_quota"] is None


def test_external_registry_drops_the_in_cluster_one() -> None:
    external = replace(member(), registry_url="https://registry.example.org")
    names = [c["metadata"]["name"] for c in charts.helm_charts(external, NODE_IP)]
    assert names == ["cert-manager", "cluster-issuer", "ingress", "cryptnono", "binderhub"]
    values = values_of(by_name(external)["binderhub"])
    assert values["config"]["BinderHub"]["image_prefix"] == "registry.example.org/binder-"


def test_cluster_issuer_is_a_chart_of_its_own_after_the_crds() -> None:
    """cert-manager issue 7096: a ClusterIssuer in the extraObjects of the release that
    installs the CRDs fails with "no matches for kind"; mybinder installs the CRDs first
    (deploy.py setup_certmanager) and keeps the issuer in another chart."""
    found = by_name(member())
    assert values_of(found["cert-manager"]) == {"crds": {"enabled": True}}
    name, templates = chart_archive(found["cluster-issuer"]["spec"]["chartContent"])
    assert name == "binderctl-cluster-issuer"
    issuer = yaml.safe_load(templates[0])
    assert issuer["kind"] == "ClusterIssuer"
    assert issuer["metadata"]["name"] == "letsencrypt-prod"
    assert issuer["spec"]["acme"]["email"] == "ops@example.org"


def test_every_chart_has_a_failure_policy_that_keeps_the_release() -> None:
    """helm-controller's default, reinstall, uninstalls the release after a failed
    upgrade (klipper-helm entry); abort leaves it for the operator. Only the stateless
    ClusterIssuer chart reinstalls (its first install can fail before cert-manager's
    webhook serves, and abort would then wait for ever)."""
    policies = {
        c["metadata"]["name"]: c["spec"]["failurePolicy"]
        for c in charts.helm_charts(member(), NODE_IP)
    }
    assert policies.pop("cluster-issuer") == "reinstall"
    assert set(policies.values()) == {"abort"}, policies


def test_registry_is_reached_at_the_node_address_not_localhost() -> None:
    """dind runs in a pod without host networking: localhost is the pod itself."""
    values = values_of(by_name(member())["binderhub"])
    assert values["config"]["BinderHub"]["image_prefix"] == "203.0.113.7:30500/binder-"
    assert values["registry"]["url"] == "http://203.0.113.7:30500"
    args = values["dind"]["daemonset"]["extraArgs"]
    assert "--insecure-registry=203.0.113.7:30500" in args
    assert "localhost" not in yaml.safe_dump(values)


def test_dind_takes_mybinders_mtu_and_parallel_pushes() -> None:
    args = values_of(by_name(member())["binderhub"])["dind"]["daemonset"]["extraArgs"]
    assert "--mtu=1450" in args and "--max-concurrent-uploads=32" in args
    tuned = replace(member(), dind_mtu=1400, dind_max_concurrent_uploads=8)
    args = values_of(by_name(tuned)["binderhub"])["dind"]["daemonset"]["extraArgs"]
    assert "--mtu=1400" in args and "--max-concurrent-uploads=8" in args


def test_hub_url_local_is_the_in_cluster_proxy() -> None:
    """/health's JupyterHub API check then needs no DNS and no certificate."""
    binder = values_of(by_name(member())["binderhub"])["config"]["BinderHub"]
    assert binder["hub_url_local"] == "http://proxy-public"


def test_own_traefik_keeps_websockets_for_ten_minutes() -> None:
    """mybinder: readTimeout and idleTimeout 600 on websecure ("default is 60s")."""
    ingress = by_name(member())["ingress"]
    assert ingress["spec"]["chart"] == "traefik"
    timeouts = values_of(ingress)["ports"]["websecure"]["transport"]["respondingTimeouts"]
    assert timeouts["readTimeout"] >= 600 and timeouts["idleTimeout"] >= 600
    assert values_of(ingress)["ingressClass"]["name"] == "traefik"


def test_rendering_is_stable() -> None:
    assert charts.helm_charts(member(), NODE_IP) == charts.helm_charts(member(), NODE_IP)


def test_image_builder_is_dind_the_current_way() -> None:
    values = values_of(by_name(member())["binderhub"])
    assert values["imageBuilderType"] == "dind"
    assert "dind" not in values or "enabled" not in values["dind"]


def test_the_image_cleaner_cannot_cordon_the_node() -> None:
    # enabled by the chart's default, it cordons the only node while it prunes and
    # uncordons it after (see tests/member: test_an_enabled_image_cleaner_undoes_a_cordon)
    values = values_of(by_name(member())["binderhub"])
    assert values["imageCleaner"] == {"enabled": False}


def test_sessions_reach_the_internet_on_mybinders_ports_only() -> None:
    """mybinder's netpol: egress to 0.0.0.0/0 except private ranges, on listed ports."""
    policy = values_of(by_name(member())["binderhub"])["jupyterhub"]["singleuser"]["networkPolicy"]
    assert policy["egressAllowRules"] == {"nonPrivateIPs": False}
    (rule,) = policy["egress"]
    assert [p["port"] for p in rule["ports"]] == [80, 443, 9418, 873, 1094, 1095, 16286, 4001]
    assert "169.254.169.254/32" in rule["to"][0]["ipBlock"]["except"]


def singleuser(config: MemberConfig) -> dict:
    return values_of(by_name(config)["binderhub"])["jupyterhub"]["singleuser"]


def test_with_every_port_open_sessions_still_cannot_send_mail() -> None:
    """block_smtp (mybinder's ports leave 25, 465 and 587 out): every TCP port but those,
    as NetworkPolicy port ranges, and UDP; without it, no port list at all."""
    (rule,) = singleuser(replace(member(), session_egress_ports=()))["networkPolicy"]["egress"]
    tcp = [(p["port"], p["endPort"]) for p in rule["ports"] if p["protocol"] == "TCP"]
    assert tcp == [(1, 24), (26, 464), (466, 586), (588, 65535)]
    assert {"protocol": "UDP"} in rule["ports"]
    allowed = replace(member(), session_egress_ports=(), block_smtp=False)
    (rule,) = singleuser(allowed)["networkPolicy"]["egress"]
    assert "ports" not in rule


def test_the_cloud_metadata_server_is_blocked_by_the_policy_not_iptables() -> None:
    values = singleuser(member())
    (rule,) = values["networkPolicy"]["egress"]
    assert "169.254.169.254/32" in rule["to"][0]["ipBlock"]["except"]
    assert values["cloudMetadata"] == {"blockWithIptables": False}  # as mybinder does
    open_metadata = singleuser(replace(member(), block_cloud_metadata=False))
    (rule,) = open_metadata["networkPolicy"]["egress"]
    assert "169.254.169.254/32" not in rule["to"][0]["ipBlock"]["except"]
    assert open_metadata["networkPolicy"]["egressAllowRules"]["cloudMetadataServer"] is True


def test_sessions_send_at_mybinders_egress_bandwidth() -> None:
    """mybinder's tc-init caps egress at 1mbit; here the bandwidth CNI annotation."""
    assert singleuser(member())["extraAnnotations"] == {"kubernetes.io/egress-bandwidth": "1M"}
    assert "extraAnnotations" not in singleuser(replace(member(), session_egress_bandwidth=""))


def test_cryptnono_runs_with_mybinders_detectors() -> None:
    """mybinder/values.yaml cryptnono: containers looked up in k3s's containerd and dind."""
    values = values_of(by_name(member())["cryptnono"])
    flow = values["detectors"]["tcpflowkiller"]
    assert flow["enabled"] and flow["config"]["FlowKiller"]["unique_destinations_threshold"] == 24
    for detector in ("tcpflowkiller", "execwhacker"):
        assert values["detectors"][detector]["containerdHostPath"] == (
            "/run/k3s/containerd/containerd.sock"
        )
        assert values["detectors"][detector]["dockerHostPath"] == "/run/dind/docker.sock"
    names = [
        c["metadata"]["name"]
        for c in charts.helm_charts(replace(member(), cryptnono=False), NODE_IP)
    ]
    assert "cryptnono" not in names


def test_provisioning_keeps_the_banned_repositories() -> None:
    """`binderctl ban` puts banned_specs into the chart's values; applying the config's
    charts again (`--provision`) keeps them, as it keeps a drained member's quota."""
    chart = by_name(member())["binderhub"]
    current = values_of(chart)
    current["config"]["GitHubRepoProvider"] = {"banned_specs": ["^org/repo(?:\\.git)?/"]}
    charts.keep_bans(chart, {"valuesContent": yaml.safe_dump(current)})
    assert values_of(chart)["config"]["GitHubRepoProvider"] == {
        "banned_specs": ["^org/repo(?:\\.git)?/"]
    }
    plain = by_name(member())["binderhub"]
    charts.keep_bans(plain, {"valuesContent": yaml.safe_dump(values_of(plain))})
    assert plain == by_name(member())["binderhub"]  # nothing banned: unchanged
