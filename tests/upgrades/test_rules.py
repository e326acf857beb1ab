"""The rules under the upgrades, each on its own: k3s's channels (read over HTTP from the
emulated channel server, cached), one minor at a time, upstream support, the
maintenance window (kured's), the controller's Job names and plan hash, the Plan's
schema in the API emulator, the attention items and the ``[upgrades]`` table."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from binderctl.config import parse_config
from binderctl.demo.k3s_channels import ChannelServer
from binderctl.demo.kube import types
from binderctl.demo.kube.store import StoreError
from binderctl.demo.kube.validation import validate
from binderctl.demo.member.upgrade_controller import (
    channel_error,
    plan_hash,
    safe_concat_name,
    selects,
)
from binderctl.demo.runtime import LoopThread
from binderctl.errors import BinderctlError, ConfigError
from binderctl.maintenance_window import Window, check, contains, next_opening
from binderctl.paths import HOME_ENV
from binderctl.services import k3s_releases, system_upgrade
from binderctl.services.attention import Facts, K3sSupport, judge
from binderctl.services.k3s_releases import Channels, one_minor_at_a_time
from tests.core.test_attention import NOW, kinds, node, state

MINORS = {"v1.32": "v1.32.4+k3s1", "v1.33": "v1.33.6+k3s1", "v1.34": "v1.34.2+k3s1",
          "v1.35": "v1.35.3+k3s1", "v1.36": "v1.36.3+k3s1", "v1.37": "v1.37.1+k3s1"}  # fmt: skip
CHANNELS = Channels({"stable": "v1.36.3+k3s1", "latest": "v1.37.1+k3s1", **MINORS}, "x", NOW)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChannelServer]:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))  # the cache goes there
    runtime = LoopThread("channels")
    channels = ChannelServer(runtime)
    channels.start()
    try:
        yield channels
    finally:
        channels.stop()
        runtime.stop()


def test_the_channel_servers_answer_read_and_cached(server: ChannelServer) -> None:
    import httpx

    read = k3s_releases.channels(server.url)
    assert read.latest == {"stable": "v1.36.3+k3s1", "latest": "v1.37.1+k3s1", **MINORS}
    answer = httpx.get(server.url).json()
    assert (answer["type"], answer["resourceType"]) == ("collection", "channels")
    stable = httpx.get(f"{server.url}/stable")
    assert stable.status_code == 302
    assert stable.headers["location"].endswith("/releases/tag/v1.36.3+k3s1")
    assert httpx.get(f"{server.url}/nothing").status_code == 404
    server.down = True  # the cached answer, with why a fresh one failed
    again = k3s_releases.channels(server.url, refresh=True)
    assert again.latest == read.latest and again.error and "503" in again.error
    assert k3s_releases.known_support(server.url, "stable") == K3sSupport(
        ("v1.35", "v1.36", "v1.37"), "v1.36.3+k3s1", "stable"
    )
    with pytest.raises(BinderctlError, match="cannot read k3s's release channels"):
        k3s_releases.channels(server.url + "/elsewhere")


def test_one_minor_at_a_time_toward_the_channel() -> None:
    assert CHANNELS.supported() == ((1, 35), (1, 36), (1, 37))
    assert not CHANNELS.is_supported("v1.34.2+k3s1") and CHANNELS.is_supported("v1.35.0+k3s1")
    assert CHANNELS.next_step("v1.32.4+k3s1", "v1.36.3+k3s1") == "v1.33.6+k3s1"
    assert CHANNELS.next_step("v1.35.3+k3s1", "v1.36.3+k3s1") == "v1.36.3+k3s1"
    assert CHANNELS.next_step("v1.36.1+k3s1", "v1.36.3+k3s1") == "v1.36.3+k3s1"
    assert CHANNELS.next_step("v1.36.3+k3s1", "v1.36.3+k3s1") is None
    assert one_minor_at_a_time("v1.35.3+k3s1", "v1.36.3+k3s1") is None
    assert "skips a minor" in (one_minor_at_a_time("v1.34.2+k3s1", "v1.36.3+k3s1") or "")
    assert "downgraded" in (one_minor_at_a_time("v1.36.3+k3s1", "v1.35.3+k3s1") or "")
    with pytest.raises(ValueError):
        k3s_releases.release("v1.36.0-rc1+k3s1")


def test_the_window_as_kured_keeps_it() -> None:
    window = Window(("sunday", "3"), "00:00", "02:00", "UTC")  # Sunday and Wednesday
    sunday = datetime(2026, 10, 4, 1, 0, tzinfo=UTC)
    assert contains(window, sunday)
    assert contains(window, sunday.replace(hour=0, minute=0))  # both ends included
    assert contains(window, sunday.replace(hour=2))
    assert not contains(window, sunday.replace(hour=2, second=1))
    assert next_opening(window, sunday.replace(hour=3)) == (
        datetime(2026, 10, 7, 0, 0, tzinfo=UTC), datetime(2026, 10, 7, 2, 0, tzinfo=UTC),
    )  # fmt: skip
    check(Window(("sunday",), "22:00", "02:00"))  # wraps across midnight
    with pytest.raises(ValueError, match="Invalid time format"):
        check(Window(("sunday",), "3:04pm", "02:00"))  # kured's "03:04pm" wants 2 digits
    with pytest.raises(ValueError, match="accepts"):
        check(Window(("Sunday",), "00:00", "02:00"))  # the Plan's enum is lower case


def test_the_controllers_names_and_hash() -> None:
    digest = hashlib.sha224(b"v1.36.3-k3s1system-upgrade").hexdigest()
    plan = system_upgrade.plan_object("binderctl-k3s", node="demo", version="v1.36.3+k3s1")
    assert plan_hash(plan, "v1.36.3-k3s1") == digest
    full = f"apply-binderctl-k3s-on-binderctl-demo-with-{digest}"
    name = safe_concat_name("apply", "binderctl-k3s", "on", "binderctl-demo", "with", digest)
    assert len(name) <= 63 and name.startswith(full[:57])
    assert name.endswith(hashlib.sha256(full.encode()).hexdigest()[:5])
    assert safe_concat_name("apply", "p", "on", "n") == "apply-p-on-n"
    assert system_upgrade.upgrade_image("v1.36.3+k3s1") == "rancher/k3s-upgrade:v1.36.3-k3s1"


def test_the_api_refuses_a_plan_its_crd_refuses() -> None:
    plan = system_upgrade.plan_object("p", version="v1.36.3+k3s1")
    validate(types.PLANS, plan)
    del plan["spec"]["upgrade"]["image"]
    plan["spec"]["window"] = {"days": ["Sunday"], "startTime": "00:00", "endTime": "02:00"}
    with pytest.raises(StoreError) as refused:
        validate(types.PLANS, plan)
    assert refused.value.code == 422
    assert "spec.upgrade.image" in str(refused.value) and "Sunday" in str(refused.value)


def test_attention_names_k3s_out_of_support_or_behind() -> None:
    support = K3sSupport(("v1.35", "v1.36", "v1.37"), "v1.36.3+k3s1", "stable")
    old = judge(state(node_status=node(kubelet_version="v1.32.4+k3s1")), Facts(k3s=support), NOW)
    assert kinds(old) == [("k3s-unsupported", "warning")] and old[0].action == "upgrade-k3s"
    behind = judge(state(node_status=node(kubelet_version="v1.35.3+k3s1")), Facts(k3s=support), NOW)
    assert kinds(behind) == [("k3s-behind", "info")]
    ahead = node(kubelet_version="v1.37.1+k3s1")
    assert kinds(judge(state(node_status=ahead), Facts(k3s=support), NOW)) == []
    assert kinds(judge(state(node_status=node(kubelet_version="v1.32.4+k3s1")), Facts(), NOW)) == []


def test_the_upgrades_table(tmp_path: Path) -> None:
    member = '[members.m]\nbinder_host = "m.example.org"\nssh_allowed_cidrs = ["10.0.0.0/8"]\n'
    config = parse_config(tmp_path / "c.toml", member)
    assert config.upgrades.channel_url == k3s_releases_url()
    assert config.upgrades.window.days == ("sunday",)
    table = '[upgrades]\nchannel = "v1.36"\n[upgrades.window]\ndays = ["sat", "6"]\n'
    assert parse_config(tmp_path / "c.toml", table + member).upgrades.channel == "v1.36"
    for bad, words in (
        ('[upgrades]\nchannel_url = "nope"\n', "upgrades.channel_url"),
        ('[upgrades.window]\ndays = ["Sunday"]\n', "upgrades.window"),
        ('[upgrades.window]\nstart = "03:00"\nend = "25:00"\n', "Invalid time format"),
        ("[upgrades]\nwhen = 1\n", "upgrades.when"),
    ):
        with pytest.raises(ConfigError, match=words):
            parse_config(tmp_path / "c.toml", bad + member)


def k3s_releases_url() -> str:
    from binderctl.upgrades_config import K3S_CHANNEL_URL

    return K3S_CHANNEL_URL


def test_a_plan_without_node_selector_selects_no_node() -> None:
    """plan.go ``NodeSelector``: ``metav1.LabelSelectorAsSelector(nil)`` is
    ``labels.Nothing()``; an empty selector is ``labels.Everything()``."""
    node = {"metadata": {"name": "n", "labels": {"kubernetes.io/hostname": "n"}}}
    plan = system_upgrade.plan_object("p", version="v1.36.3+k3s1")
    del plan["spec"]["nodeSelector"]
    assert not selects(plan, node)
    plan["spec"]["nodeSelector"] = {}
    assert selects(plan, node)
    plan["spec"]["nodeSelector"] = {"matchLabels": {"kubernetes.io/hostname": "other"}}
    assert not selects(plan, node)


def test_the_controller_reads_the_hosts_ca_roots_or_no_https_channel_resolves() -> None:
    """The controller's image is FROM scratch without CA roots: its manifest mounts the
    host's /etc/ssl, /etc/pki and /etc/ca-certificates (system-upgrade-controller v0.20.1
    manifests/system-upgrade-controller.yaml); without them an https channel fails."""
    deployment = yaml.safe_load(system_upgrade.controller_templates()["deployment.yaml"])
    pod = {"metadata": {"name": "suc"}, "spec": deployment["spec"]["template"]["spec"]}
    mounts = {m["mountPath"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]}
    assert {"/etc/ssl", "/etc/pki", "/etc/ca-certificates", "/tmp"} <= set(mounts)
    assert all(mounts[p]["readOnly"] for p in ("/etc/ssl", "/etc/pki", "/etc/ca-certificates"))
    assert channel_error(pod, "https://update.k3s.io/v1-release/channels/stable") is None
    bare = copy.deepcopy(pod)
    bare["spec"].pop("volumes")
    bare["spec"]["containers"][0].pop("volumeMounts")
    error = channel_error(bare, "https://update.k3s.io/v1-release/channels/stable")
    assert error is not None and "x509: certificate signed by unknown authority" in error
    assert channel_error(bare, "http://127.0.0.1:8080/stable") is None
