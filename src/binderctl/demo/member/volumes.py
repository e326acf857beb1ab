"""Whether the kubelet can set up a pod's Secret volumes, plain and projected.

A Secret that is missing, or lacks a key the volume lists, stops the pod before its
images are pulled (``FailedMount``, the containers stay ``ContainerCreating``) unless
the volume marks it ``optional``; the kubelet keeps retrying.
"""

from __future__ import annotations

from typing import Any

from binderctl.demo.kube import types
from binderctl.demo.kube.store import Obj, Store


def _secret_sources(volume: Obj) -> list[dict[str, Any]]:
    """Each Secret the volume reads: name, items and optional."""
    found = []
    plain = volume.get("secret")
    if isinstance(plain, dict):
        found.append({**plain, "name": plain.get("secretName")})
    for source in (volume.get("projected") or {}).get("sources") or []:
        if isinstance(source.get("secret"), dict):
            found.append(source["secret"])
    return found


def _problem(store: Store, namespace: str, source: dict[str, Any]) -> str | None:
    optional = bool(source.get("optional"))
    secret = store.find(types.SECRETS, namespace, str(source.get("name")))
    if secret is None:
        return None if optional else f'secret "{source.get("name")}" not found'
    data = secret.get("data") or {}
    for item in source.get("items") or []:
        if item.get("key") not in data and not optional:
            return f"references non-existent secret key: {item.get('key')}"
    return None


def unmountable(store: Store, pod: Obj) -> str | None:
    """The kubelet's ``FailedMount`` message for the first volume it cannot set up."""
    namespace = pod["metadata"]["namespace"]
    for volume in pod["spec"].get("volumes") or []:
        for source in _secret_sources(volume):
            problem = _problem(store, namespace, source)
            if problem is not None:
                return f'MountVolume.SetUp failed for volume "{volume.get("name")}" : {problem}'
    return None
