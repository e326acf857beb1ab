"""API discovery: ``/api``, ``/apis``, per group-version resource lists, the aggregated
discovery documents (``apidiscovery.k8s.io/v2``) kubectl asks for first, and ``/version``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from binderctl.demo.kube.store import Obj, ResourceType

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


@dataclass(frozen=True)
class Subresource:
    kind: str  # the kind a request or response carries
    verbs: tuple[str, ...]
    group: str | None = None  # None: the resource's own group-version
    version: str | None = None


SUBRESOURCES: dict[str, Subresource] = {
    "status": Subresource("", ("get", "patch", "update")),
    "scale": Subresource("Scale", ("get", "patch", "update"), "autoscaling", "v1"),
    "log": Subresource("Pod", ("get",)),
    "eviction": Subresource("Eviction", ("create",), "policy", "v1"),
    "binding": Subresource("Binding", ("create",)),
    "finalize": Subresource("", ("update",)),
}


@dataclass(frozen=True)
class VersionInfo:
    git_version: str = "v1.32.4+k3s1"
    git_commit: str = "6b33f2c4a3e5d3c1b0e0a3b5c0d5f7a9b2e4c6d8"
    build_date: str = "2025-04-22T18:04:38Z"
    go_version: str = "go1.23.6"
    platform: str = "linux/amd64"

    def document(self) -> Obj:
        major, minor = self.git_version.lstrip("v").split(".")[:2]
        return {
            "major": major,
            "minor": minor,
            "gitVersion": self.git_version,
            "gitCommit": self.git_commit,
            "gitTreeState": "clean",
            "buildDate": self.build_date,
            "goVersion": self.go_version,
            "compiler": "gc",
            "platform": self.platform,
        }


def _group_versions(types: Iterable[ResourceType]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for rt in types:
        versions = groups.setdefault(rt.group, [])
        if rt.version not in versions:
            versions.append(rt.version)
    return groups


def api_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str, versions: list[str]) -> Obj:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group(types: Iterable[ResourceType], name: str) -> Obj | None:
    versions = _group_versions(types).get(name)
    if not versions or not name:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def api_group_list(types: Iterable[ResourceType]) -> Obj:
    groups = [_group(g, v) for g, v in _group_versions(types).items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_resource_list(types: Iterable[ResourceType], group: str, version: str) -> Obj | None:
    selected = [rt for rt in types if rt.group == group and rt.version == version]
    if not selected:
        return None
    resources: list[Obj] = []
    for rt in selected:
        entry: Obj = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": list(rt.verbs),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        for name in rt.subresources:
            sub = SUBRESOURCES[name]
            item: Obj = {
                "name": f"{rt.plural}/{name}",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": sub.kind or rt.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group is not None:
                item["group"], item["version"] = sub.group, sub.version
            resources.append(item)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def _resource_discovery(rt: ResourceType) -> Obj:
    entry: Obj = {
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    subresources = []
    for name in rt.subresources:
        sub = SUBRESOURCES[name]
        subresources.append(
            {
                "subresource": name,
                "responseKind": {
                    "group": rt.group if sub.group is None else sub.group,
                    "version": rt.version if sub.version is None else sub.version,
                    "kind": sub.kind or rt.kind,
                },
                "verbs": list(sub.verbs),
            }
        )
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated(types: Iterable[ResourceType], *, core: bool) -> Obj:
    """The ``APIGroupDiscoveryList`` of ``/api`` (core) or ``/apis`` (named groups)."""
    items = []
    all_types = list(types)
    for group, versions in _group_versions(all_types).items():
        if (group == "") != core:
            continue
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {
                        "version": version,
                        "resources": [
                            _resource_discovery(rt)
                            for rt in all_types
                            if rt.group == group and rt.version == version
                        ],
                        "freshness": "Current",
                    }
                    for version in versions
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
