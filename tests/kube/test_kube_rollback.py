"""Revisions and rollbacks against the real kubectl: the emulated deployment controller
keeps ReplicaSets with revision annotations as the real one does (`kubectl rollout
history` reads them, `kubectl rollout undo` acts on them), and binderctl's rollback plan
(``component_rollout.rollback_plan``) is exactly what `kubectl rollout undo` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from binderctl.demo.kube import types
from binderctl.demo.kube.patch import json_patch
from binderctl.demo.kube.store import Obj
from binderctl.errors import BinderctlError
from binderctl.services.component_rollout import equal_ignore_hash, rollback_plan
from tests.kit.waiting import wait_for
from tests.kube.kube_cluster import Cluster, hub_deployment
from tests.kube.kube_kubectl import Kubectl, needs_kubectl

pytestmark = needs_kubectl
NAMESPACE = "binderhub"
CAUSE = "kubernetes.io/change-cause"
REVISION = "deployment.kubernetes.io/revision"
HISTORY = "deployment.kubernetes.io/revision-history"


@pytest.fixture
def hub(cluster: Cluster) -> Cluster:
    cluster.add_namespace(NAMESPACE)
    deployment = hub_deployment(NAMESPACE)
    deployment["metadata"]["annotations"] = {
        CAUSE: "install 4.0.0",
        "meta.helm.sh/release-name": "binderhub",
    }
    cluster.create(types.DEPLOYMENTS, deployment)
    rolled_out(cluster, 1)
    return cluster


@pytest.fixture
def kubectl(hub: Cluster, tmp_path: Path) -> Kubectl:
    return Kubectl(hub, tmp_path / "home")


def deployment(cluster: Cluster) -> Obj:
    return cluster.do(lambda: cluster.store.get(types.DEPLOYMENTS, NAMESPACE, "hub"))


def replica_sets(cluster: Cluster) -> list[Obj]:
    return cluster.do(lambda: list(cluster.store.list(types.REPLICASETS, NAMESPACE)))


def rolled_out(cluster: Cluster, revision: int) -> Obj:
    def done() -> Obj | None:
        d = deployment(cluster)
        status = d.get("status") or {}
        ok = (
            status.get("observedGeneration") == d["metadata"]["generation"]
            and d["metadata"].get("annotations", {}).get(REVISION) == str(revision)
            and status.get("updatedReplicas") == status.get("availableReplicas") == 1
            and status.get("replicas") == 1
        )
        return d if ok else None

    return wait_for(done, what=f"revision {revision} rolled out")


def history(kubectl: Kubectl) -> list[tuple[str, str]]:
    out = kubectl("rollout", "history", "deployment/hub", "-n", NAMESPACE).stdout
    rows = [line.split(None, 1) for line in out.splitlines()[2:] if line.strip()]
    return [(row[0], row[1].strip()) for row in rows]


def image(obj: Obj) -> str:
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


def by_revision(cluster: Cluster) -> dict[str, Obj]:
    return {rs["metadata"]["annotations"][REVISION]: rs for rs in replica_sets(cluster)}


def test_undo_with_one_revision_fails_as_kubectl_does(hub: Cluster, kubectl: Kubectl) -> None:
    undo = kubectl("rollout", "undo", "deployment/hub", "-n", NAMESPACE, check=False)
    assert undo.returncode == 1
    assert 'no rollout history found for deployment "hub"' in undo.stderr
    with pytest.raises(BinderctlError, match='no rollout history found for deployment "hub"'):
        rollback_plan(deployment(hub), replica_sets(hub))


def test_rollout_undo_and_history(hub: Cluster, kubectl: Kubectl) -> None:
    first = image(deployment(hub))
    second = first.replace("4.0.0", "4.1.0")
    kubectl("set", "image", "deployment/hub", f"hub={second}", f"culler={second}", "-n", NAMESPACE)
    cause = f"{CAUSE}=set image 4.1.0"
    kubectl("annotate", "deployment/hub", cause, "--overwrite", "-n", NAMESPACE)
    rolled_out(hub, 2)
    wait_for(lambda: by_revision(hub)["2"]["metadata"]["annotations"].get(CAUSE))
    assert history(kubectl) == [("1", "install 4.0.0"), ("2", "set image 4.1.0")]
    # the deployment's own annotations, not the controller's, are on its ReplicaSets
    first_rs = by_revision(hub)["1"]["metadata"]["annotations"]
    assert first_rs["meta.helm.sh/release-name"] == "binderhub"
    assert "kubectl.kubernetes.io/last-applied-configuration" not in first_rs

    before = deployment(hub)
    plan = rollback_plan(before, replica_sets(hub))
    assert (plan.current, plan.target, plan.image, plan.target_image) == (2, 1, second, first)
    expected = json_patch(before, list(plan.operations))

    undo = kubectl("rollout", "undo", "deployment/hub", "-n", NAMESPACE)
    assert undo.stdout.strip() == "deployment.apps/hub rolled back"
    after = deployment(hub)
    # kubectl sends the typed template (with "creationTimestamp": null): equal as the API
    # compares templates
    assert equal_ignore_hash(after["spec"]["template"], expected["spec"]["template"])
    assert "pod-template-hash" not in after["spec"]["template"]["metadata"]["labels"]

    def own(obj: Obj) -> dict[str, str]:  # the revision is the controller's to bump
        return {k: v for k, v in obj["metadata"]["annotations"].items() if k != REVISION}

    assert own(after) == own(expected)
    assert after["metadata"]["annotations"][CAUSE] == "install 4.0.0"  # the revision's own

    rolled_out(hub, 3)
    assert image(deployment(hub)) == first
    assert history(kubectl) == [("2", "set image 4.1.0"), ("3", "install 4.0.0")]
    serving = by_revision(hub)["3"]
    assert serving["metadata"]["annotations"][HISTORY] == "1"  # it served revision 1 before
    assert serving["spec"]["replicas"] == 1 and by_revision(hub)["2"]["spec"]["replicas"] == 0

    kubectl("rollout", "undo", "deployment/hub", "-n", NAMESPACE)  # and back again
    rolled_out(hub, 4)
    assert image(deployment(hub)) == second
    assert by_revision(hub)["4"]["metadata"]["annotations"][HISTORY] == "2"
    assert history(kubectl) == [("3", "install 4.0.0"), ("4", "set image 4.1.0")]
