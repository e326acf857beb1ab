"""The pods of a cluster that was up before the simulation began.

A member that has run for a while has, for each Deployment, a ReplicaSet named
``<deployment>-<pod-template-hash>`` and its pods, and a pod per DaemonSet, all Running,
with the owner references and labels the controllers give them; the control plane's
controllers find them satisfied and the kubelet adopts them.
"""

from __future__ import annotations

import copy
import random

from binderctl.demo.kube import types
from binderctl.demo.kube.controllers.workload import owner_reference
from binderctl.demo.kube.naming import random_suffix, template_hash
from binderctl.demo.kube.store import Obj
from binderctl.demo.member.objects import Writer


def running_pod(template: Obj, name: str, namespace: str, node: str, stamp: str) -> Obj:
    pod = copy.deepcopy(template)
    pod["metadata"] = {**pod.get("metadata", {}), "name": name, "namespace": namespace}
    pod["spec"]["nodeName"] = node
    pod["status"] = {
        "phase": "Running",
        "startTime": stamp,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": stamp},
        ],
        "containerStatuses": [
            {"name": c["name"], "image": c["image"], "ready": True, "restartCount": 0,
             "state": {"running": {"startedAt": stamp}}}
            for c in pod["spec"]["containers"]
        ],
    }  # fmt: skip
    return pod


def deployment_pods(writer: Writer, deployment: Obj, node: str, rng: random.Random) -> None:
    meta, spec = deployment["metadata"], deployment["spec"]
    namespace, stamp = meta["namespace"], writer.stamp()
    template = copy.deepcopy(spec["template"])
    digest = template_hash(spec["template"])
    labels = {**template["metadata"].get("labels", {}), "pod-template-hash": digest}
    replicas = spec.get("replicas", 1)
    rs = writer.create(
        types.REPLICASETS,
        {
            "metadata": {
                "name": f"{meta['name']}-{digest}",
                "namespace": namespace,
                "labels": labels,
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": str(replicas),
                    "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                    "deployment.kubernetes.io/revision": "1",
                },
                "ownerReferences": [owner_reference(deployment)],
            },
            "spec": {
                "replicas": replicas,
                "selector": {
                    "matchLabels": {**spec["selector"]["matchLabels"], "pod-template-hash": digest}
                },
                "template": {**template, "metadata": {**template["metadata"], "labels": labels}},
            },
        },
    )
    for _ in range(replicas):
        pod_template = {
            **template,
            "metadata": {"labels": labels, "ownerReferences": [owner_reference(rs)]},
        }
        name = f"{rs['metadata']['name']}-{random_suffix(rng)}"
        writer.create(types.PODS, running_pod(pod_template, name, namespace, node, stamp))
    status = {
        "observedGeneration": meta.get("generation", 1),
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
             "message": "Deployment has minimum availability.", "lastUpdateTime": stamp,
             "lastTransitionTime": stamp},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
             "message": f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.',
             "lastUpdateTime": stamp, "lastTransitionTime": stamp},
        ],
    }  # fmt: skip
    rs_status = {
        "replicas": replicas,
        "fullyLabeledReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        "observedGeneration": 1,
    }
    writer.store.mutate(types.REPLICASETS, namespace, rs["metadata"]["name"],
                        lambda o: o.update(status=rs_status))  # fmt: skip
    writer.store.mutate(types.DEPLOYMENTS, namespace, meta["name"],
                        lambda o: o.update(status=status))  # fmt: skip


def daemonset_pod(writer: Writer, daemonset: Obj, node: str, rng: random.Random) -> None:
    meta, spec = daemonset["metadata"], daemonset["spec"]
    namespace, stamp = meta["namespace"], writer.stamp()
    template = copy.deepcopy(spec["template"])
    revision = template_hash(spec["template"])
    labels = {
        **template["metadata"].get("labels", {}),
        "controller-revision-hash": revision,
        "pod-template-generation": "1",
    }
    owners = [owner_reference(daemonset)]
    pod_template = {**template, "metadata": {"labels": labels, "ownerReferences": owners}}
    name = f"{meta['name']}-{random_suffix(rng)}"
    writer.create(types.PODS, running_pod(pod_template, name, namespace, node, stamp))
    status = {
        "currentNumberScheduled": 1,
        "desiredNumberScheduled": 1,
        "numberAvailable": 1,
        "numberMisscheduled": 0,
        "numberReady": 1,
        "observedGeneration": meta.get("generation", 1),
        "updatedNumberScheduled": 1,
    }
    writer.store.mutate(types.DAEMONSETS, namespace, meta["name"],
                        lambda o: o.update(status=status))  # fmt: skip
