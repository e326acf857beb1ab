"""From nothing to a healthy member with the real ``binderctl --provision``, and a
second run that changes nothing."""

from __future__ import annotations

import json
import shutil
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from kubernetes import client, config

from binderctl.demo.kube import types
from binderctl.demo.world import BINDER_HOST, HTTPS_PORT, DemoWorld
from tests.kit.cli import run_cli
from tests.kit.worlds import ONE_OF_EACH, kubectl, labelled
from tests.provision.provisionkit import HEALTHY, STEP_NAMES, assert_clean, provision_through


def helm_chart_versions(kubeconfig: Path) -> dict[str, str]:
    """Each HelmChart's resourceVersion, read with the kubernetes client."""
    api = client.CustomObjectsApi(config.new_client_from_config(str(kubeconfig)))
    listed = api.list_namespaced_custom_object("helm.cattle.io", "v1", "kube-system", "helmcharts")
    return {c["metadata"]["name"]: c["metadata"]["resourceVersion"] for c in listed["items"]}


def test_from_nothing_to_healthy(world: DemoWorld) -> None:
    done = run_cli(world, "--provision", "--yes", "-o", "json")
    assert done.returncode == 0, done.stderr
    assert_clean(world, done.stdout, done.stderr)
    summary = json.loads(done.stdout)
    assert summary["health"] == HEALTHY
    assert [s["step"] for s in summary["steps"]] == STEP_NAMES
    assert {s["state"] for s in summary["steps"]} == {"done"}
    assert not any(s["verified"] for s in summary["steps"])
    kubeconfig = Path(summary["kubeconfig"])
    assert kubeconfig == world.kubeconfig_path
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert stat.S_IMODE(kubeconfig.parent.stat().st_mode) == 0o700
    expires = datetime.fromisoformat(summary["certificate_expires"])
    assert expires > datetime.now(UTC) + timedelta(days=300)  # k3s: one year
    url = f"https://{BINDER_HOST}:{HTTPS_PORT}"
    assert summary["federation"] == {  # an entry of mybinder.org-deploy config/prod.yaml
        "demo": {
            "prime": False,
            "url": url,
            "weight": 50,
            "health": f"{url}/health",
            "versions": f"{url}/versions",
        }
    }
    assert summary["warnings"] == []  # the demo's prime: same versions
    ipv4 = summary["server"]["ipv4"]
    assert {(r["name"], r["value"]) for r in summary["dns"]} == {
        (BINDER_HOST, ipv4),
        (f"*.{BINDER_HOST}", ipv4),
    }
    assert labelled(world) == ONE_OF_EACH
    options = world.cluster().member.options  # what k3s on the node started with
    assert options.disabled == ("traefik",)
    assert options.plain_http_registries == (f"{ipv4}:30500",)
    if shutil.which("kubectl") is not None:  # the outside check of the kubeconfig
        assert kubectl(world, "get", "nodes", "-o", "name").split() == ["node/binderctl-demo"]
        ready = kubectl(
            world, "-n", "binderhub", "get", "deployments",
            "-o", "jsonpath={.items[*].status.readyReplicas}",
        )  # fmt: skip
        assert ready.split() == ["1", "1", "1"]
        assert_install_is_real(
            yaml.safe_load(kubectl(world, "get", "helmchart", "-A", "-o", "yaml"))
        )


def assert_install_is_real(listed: dict) -> None:
    """What `kubectl get helmchart -A -o yaml` must show on a provisioned member (issue 13)."""
    by_name = {c["metadata"]["name"]: c for c in listed["items"]}
    assert sorted(by_name) == [
        "binderhub", "cert-manager", "cluster-issuer", "cryptnono", "ingress", "registry"
    ]  # fmt: skip
    policies = {name: c["spec"].get("failurePolicy") for name, c in by_name.items()}
    assert policies.pop("cluster-issuer") == "reinstall"  # stateless: see services/charts.py
    assert set(policies.values()) == {"abort"}, policies
    values = {
        name: yaml.safe_load(c["spec"].get("valuesContent") or "{}") for name, c in by_name.items()
    }
    prefix = values["binderhub"]["config"]["BinderHub"]["image_prefix"]
    assert not prefix.startswith("localhost") and prefix.endswith(":30500/binder-")
    assert "ClusterIssuer" not in yaml.safe_dump(values["cert-manager"])
    websecure = values["ingress"]["ports"]["websecure"]["transport"]["respondingTimeouts"]
    assert min(websecure["readTimeout"], websecure["idleTimeout"]) >= 600


def test_a_second_run_changes_nothing(world: DemoWorld) -> None:
    first = run_cli(world, "--provision", "--yes")
    assert first.returncode == 0, first.stderr
    text = first.stdout
    assert "Member demo is provisioned." in text
    assert f"*.{BINDER_HOST}" in text
    assert f"kubeconfig  {world.kubeconfig_path}" in text
    assert "Docker registry ok, JupyterHub API ok, Pod quota ok" in text
    assert f"versions: https://{BINDER_HOST}:{HTTPS_PORT}/versions" in text  # the snippet
    charts = helm_chart_versions(world.kubeconfig_path)
    kubeconfig = world.kubeconfig_path.read_bytes()
    for method in ("POST", "PUT", "DELETE"):  # any change at Hetzner would now fail
        world.hetzner.faults.fail(method, ".*", times=10**6, status=403)
    second = run_cli(world, "--provision", "--yes", "-o", "json")
    assert second.returncode == 0, second.stderr
    assert_clean(world, first.stdout, first.stderr, second.stdout, second.stderr)
    after = json.loads(second.stdout)
    assert [(s["step"], s["state"], s["verified"]) for s in after["steps"]] == [
        (name, "done", True) for name in STEP_NAMES
    ]
    charts_step = next(s for s in after["steps"] if s["step"] == "charts")
    assert charts_step["message"] == (
        "cert-manager unchanged, cluster-issuer unchanged, ingress unchanged, cryptnono unchanged, "
        "registry unchanged, binderhub unchanged"
    )
    assert after["server"]["ipv4"] in text
    assert after["health"] == HEALTHY
    assert labelled(world) == ONE_OF_EACH
    assert helm_chart_versions(world.kubeconfig_path) == charts
    assert world.kubeconfig_path.read_bytes() == kubeconfig


def test_a_node_with_k3s_bundled_traefik_is_refused_before_the_charts(world: DemoWorld) -> None:
    """A member installed before --disable=traefik: two traefiks would fight over 80/443."""
    provision_through(world, "kubeconfig")
    bundled = {
        "metadata": {"name": "traefik", "namespace": "kube-system"},
        "spec": {"chart": "https://%{KUBERNETES_API}%/static/charts/traefik.tgz"},
    }
    cluster = world.cluster()
    assert world.runtime is not None

    async def create() -> None:  # on the world's loop, where the member runs
        cluster.member.writer.create(types.HELMCHARTS, bundled)

    world.runtime.run(create())
    failed = run_cli(world, "--provision", "--yes")
    assert failed.returncode == 1, failed.stderr
    assert "k3s on this node still deploys its bundled traefik" in failed.stderr
    assert "disable: [traefik]" in failed.stderr
    assert "Traceback" not in failed.stderr
