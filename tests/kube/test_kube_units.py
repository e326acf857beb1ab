"""Pure functions of the emulator: patches, selectors, quantities, formats."""

from __future__ import annotations

import pytest

from binderctl.demo.kube import types
from binderctl.demo.kube.apierrors import FieldError, invalid
from binderctl.demo.kube.labels import format_selector_spec, parse_selector, selector_from_spec
from binderctl.demo.kube.logs import stamp
from binderctl.demo.kube.naming import ALPHANUMS, template_hash
from binderctl.demo.kube.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from binderctl.demo.kube.patchmeta import schema_for
from binderctl.demo.kube.quantity import parse_quantity
from binderctl.demo.kube.tables import human_duration

POD = schema_for(types.PODS)
assert POD is not None


def _pod(**spec: object) -> dict:
    return {"metadata": {"name": "p"}, "spec": spec}


def test_strategic_merge_lists_by_key_and_directives() -> None:
    original = _pod(
        containers=[
            {
                "name": "a",
                "image": "a:1",
                "env": [{"name": "X", "value": "1"}],
                "ports": [{"containerPort": 80}],
            },
            {"name": "b", "image": "b:1"},
        ],
        tolerations=[{"key": "t1"}],
        volumes=[{"name": "v", "emptyDir": {}}],
    )
    patched = strategic_merge_patch(
        original,
        {
            "metadata": {"finalizers": ["f"]},
            "spec": {
                "containers": [
                    {
                        "name": "a",
                        "env": [{"name": "Y", "value": "2"}, {"name": "X", "value": "3"}],
                    },
                    {"name": "b", "$patch": "delete"},
                    {"name": "c", "image": "c:1"},
                ],
                "tolerations": [{"key": "t2"}],
                "volumes": [
                    {"name": "v", "$retainKeys": ["name", "configMap"], "configMap": {"name": "cm"}}
                ],
            },
        },
        POD,
    )
    containers = patched["spec"]["containers"]
    assert [c["name"] for c in containers] == ["a", "c"]
    assert containers[0]["image"] == "a:1" and containers[0]["ports"] == [{"containerPort": 80}]
    assert containers[0]["env"] == [{"name": "X", "value": "3"}, {"name": "Y", "value": "2"}]
    assert patched["spec"]["tolerations"] == [{"key": "t2"}]  # no merge key: replaced
    assert patched["spec"]["volumes"] == [{"name": "v", "configMap": {"name": "cm"}}]
    assert patched["metadata"]["finalizers"] == ["f"]
    assert original["spec"]["containers"][1]["name"] == "b"  # the original is untouched


def test_strategic_merge_replace_delete_and_primitive_lists() -> None:
    original = {
        "metadata": {"finalizers": ["a", "b"], "labels": {"x": "1", "y": "2"}},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
    }
    patched = strategic_merge_patch(
        original,
        {
            "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "labels": {"x": None}},
            "spec": {"containers": [{"$patch": "replace"}, {"name": "z"}]},
        },
        POD,
    )
    assert patched["metadata"] == {"finalizers": ["b"], "labels": {"y": "2"}}
    assert patched["spec"]["containers"] == [{"name": "z"}]
    ordered = strategic_merge_patch(
        original, {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}, POD
    )
    assert [c["name"] for c in ordered["spec"]["containers"]] == ["b", "a"]
    with pytest.raises(PatchError) as no_key:
        strategic_merge_patch(original, {"spec": {"containers": [{"image": "x"}]}}, POD)
    assert no_key.value.code == 400


def test_json_merge_patch_rfc7386() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
    assert merge_patch(target, {"a": "z", "c": {"f": None}, "l": [3]}) == {
        "a": "z",
        "c": {"d": "e"},
        "l": [3],
    }
    assert merge_patch({"a": "b"}, ["c"]) == ["c"]
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}


