"""`binderctl upgrade charts` on the demo: the prime moves to a new BinderHub and
build_image and the member runs an older cert-manager; the plan says so, the staged
upgrade makes the member's ``/versions`` equal to the prime's, and the emulated
federation redirector takes it back into rotation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.services import charts
from binderctl.services.kube import HELMCHARTS, MERGE_PATCH, Kube
from binderctl.services.prime_versions import chart_version_for
from tests.kit.cli import run_cli
from tests.kit.waiting import wait_for
from tests.kit.worlds import QUICK, member_of, on_loop
from tests.upgrades.upgradekit import drain_recorded, step_state

NEW_BINDERHUB = "0.2.0+2300.gabcdef12"
NEW_BUILD_IMAGE = "quay.io/jupyterhub/repo2docker:2026.9.0"
OLD_CERT_MANAGER = "v1.16.2"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DemoWorld]:
    with DemoWorld(tmp_path / "demo", **QUICK) as world:
        world.provision()
        yield world


def redirector(world: DemoWorld) -> dict[str, Any]:
    url = world.endpoints["federation redirector"] + "/_emulator/hosts"
    hosts: dict[str, Any] = httpx.get(url, timeout=10).json()["hosts"]
    return dict(hosts[MEMBER])


def components(world: DemoWorld) -> dict[str, dict[str, Any]]:
    done = run_cli(world, "upgrade", "plan", "-o", "json")
    assert done.returncode == 0, done.stderr
    return {c["component"]: c for c in json.loads(done.stdout)["components"]}


def test_charts_move_to_the_prime_and_the_member_rejoins(world: DemoWorld) -> None:
    with world.environment(), Kube(member_of(world)) as kube:  # as an older binderctl left it
        patch = {"spec": {"version": OLD_CERT_MANAGER}}
        kube.patch(HELMCHARTS, charts.CERT_MANAGER.name, patch, namespace="kube-system",
                   content_type=MERGE_PATCH)  # fmt: skip
    assert world.federation is not None
    world.federation.set_prime_versions(
        {"binderhub": NEW_BINDERHUB, "build_image": NEW_BUILD_IMAGE}
    )
    wait_for(lambda: redirector(world)["reason"] == "versions", what="dropped for its versions")

    planned = components(world)
    chart = planned["binderhub chart"]
    assert chart["status"] == "differs from the prime" and chart["action"] == "upgrade-charts"
    assert chart["prime"]["version"] == chart_version_for(NEW_BINDERHUB)
    assert planned["build_image"]["prime"]["version"] == NEW_BUILD_IMAGE
    cert_manager = planned["cert-manager"]
    assert (cert_manager["running"]["version"], cert_manager["status"]) == (
        OLD_CERT_MANAGER, "behind",
    )  # fmt: skip

    done = run_cli(world, "upgrade", "charts", "--yes", "--force-after", "0s")
    assert done.returncode == 0, done.stderr
    assert step_state(world, "resume", "charts") == "done" and not drain_recorded(world)
    ours = on_loop(world, world.cluster().member.versions)
    assert ours == world.federation.prime.versions_doc
    after = {name: c["status"] for name, c in components(world).items() if name != "k3s"}
    assert after == dict.fromkeys(after, "current")
    # the redirector re-checks the dropped member after its failed_period
    wait_for(lambda: redirector(world)["in_rotation"], what="the member back in rotation")
