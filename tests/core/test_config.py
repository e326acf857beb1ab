from pathlib import Path

import pytest

from binderctl.config import load_config, parse_config, render_template
from binderctl.errors import ConfigError

BASE = """
[members.alpha]
binder_host = "alpha.example.org"
ssh_allowed_cidrs = ["203.0.113.0/24"]
"""


def parse(text: str):
    return parse_config(Path("/etc/binderctl.toml"), text)


def test_template_is_valid_and_defaults_apply() -> None:
    member = parse(render_template("demo", "demo.example.org")).member(None)
    assert member.name == "demo"
    assert member.location == "nbg1"
    assert member.server_type == "ccx63"
    assert member.max_pods == 336  # 1.75 x 192 GB
    assert member.hub_host == "hub.demo.example.org"
    assert member.api_allowed_cidrs == member.ssh_allowed_cidrs


def test_minimal_member_gets_defaults() -> None:
    member = parse(BASE).member("alpha")
    assert member.image == "ubuntu-24.04"
    assert member.image_gc_high_percent == 40
    assert member.image_gc_low_percent == 20
    assert str(member.budget_cap_eur) == "300"
    assert member.hcloud_endpoint == "https://api.hetzner.cloud/v1"


def test_max_pods_follows_server_type() -> None:
    member = parse(BASE + 'server_type = "ccx33"\n').member(None)
    assert member.max_pods == 56


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ('ssh_allowed_cidrs = ["10.0.0.0/33"]', "ssh_allowed_cidrs", "not a valid CIDR"),
        ("launch_quota = -1", "launch_quota", "out of range"),
        ('launch_quota = "lots"', "launch_quota", "not a quota"),
        ("max_pods = 5", "max_pods", "out of range"),
        ('max_pods = "many"', "max_pods", "whole number"),
        ("colour = 1", "colour", "unknown key"),
        ('server_type = "Big One"', "server_type", "not allowed"),
        ('k3s_version = "latest"', "k3s_version", "k3s release"),
        ("image_gc_low_percent = 50", "image_gc_low_percent", "must be below"),
        ("budget_cap_eur = 0", "budget_cap_eur", "out of range"),
        ('hcloud_endpoint = "ftp://x"', "hcloud_endpoint", "not a URL"),
        ('cull_timeout = "soon"', "cull_timeout", "not a duration"),
        ('session_egress_bandwidth = "fast"', "session_egress_bandwidth", "not a bandwidth"),
        ('session_egress_bandwidth = "500"', "session_egress_bandwidth", "1k to 1P"),
        ("session_egress_ports = [443, 25]", "session_egress_ports", "port 25 is SMTP"),
    ],
)
def test_bad_values_name_file_key_and_allowed(extra: str, key: str, words: str) -> None:
    text = (
        BASE.replace('ssh_allowed_cidrs = ["203.0.113.0/24"]\n', "")
        if key == ("ssh_allowed_cidrs")
        else BASE
    )
    with pytest.raises(ConfigError) as info:
        parse(text + extra + "\n")
    message = str(info.value)
    assert "/etc/binderctl.toml" in message
    assert f"members.alpha.{key}" in message
    assert words in message
    assert info.value.exit_code == 2


def test_world_open_ssh_is_refused_unless_explicit() -> None:
    world = BASE.replace("203.0.113.0/24", "0.0.0.0/0")
    with pytest.raises(ConfigError, match="whole internet"):
        parse(world)
    member = parse(world + "allow_world_access = true\n").member(None)
    assert member.ssh_allowed_cidrs == ("0.0.0.0/0",)


def test_missing_required_key() -> None:
    with pytest.raises(ConfigError, match=r"members\.alpha\.binder_host: missing"):
        parse('[members.alpha]\nssh_allowed_cidrs = ["203.0.113.0/24"]\n')


def test_toml_syntax_error_names_the_file() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse("[members.alpha\n")


def test_member_selection() -> None:
    two = BASE + BASE.replace("alpha", "beta")
    config = parse(two)
    with pytest.raises(ConfigError, match="pick one with --member"):
        config.member(None)
    assert config.member("beta").binder_host == "beta.example.org"
    with pytest.raises(ConfigError, match="no member named 'gamma'"):
        config.member("gamma")


def test_bad_member_name() -> None:
    with pytest.raises(ConfigError, match="not a valid member name"):
        parse(BASE.replace("alpha", "Alpha_1"))


def test_endpoint_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINDERCTL_HCLOUD_ENDPOINT", "http://127.0.0.1:9999/v1")
    assert parse(BASE).member(None).hcloud_endpoint == "http://127.0.0.1:9999/v1"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config init"):
        load_config(tmp_path / "nope.toml")
