from dataclasses import replace
from pathlib import Path

import yaml

from binderctl.config import parse_config
from binderctl.services import charts

CONFIG = """
[members.alpha]
binder_host = "alpha.example.org"
ssh_allowed_cidrs = ["203.0.113.0/24"]
launch_quota = 120
letsencrypt_email = "ops@example.org"
"""


def member():
    return parse_config(Path("c.toml"), CONFIG).member(None)


def values_of(chart: dict) -> dict:
    return yaml.safe_load(chart["spec"]["valuesContent"])


def test_charts_in_install_order_in_kube_system() -> None:
    objects = charts.helm_charts(member())
    assert [c["metadata"]["name"] for c in objects] == ["cert-manager", "registry", "binderhub"]
    assert {c["metadata"]["namespace"] for c in objects} == {"kube-system"}
    assert all(c["spec"]["createNamespace"] for c in objects)


def test_binderhub_values_follow_the_config() -> None:
    values = values_of(charts.helm_charts(member())[-1])
    assert values["config"]["LaunchQuota"]["total_quota"] == 120
    assert values["config"]["BinderHub"]["hub_url"] == "https://hub.alpha.example.org"
    assert values["ingress"]["hosts"] == ["alpha.example.org"]
    assert values["jupyterhub"]["ingress"]["hosts"] == ["hub.alpha.example.org"]
    assert values["jupyterhub"]["singleuser"]["memory"] == {"guarantee": "450M", "limit": "2G"}
    assert values["jupyterhub"]["cull"]["timeout"] == 600
    assert values["jupyterhub"]["cull"]["maxAge"] == 21600


def test_no_limit_quota_is_null() -> None:
    values = values_of(charts.helm_charts(replace(member(), launch_quota=None))[-1])
    assert values["config"]["LaunchQuota"]["total_quota"] is None


def test_external_registry_drops_the_in_cluster_one() -> None:
    external = replace(member(), registry_url="https://registry.example.org")
    names = [c["metadata"]["name"] for c in charts.helm_charts(external)]
    assert names == ["cert-manager", "binderhub"]
    values = values_of(charts.helm_charts(external)[-1])
    assert values["config"]["BinderHub"]["image_prefix"] == "registry.example.org/binder-"


def test_cluster_issuer_carries_the_contact_email() -> None:
    values = values_of(charts.helm_charts(member())[0])
    issuer = yaml.safe_load(values["extraObjects"][0])
    assert issuer["kind"] == "ClusterIssuer"
    assert issuer["spec"]["acme"]["email"] == "ops@example.org"


def test_rendering_is_stable() -> None:
    assert charts.helm_charts(member()) == charts.helm_charts(member())


def test_image_builder_is_dind_the_current_way() -> None:
    values = values_of(charts.helm_charts(member())[-1])
    assert values["imageBuilderType"] == "dind"
    assert "dind" not in values or "enabled" not in values["dind"]


def test_the_image_cleaner_cannot_cordon_the_node() -> None:
    # enabled by the chart's default, it cordons the only node while it prunes and
    # uncordons it after (see tests/member: test_an_enabled_image_cleaner_undoes_a_cordon)
    values = values_of(charts.helm_charts(member())[-1])
    assert values["imageCleaner"] == {"enabled": False}
