"""kubectl apply, create and explain with validation on (kubectl's default): the server
publishes OpenAPI v3, kubectl sees it validates fields itself and leaves that to it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.kube.kube_cluster import Cluster
from tests.kube.kube_kubectl import Kubectl, needs_kubectl

pytestmark = needs_kubectl

SETTINGS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  greeting: hello
"""
WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
"""


@pytest.fixture
def kubectl(cluster: Cluster, tmp_path: Path) -> Kubectl:
    return Kubectl(cluster, tmp_path / "home")


def _apply(
    kubectl: Kubectl, manifest: str, *flags: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return kubectl("apply", *flags, "-f", "-", stdin=manifest, check=check)


def test_apply_creates_leaves_unchanged_and_configures(cluster: Cluster, kubectl: Kubectl) -> None:
    both = SETTINGS + "---\n" + WEB
    created = _apply(kubectl, both)
    assert created.stdout.split("\n")[:2] == [
        "configmap/settings created",
        "deployment.apps/web created",
    ]
    assert created.stderr == ""
    again = _apply(kubectl, both)
    assert again.stdout.split("\n")[:2] == [
        "configmap/settings unchanged",
        "deployment.apps/web unchanged",
    ]
    # No "error calculating patch from openapi v3 spec": the served schemas were enough.
    assert again.stderr == ""
    changed = SETTINGS.replace("hello", "bonjour") + "---\n" + WEB.replace("1.27", "1.28")
    configured = _apply(kubectl, changed)
    assert configured.stdout.split("\n")[:2] == [
        "configmap/settings configured",
        "deployment.apps/web configured",
    ]
    assert configured.stderr == ""
    assert cluster.core.read_namespaced_config_map("settings", "default").data == {
        "greeting": "bonjour"
    }
    containers = cluster.apps.read_namespaced_deployment("web", "default").spec.template.spec
    assert [(c.name, c.image) for c in containers.containers] == [("web", "nginx:1.28")]
    assert containers.containers[0].ports[0].container_port == 80  # merged, not replaced


def test_apply_strict_fails_with_the_servers_error(cluster: Cluster, kubectl: Kubectl) -> None:
    unknown = WEB.replace("  replicas: 1\n", "  replicas: 1\n  foo: bar\n")
    refused = _apply(kubectl, unknown, "--validate=strict", check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" '
        'cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"'
    )
    _apply(kubectl, WEB)
    patched = _apply(kubectl, unknown, check=False)  # strict is kubectl's default
    assert patched.returncode == 1
    assert patched.stderr.startswith('The request is invalid: patch: Invalid value: "map[')
    assert patched.stderr.strip().endswith('strict decoding error: unknown field "spec.foo"')
    assert cluster.apps.read_namespaced_deployment("web", "default").spec.replicas == 1


def test_apply_warn_drops_the_unknown_field_with_a_warning(
    cluster: Cluster, kubectl: Kubectl
) -> None:
    unknown = SETTINGS.replace("  namespace: default\n", "  namespace: default\n  colour: red\n")
    done = _apply(kubectl, unknown, "--validate=warn")
    assert done.stdout.strip() == "configmap/settings created"
    assert done.stderr.strip() == 'Warning: unknown field "metadata.colour"'
    _, stored, _ = cluster.raw("GET", "/api/v1/namespaces/default/configmaps/settings")
    assert "colour" not in stored["metadata"] and stored["data"] == {"greeting": "hello"}


def test_create_from_a_file(cluster: Cluster, kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "settings.yaml"
    manifest.write_text(SETTINGS)
    assert kubectl("create", "-f", str(manifest)).stdout.strip() == "configmap/settings created"
    assert cluster.core.read_namespaced_config_map("settings", "default").data == {
        "greeting": "hello"
    }
    twice = kubectl("create", "-f", str(manifest), check=False)
    assert twice.returncode == 1 and 'configmaps "settings" already exists' in twice.stderr


def test_explain_reads_the_served_schemas(kubectl: Kubectl) -> None:
    explained = kubectl("explain", "configmap").stdout
    assert explained.startswith("KIND:       ConfigMap\nVERSION:    v1\n")
    assert "ConfigMap holds configuration data for pods to consume." in explained
    assert "  data\t<map[string]string>" in explained
    ports = kubectl("explain", "deployment.spec.template.spec.containers.ports").stdout
    assert "FIELD: ports <[]ContainerPort>" in ports
    assert "containerPort\t<integer> -required-" in ports
