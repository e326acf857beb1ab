"""An external container registry: its password goes from the keyring (or
BINDERCTL_REGISTRY_PASSWORD) into a Secret in kube-system that the BinderHub HelmChart
names in ``spec.valuesSecrets``; never into the HelmChart, binderctl's output or files.

The keyring is a real file-backed backend (keyrings.alt) in a folder of the test's own,
outside everything the secret scan reads."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from binderctl.auth import REGISTRY_PASSWORD_ENV
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.errors import EXIT_USAGE
from binderctl.services import charts
from binderctl.services.charts import REGISTRY_SECRET, REGISTRY_SECRET_KEY
from binderctl.services.kube import Kube
from tests.kit.cli import run_cli
from tests.kit.worlds import NOTHING, labelled, member_of
from tests.provision.provisionkit import HEALTHY, STEP_NAMES, assert_clean, recorded

PASSWORD = "reg-PASSWORD-recognisable-7f3a9c"
NEW_PASSWORD = "reg-NEW-password-recognisable-51e0"
REGISTRY = "https://registry.example.org"
SECRET_REF = [{"name": REGISTRY_SECRET, "keys": [REGISTRY_SECRET_KEY]}]


@pytest.fixture
def keyring_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(tmp_path / "keyring"),
    }


@pytest.fixture
def external(world: DemoWorld) -> DemoWorld:
    """The demo member with an external registry (and a k3s that reads valuesSecrets)."""
    document = tomllib.loads(world.config_path.read_text())
    document["members"][MEMBER].update(
        registry_url=REGISTRY, registry_username="robot", k3s_version="v1.31.8+k3s1"
    )
    world.config_path.write_text(tomli_w.dumps(document))
    return world


def api(world: DemoWorld) -> client.ApiClient:
    return config.new_client_from_config(str(world.kubeconfig_path))


def registry_secret(world: DemoWorld) -> dict[str, Any]:
    return client.CoreV1Api(api(world)).read_namespaced_secret(REGISTRY_SECRET, "kube-system")


def binderhub_chart(world: DemoWorld) -> dict[str, Any]:
    custom = client.CustomObjectsApi(api(world))
    return custom.get_namespaced_custom_object(
        "helm.cattle.io", "v1", "kube-system", "helmcharts", "binderhub"
    )


def install_job_hash(world: DemoWorld) -> str:
    job = client.BatchV1Api(api(world)).read_namespaced_job("helm-install-binderhub", "kube-system")
    return job.spec.template.metadata.annotations["helmcharts.helm.cattle.io/configHash"]


def stored_password(world: DemoWorld) -> str:
    data = registry_secret(world).data[REGISTRY_SECRET_KEY]
    return yaml.safe_load(base64.b64decode(data))["registry"]["password"]


def files_containing(folder: Path, text: str) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink() and text.encode() in path.read_bytes()
    ]


def test_provision_with_an_external_registry(
    external: DemoWorld, keyring_env: dict[str, str]
) -> None:
    world = external
    login = run_cli(world, "auth", "login", "--registry", env=keyring_env, stdin=PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    plan = run_cli(world, "--provision", "--dry-run", env=keyring_env)
    assert plan.returncode == 0, plan.stderr
    assert f"registry {REGISTRY} as robot: password from system keyring" in plan.stdout
    assert f"Secret kube-system/{REGISTRY_SECRET}" in plan.stdout

    first = run_cli(world, "--provision", "--yes", "-o", "json", env=keyring_env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["health"] == HEALTHY
    charts_step = next(s for s in summary["steps"] if s["step"] == "charts")
    assert charts_step["message"] == (
        "registry password created, cert-manager created, cluster-issuer created, "
        "ingress created, cryptnono created, binderhub created"
    )
    secret = registry_secret(world)
    assert secret.type == "Opaque"
    assert stored_password(world) == PASSWORD
    chart = binderhub_chart(world)
    assert chart["spec"]["valuesSecrets"] == SECRET_REF
    assert PASSWORD not in json.dumps(chart)
    values = yaml.safe_load(chart["spec"]["valuesContent"])
    assert values["registry"] == {"url": REGISTRY, "username": "robot"}
    if shutil.which("kubectl") is not None:  # the outside look at the HelmChart
        shown = subprocess.run(
            ["kubectl", "--kubeconfig", str(world.kubeconfig_path), "-n", "kube-system",
             "get", "helmchart", "binderhub", "-o", "yaml"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert f"name: {REGISTRY_SECRET}" in shown.stdout
        assert PASSWORD not in shown.stdout

    versions = (secret.metadata.resource_version, chart["metadata"]["resourceVersion"])
    second = run_cli(world, "--provision", "--yes", "-o", "json", env=keyring_env)
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)
    assert [(s["step"], s["verified"]) for s in again["steps"]] == [
        (name, True) for name in STEP_NAMES
    ]
    assert next(s for s in again["steps"] if s["step"] == "charts")["message"] == (
        "registry password unchanged, cert-manager unchanged, cluster-issuer unchanged, "
        "ingress unchanged, cryptnono unchanged, binderhub unchanged"
    )
    after = (
        registry_secret(world).metadata.resource_version,
        binderhub_chart(world)["metadata"]["resourceVersion"],
    )
    assert after == versions

    status = run_cli(world, "auth", "status", "--registry", env=keyring_env)
    # a status that failed would pass the "no password in the output" check below
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith(f"{MEMBER}: ") and "from system keyring" in status.stdout
    outputs = [run.stdout + run.stderr for run in (login, plan, first, second, status)]
    assert_clean(world, *outputs)
    assert not any(PASSWORD in output for output in outputs)
    assert files_containing(world.directory, PASSWORD) == []  # config, state, audit log
    assert (world.home / "state" / MEMBER / "audit.jsonl").exists()


def test_a_new_password_updates_the_secret_and_installs_again(
    external: DemoWorld, keyring_env: dict[str, str]
) -> None:
    world = external
    first = run_cli(world, "--provision", "--yes", env={REGISTRY_PASSWORD_ENV: PASSWORD})
    assert first.returncode == 0, first.stderr
    installed = install_job_hash(world)
    second = run_cli(world, "--provision", "--yes", "-o", "json",
                     env={REGISTRY_PASSWORD_ENV: NEW_PASSWORD})  # fmt: skip
    assert second.returncode == 0, second.stderr
    steps = {s["step"]: s for s in json.loads(second.stdout)["steps"]}
    assert steps["charts"]["message"] == (
        "registry password updated, cert-manager unchanged, cluster-issuer unchanged, "
        "ingress unchanged, cryptnono unchanged, binderhub unchanged"
    )
    assert not steps["charts"]["verified"]
    assert "registry password from environment variable" in steps["check"]["message"]
    assert stored_password(world) == NEW_PASSWORD
    assert install_job_hash(world) != installed  # helm-controller ran the install again
    for run in (first, second):
        assert PASSWORD not in run.stdout + run.stderr
        assert NEW_PASSWORD not in run.stdout + run.stderr
    assert files_containing(world.directory, NEW_PASSWORD) == []

    with world.environment():  # back to the in-cluster registry: the reference goes
        in_cluster = replace(member_of(world), registry_url="", registry_username="")
        with Kube(in_cluster) as kube:
            outcome = charts.apply_charts(kube, in_cluster)
            assert outcome == {
                "cert-manager": "unchanged", "cluster-issuer": "unchanged",
                "ingress": "unchanged", "cryptnono": "unchanged", "registry": "created",
                "binderhub": "updated",
                "registry password": "deleted",
            }  # fmt: skip
            assert set(charts.chart_drift(kube, in_cluster).values()) == {"unchanged"}
    assert "valuesSecrets" not in binderhub_chart(world)["spec"]
    with pytest.raises(ApiException) as gone:  # the Secret went with the reference
        registry_secret(world)
    assert gone.value.status == 404


def test_no_password_stops_before_anything_is_created(
    external: DemoWorld, keyring_env: dict[str, str]
) -> None:
    world = external
    plan = run_cli(world, "--provision", "--dry-run", env=keyring_env)
    refused = run_cli(world, "--provision", "--yes", env=keyring_env)
    for run in (plan, refused):
        assert run.returncode == EXIT_USAGE, run.stderr
        assert "no container registry password for member 'demo'" in run.stderr
        assert "binderctl auth login --registry --member demo" in run.stderr
        assert REGISTRY_PASSWORD_ENV in run.stderr
        assert "Traceback" not in run.stderr
        assert run.stdout == ""
    assert set(recorded(world)) == {"check"}
    assert recorded(world)["check"]["state"] == "failed"
    assert labelled(world) == NOTHING
