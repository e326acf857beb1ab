"""`binderctl federation`, its snippet and `status` against a demo world provisioned
through the real pipeline, beside the emulated redirector's own view."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
import yaml
from kubernetes import client, config

from binderctl.demo.federation.world import OTHER, PRIME, RETIRED, prime_versions
from binderctl.demo.world import BINDER_HOST, HTTPS_PORT, MEMBER, DemoWorld
from tests.kit.cli import run_cli
from tests.kit.waiting import wait_for


def federation_json(world: DemoWorld, *args: str) -> tuple[int, dict[str, Any]]:
    done = run_cli(world, "federation", "-o", "json", *args)
    assert not done.stderr or "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def hosts_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in document["hosts"]}


def redirector_view(world: DemoWorld) -> dict[str, Any]:
    assert world.federation is not None
    return world.federation.snapshot()["hosts"]


def test_lists_the_prime_the_member_and_others(world: DemoWorld) -> None:
    code, document = federation_json(world)
    assert code == 0
    hosts = hosts_of(document)
    assert set(hosts) == {PRIME, OTHER, MEMBER, RETIRED}
    assert hosts[PRIME]["prime"] and hosts[PRIME]["in_rotation"] is True
    assert hosts[OTHER]["in_rotation"] is True
    ours = hosts[MEMBER]
    assert ours["member"] == MEMBER and ours["in_rotation"] is True, ours
    assert ours["versions"] == document["prime"]["versions"] == prime_versions()
    assert {c["service"] for c in ours["health"]["checks"]} == {
        "Docker registry", "JupyterHub API", "Pod quota",
    }  # fmt: skip
    assert (hosts[RETIRED]["in_rotation"], hosts[RETIRED]["reason"]) == (False, "weight")
    # the emulated redirector agrees
    wait_for(lambda: redirector_view(world)[MEMBER]["in_rotation"], what="member in rotation")
    text = run_cli(world, "federation")
    assert text.returncode == 0 and text.stdout.splitlines()[0].split()[:4] == [
        "HOST", "ROLE", "WEIGHT", "ROTATION",
    ]  # fmt: skip


def test_a_host_that_does_not_answer(world: DemoWorld) -> None:
    assert world.federation is not None and world.runtime is not None
    other = world.federation.other
    world.runtime.run(other.set_down(True))
    try:
        code, document = federation_json(world)
        assert code == 0
        silent = hosts_of(document)[OTHER]
        assert (silent["in_rotation"], silent["reason"]) == (False, "unreachable")
        assert "does not answer" in silent["detail"]
        text = run_cli(world, "federation")
        assert text.returncode == 0
        assert f"{OTHER}: does not answer" in text.stdout
        assert run_cli(world, "federation", "--check").returncode == 1
    finally:
        world.runtime.run(other.set_down(False))
    assert run_cli(world, "federation", "--check").returncode == 0


def test_snippet_is_a_prod_yaml_entry(world: DemoWorld) -> None:
    done = run_cli(world, "federation", "snippet")
    assert done.returncode == 0, done.stderr
    entry = yaml.safe_load(done.stdout)
    assert list(entry) == [MEMBER]
    assert list(entry[MEMBER]) == ["prime", "url", "weight", "health", "versions"]
    url = entry[MEMBER]["url"]
    assert entry[MEMBER] == {
        "prime": False, "url": url, "weight": 50, "health": f"{url}/health",
        "versions": f"{url}/versions",
    }  # fmt: skip
    named = yaml.safe_load(run_cli(world, "federation", "snippet", "--weight", "10",
                                   "--name", "hetzner-demo").stdout)  # fmt: skip
    assert named["hetzner-demo"]["weight"] == 10
    bad = run_cli(world, "federation", "snippet", "--weight", "0")
    assert bad.returncode == 2 and "weight" in bad.stderr and "Traceback" not in bad.stderr


def helm_chart(world: DemoWorld) -> dict[str, Any]:
    api = client.CustomObjectsApi(config.new_client_from_config(str(world.kubeconfig_path)))
    return api.get_namespaced_custom_object(
        "helm.cattle.io", "v1", "kube-system", "helmcharts", "binderhub"
    )


def test_installs_the_primes_versions(world: DemoWorld) -> None:
    chart = helm_chart(world)
    prime = prime_versions()
    assert chart["spec"]["version"] == "1.0.0-0.dev.git.3983.h383374de"
    values = yaml.safe_load(chart["spec"]["valuesContent"])
    build_image = values["config"]["KubernetesBuildExecutor"]["build_image"]
    assert build_image == prime["builder_info"]["build_image"]
    verify = ssl.create_default_context(cafile=str(world.ca_path))
    with httpx.Client(verify=verify, timeout=5) as http:
        served = http.get(
            f"https://{world.cluster().params.public_ip}:{HTTPS_PORT}/versions",
            headers={"Host": BINDER_HOST},
            extensions={"sni_hostname": BINDER_HOST},
        ).json()
    assert served == prime  # the demo member's /versions: the installed chart and values


def test_status_names_versions_that_differ_from_the_prime(world: DemoWorld) -> None:
    assert world.federation is not None
    new_image = "quay.io/jupyterhub/repo2docker:2099.1.0"
    world.federation.set_prime_versions({"build_image": new_image})
    try:
        document = json.loads(run_cli(world, "status", "-o", "json").stdout)
        observed = document["rotation"]["observed"]
        assert (observed["in_rotation"], observed["reason"]) == (False, "versions")
        old = prime_versions()["builder_info"]["build_image"]
        assert f"builder_info.build_image: ours {old!r}, prime {new_image!r}" in observed["detail"]
        assert any("versions differ from the prime" in p for p in document["problems"])
        assert document["rotation"]["quota"] == 100  # what binderctl asked for is kept
        text = run_cli(world, "status").stdout
        assert "redirector  OUT OF ROTATION: versions differ from the prime" in text
        wait_for(lambda: redirector_view(world)[MEMBER]["reason"] == "versions", what="versions")
        # provisioning again takes the prime's new build_image
        again = run_cli(world, "--provision", "--yes", "-o", "json")
        assert again.returncode == 0, again.stderr
        chart = helm_chart(world)
        values = yaml.safe_load(chart["spec"]["valuesContent"])
        assert values["config"]["KubernetesBuildExecutor"]["build_image"] == new_image
    finally:
        world.federation.set_prime_versions(
            {"build_image": prime_versions()["builder_info"]["build_image"]}
        )
        run_cli(world, "--provision", "--yes")


def test_status_quota_headroom_then_failed_period(world: DemoWorld) -> None:
    from binderctl.config import load_config
    from binderctl.services.binderhub import set_launch_quota
    from binderctl.services.kube import Kube

    with world.environment():
        member = load_config(world.config_path).member(MEMBER)
        with Kube(member) as kube:
            set_launch_quota(kube, 0)
    try:

        def observed() -> dict[str, Any]:
            document = json.loads(run_cli(world, "status", "-o", "json").stdout)
            return document["rotation"]["observed"]

        out = wait_for(lambda: (o := observed())["reason"] in ("quota headroom", "check") and o,
                   what="out on the quota")  # fmt: skip
        assert out["in_rotation"] is False and "quota 0" in out["detail"]
        wait_for(lambda: not redirector_view(world)[MEMBER]["in_rotation"], what="redirector drops")
    finally:
        with world.environment(), Kube(member) as kube:
            set_launch_quota(kube, 100)
    # our checks pass again at once, but the redirector re-checks only after failed_period
    waiting = wait_for(lambda: (o := observed())["reason"] == "failed_period" and o, what="waiting")
    assert waiting["in_rotation"] is False and "back by" in waiting["detail"]
    wait_for(lambda: observed()["in_rotation"] is True, timeout=60, what="back in rotation")
    wait_for(lambda: redirector_view(world)[MEMBER]["in_rotation"], what="redirector takes it back")


def test_provisioning_warns_when_the_config_overrides_the_primes_versions(
    world: DemoWorld,
) -> None:
    original = world.config_path.read_text()
    ours = "quay.io/jupyterhub/repo2docker:2024.07.0"
    text = original.replace(
        f"[members.{MEMBER}]\n", f'[members.{MEMBER}]\nbuild_image = "{ours}"\n'
    )
    world.config_path.write_text(text)
    try:
        done = run_cli(world, "--provision", "--yes", "-o", "json")
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        prime = prime_versions()["builder_info"]["build_image"]
        warning = f"build_image differs from the prime: ours {ours!r} (config), prime {prime!r}"
        assert any(w.startswith(warning) for w in summary["warnings"]), summary["warnings"]
        values = yaml.safe_load(helm_chart(world)["spec"]["valuesContent"])
        assert values["config"]["KubernetesBuildExecutor"]["build_image"] == ours
    finally:
        world.config_path.write_text(original)
        assert run_cli(world, "--provision", "--yes").returncode == 0
