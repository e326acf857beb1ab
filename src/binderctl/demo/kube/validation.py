"""Validation of written objects: the ``field.ErrorList`` the real API server would
return as 422 Invalid, for the fields the emulator's kinds care about."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from binderctl.demo.kube import types
from binderctl.demo.kube.apierrors import FieldError, invalid, invalid_value, required
from binderctl.demo.kube.labels import selector_from_spec
from binderctl.demo.kube.store import Obj, ResourceType
from binderctl.maintenance_window import PLAN_DAYS

_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL_1123 = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LABEL_1035 = r"[a-z]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    f"used for validation is '{_SUBDOMAIN}')"
)
_LABEL_1123_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    f"used for validation is '{_LABEL_1123}')"
)
_LABEL_1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    f"'abc-123', regex used for validation is '{_LABEL_1035}')"
)
_NAME_RULES: dict[tuple[str, str], tuple[str, int, str]] = {
    types.NAMESPACES.key: (_LABEL_1123, 63, _LABEL_1123_MSG),
    types.SERVICES.key: (_LABEL_1035, 63, _LABEL_1035_MSG),
}
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_POD_MUTABLE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
    "set to 1 if it was previously negative)"
)

Errors = list[FieldError]


def _name(rt: ResourceType, name: str) -> Errors:
    if rt in (types.EVENTS, types.EVENTS_V1):
        return []
    pattern, limit, message = _NAME_RULES.get(rt.key, (_SUBDOMAIN, 253, _SUBDOMAIN_MSG))
    if len(name) > limit:
        return [invalid_value("metadata.name", name, f"must be no more than {limit} characters")]
    if not re.fullmatch(pattern, name):
        return [invalid_value("metadata.name", name, message)]
    return []


def _containers(containers: object, path: str, *, required_list: bool) -> Errors:
    if not containers:
        return [required(path)] if required_list else []
    if not isinstance(containers, list):
        return [invalid_value(path, containers, "must be a list")]
    errors: Errors = []
    seen: set[str] = set()
    for index, container in enumerate(containers):
        where = f"{path}[{index}]"
        name = container.get("name") if isinstance(container, dict) else None
        if not name:
            errors.append(required(f"{where}.name"))
        elif not re.fullmatch(_LABEL_1123, name) or len(name) > 63:
            errors.append(invalid_value(f"{where}.name", name, _LABEL_1123_MSG))
        elif name in seen:
            errors.append(FieldError("FieldValueDuplicate", f"{where}.name", value=name))
        else:
            seen.add(name)
        if isinstance(container, dict) and not container.get("image"):
            errors.append(required(f"{where}.image"))
    return errors


def pod_spec(
    spec: Obj | None, path: str, restart_policies: tuple[str, ...] = _RESTART_POLICIES
) -> Errors:
    spec = spec or {}
    errors = _containers(spec.get("containers"), f"{path}.containers", required_list=True)
    errors += _containers(spec.get("initContainers"), f"{path}.initContainers", required_list=False)
    policy = spec.get("restartPolicy")
    if policy not in restart_policies:
        supported = ", ".join(f'"{p}"' for p in restart_policies)
        errors.append(
            FieldError(
                "FieldValueNotSupported",
                f"{path}.restartPolicy",
                f"supported values: {supported}",
                policy,
            )
        )
    return errors


def _pod(obj: Obj) -> Errors:
    return pod_spec(obj.get("spec"), "spec")


def _workload(obj: Obj) -> Errors:
    spec = obj.get("spec") or {}
    errors: Errors = []
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        errors.append(
            invalid_value("spec.replicas", replicas, "must be greater than or equal to 0")
        )
    selector = spec.get("selector")
    labels = (spec.get("template") or {}).get("metadata", {}).get("labels") or {}
    if not selector:
        errors.append(required("spec.selector"))
    else:
        try:
            parsed = selector_from_spec(selector)
        except ValueError as exc:
            errors.append(invalid_value("spec.selector", selector, str(exc)))
        else:
            if parsed.empty:
                errors.append(invalid_value("spec.selector", selector, "empty selector is invalid"))
            elif not parsed.matches(labels):
                errors.append(
                    invalid_value(
                        "spec.template.metadata.labels",
                        labels,
                        "`selector` does not match template `labels`",
                    )
                )
    return errors + pod_spec((spec.get("template") or {}).get("spec"), "spec.template.spec")


def _job(obj: Obj) -> Errors:
    template = (obj.get("spec") or {}).get("template") or {}
    return pod_spec(template.get("spec"), "spec.template.spec", ("OnFailure", "Never"))


def _service(obj: Obj) -> Errors:
    spec = obj.get("spec") or {}
    if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None":
        return []
    errors: Errors = [] if spec.get("ports") else [required("spec.ports")]
    for index, port in enumerate(spec.get("ports") or []):
        number = port.get("port")
        if not isinstance(number, int) or not 0 < number < 65536:
            errors.append(
                invalid_value(
                    f"spec.ports[{index}].port", number, "must be between 1 and 65535, inclusive"
                )
            )
    return errors


def _plan(obj: Obj) -> Errors:
    """The Plan CRD's schema (rancher/system-upgrade-controller v0.20.1
    ``pkg/crds/yaml/generated/upgrade.cattle.io_plans.yaml``): ``spec.upgrade`` and its
    image are required; ``window.days`` has at least one item, each of the Day enum."""
    spec = obj.get("spec") or {}
    upgrade = spec.get("upgrade")
    if not isinstance(upgrade, dict):
        return [required("spec.upgrade")]
    errors: Errors = [] if upgrade.get("image") else [required("spec.upgrade.image")]
    window = spec.get("window")
    if isinstance(window, dict):
        days = window.get("days") or []
        if not days:
            errors.append(invalid_value("spec.window.days", days, "should have at least 1 items"))
        for index, day in enumerate(days):
            if day not in PLAN_DAYS:
                supported = ", ".join(f'"{d}"' for d in PLAN_DAYS)
                errors.append(FieldError("FieldValueNotSupported", f"spec.window.days[{index}]",
                                         f"supported values: {supported}", day))  # fmt: skip
    return errors


_VALIDATORS: dict[tuple[str, str], Callable[[Obj], Errors]] = {
    types.PODS.key: _pod,
    types.DEPLOYMENTS.key: _workload,
    types.REPLICASETS.key: _workload,
    types.DAEMONSETS.key: _workload,
    types.JOBS.key: _job,
    types.SERVICES.key: _service,
    types.PLANS.key: _plan,
}


def validate(rt: ResourceType, obj: Obj) -> None:
    """Raise 422 Invalid listing every problem with ``obj``."""
    name = obj.get("metadata", {}).get("name", "")
    errors = (
        _name(rt, name) if name else [required("metadata.name", "name or generateName is required")]
    )
    validator = _VALIDATORS.get(rt.key)
    if validator is not None:
        errors += validator(obj)
    if errors:
        raise invalid(rt, name, errors)


def _without_mutable(spec: Obj) -> Obj:
    spec = copy.deepcopy(spec)
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            container.pop("image", None)
    for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        spec.pop(key, None)
    return spec


def validate_update(rt: ResourceType, new: Obj, old: Obj) -> None:
    """What an update may not change: a pod's spec (but images), a workload's selector."""
    name = old["metadata"]["name"]
    errors: Errors = []
    if rt is types.PODS:
        if _without_mutable(new.get("spec") or {}) != _without_mutable(old.get("spec") or {}):
            errors.append(FieldError("FieldValueForbidden", "spec", _POD_MUTABLE))
    elif rt in (types.DEPLOYMENTS, types.REPLICASETS, types.DAEMONSETS, types.JOBS):
        new_selector = (new.get("spec") or {}).get("selector")
        if new_selector != (old.get("spec") or {}).get("selector"):
            errors.append(invalid_value("spec.selector", new_selector, "field is immutable"))
    if errors:
        raise invalid(rt, name, errors)
    validate(rt, new)