def test_json_patch_rfc6902() -> None:
    doc = {"a": {"b": [1, 2]}, "c": "x", "k~/": 1}
    result = json_patch(
        doc,
        [
            {"op": "add", "path": "/a/b/1", "value": 9},
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "replace", "path": "/c", "value": "y"},
            {"op": "copy", "from": "/c", "path": "/d"},
            {"op": "move", "from": "/d", "path": "/e"},
            {"op": "remove", "path": "/k~0~1"},
            {"op": "test", "path": "/a/b/0", "value": 1},
        ],
    )
    assert result == {"a": {"b": [1, 9, 2, 3]}, "c": "y", "e": "y"}
    with pytest.raises(PatchError) as failed:
        json_patch(doc, [{"op": "test", "path": "/c", "value": "nope"}])
    assert failed.value.code == 422
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "remove", "path": "/missing"}])


def test_label_selectors() -> None:
    labels = {"app": "jupyterhub", "component": "singleuser-server", "tier": "1"}
    for text, expected in [
        ("", True),
        ("app=jupyterhub", True),
        ("app==jupyterhub,component!=hub", True),
        ("component in (hub, proxy)", False),
        ("component notin (hub,proxy)", True),
        ("tier", True),
        ("!tier", False),
        ("missing!=x", True),
        ("tier>0,tier<2", True),
    ]:
        assert parse_selector(text).matches(labels) is expected, text
    for bad in ("a in (b", "a b", "=x", "key with space=1", "a=b c"):
        with pytest.raises(ValueError):
            parse_selector(bad)
    spec = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [{"key": "c", "operator": "In", "values": ["y", "x"]}],
    }
    assert format_selector_spec(spec) == "a=1,b=2,c in (x,y)"
    assert format_selector_spec({}) == "<none>"
    assert not selector_from_spec(None).matches({"a": "1"})  # a null selector selects nothing
    assert selector_from_spec({}).matches({"a": "1"})  # an empty one selects everything


def test_quantities() -> None:
    assert parse_quantity("100m") == pytest.approx(0.1)
    assert parse_quantity("2Gi") == 2 * 2**30
    assert parse_quantity("450M") == 450e6
    assert parse_quantity("1.5") == 1.5 and parse_quantity(3) == 3.0
    assert parse_quantity("1e3") == 1000
    with pytest.raises(ValueError):
        parse_quantity("12XB")


def test_human_durations_like_kubectl() -> None:
    cases = {
        5: "5s",
        119: "119s",
        125: "2m5s",
        600: "10m",
        3 * 3600: "3h",
        7 * 3600 + 60: "7h1m",
        30 * 3600: "30h",
    }
    cases |= {3 * 86400 + 3600: "3d1h", 10 * 86400: "10d", 3 * 365 * 86400 + 86400: "3y1d"}
    for seconds, text in cases.items():
        assert human_duration(seconds) == text


def test_kubelet_timestamps_have_nanoseconds() -> None:
    assert stamp(1_700_000_000.5) == "2023-11-14T22:13:20.500000000Z"
    assert stamp(0.0) == "1970-01-01T00:00:00.000000000Z"


def test_template_hash_is_stable_and_safe() -> None:
    template = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}
    first = template_hash(template)
    assert first == template_hash(
        {"spec": {"containers": [{"name": "c"}]}, "metadata": {"labels": {"a": "b"}}}
    )
    assert first != template_hash(template, 1) and set(first) <= set(ALPHANUMS)


def test_invalid_status_message_lists_every_cause() -> None:
    err = invalid(
        types.DEPLOYMENTS,
        "hub",
        [
            FieldError("FieldValueRequired", "spec.selector"),
            FieldError(
                "FieldValueInvalid", "spec.replicas", "must be greater than or equal to 0", -1
            ),
        ],
    )
    assert err.message == (
        'Deployment.apps "hub" is invalid: [spec.selector: Required value, '
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0]"
    )
    assert err.details["group"] == "apps" and len(err.details["causes"]) == 2
