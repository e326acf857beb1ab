"""The config loader under arbitrary input: a Config, or exactly one ConfigError (exit
code 2) whose single line names the file and the key, never another exception."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from binderctl import config
from binderctl.config import Config, load_config, parse_config, render_template
from binderctl.errors import EXIT_USAGE, ConfigError
from binderctl.services.attention import world_open_ports
from tests.fuzz.fuzzkit import assert_usage_error, budget
from tests.kit.cli import run_main

PATH = Path("/etc/binderctl/odd ☃ dir/config.toml")
KEYS = sorted(config._PARSERS)  # every key a member table may have
BASE = {"binder_host": "alpha.example.org", "ssh_allowed_cidrs": ["203.0.113.0/24"]}
# A bad value of one key can be reported on the key it conflicts with.
ALSO_NAMED = {
    "image_gc_high_percent": {"image_gc_low_percent"},
    "server_type": {"max_pods"},
    "ssh_allowed_cidrs": {"api_allowed_cidrs"},
}

SCALARS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "none", "0.0.0.0/0", "::/0", "10m", "2G", "~nouser/key", "x" * 500]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.booleans(),
    st.datetimes(max_value=dt.datetime(9999, 1, 1)),
    st.dates(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def outcome(text: str) -> Config | ConfigError:
    """parse_config's answer; any exception other than ConfigError fails the test."""
    try:
        return parse_config(PATH, text)
    except ConfigError as exc:
        assert exc.exit_code == EXIT_USAGE
        message = str(exc)
        assert message.startswith(f"{PATH}: "), message
        assert "\n" not in message and "\x1b" not in message
        return exc


def named_key(error: ConfigError) -> str:
    """The key an error names: ``members.alpha.launch_quota`` -> ``launch_quota``."""
    match = re.match(re.escape(f"{PATH}: ") + r"members\.alpha\.([a-z0-9_]+):", str(error))
    assert match, str(error)
    return match.group(1)


def dumps(document: dict[str, Any]) -> str:
    try:
        return tomli_w.dumps(document)
    except (TypeError, ValueError):  # a value TOML cannot hold (tomli-w refuses it)
        return ""


@budget(ci=200)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_any_text(text: str) -> None:
    outcome(text)


LINES = st.sampled_from(
    [
        "[members.alpha]",
        "[members.Alpha_1]",
        "[members]",
        "[other]",
        'binder_host = "alpha.example.org"',
        'ssh_allowed_cidrs = ["203.0.113.0/24"]',
        'ssh_allowed_cidrs = ["0.0.0.0/1", "128.0.0.0/1"]',
        "allow_world_access = true",
        "launch_quota = -1",
        'cull_timeout = "1h30m"',
        "image_gc_low_percent = 50",
        '"\\u001b[2J" = 1',
        "members = 3",
        "a = [[[[[[[[1]]]]]]]]",
        "a = " + "[" * 2000 + "]" * 2000,
    ]
)


@budget(ci=100)
@given(st.lists(st.one_of(LINES, st.text(max_size=30)), max_size=12))
def test_plausible_files(lines: list[str]) -> None:
    outcome("\n".join(lines))


@budget(ci=200)
@given(st.sampled_from(KEYS), VALUES)
def test_any_value_for_any_key(key: str, value: Any) -> None:
    text = dumps({"members": {"alpha": {**BASE, key: value}}})
    result = outcome(text)
    if isinstance(result, ConfigError) and text:
        assert named_key(result) in {key} | ALSO_NAMED.get(key, set())


@budget(ci=80)
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(["alpha", "beta-2", "x"]), st.text(max_size=12)),
        st.one_of(
            VALUES,
            st.fixed_dictionaries(
                {k: st.just(v) for k, v in BASE.items()},
                optional={k: VALUES for k in ("launch_quota", "max_pods", "ssh_key")},
            ),
        ),
        max_size=3,
    ),
    st.dictionaries(st.text(max_size=8), VALUES, max_size=2),
)
def test_any_members_table(members: dict[str, Any], extra: dict[str, Any]) -> None:
    outcome(dumps({"members": members, **extra}))


@pytest.mark.parametrize(
    "cidrs",
    [["0.0.0.0/0"], ["::/0"], ["203.0.113.0/24", "::/0"], ["0.0.0.0/1", "128.0.0.0/1"]],
)
@pytest.mark.parametrize("key", ["ssh_allowed_cidrs", "api_allowed_cidrs"])
def test_the_world_is_refused_unless_explicit(cidrs: list[str], key: str) -> None:
    member = {**BASE, key: cidrs}
    refused = outcome(tomli_w.dumps({"members": {"alpha": member}}))
    assert isinstance(refused, ConfigError)
    assert named_key(refused) == key
    port = "22 (SSH)" if key.startswith("ssh") else "6443 (Kubernetes API)"
    assert f"opens port {port} to the whole internet" in str(refused)
    assert "allow_world_access = true" in str(refused)
    allowed = outcome(tomli_w.dumps({"members": {"alpha": {**member, "allow_world_access": True}}}))
    assert isinstance(allowed, Config)
    # allowed deliberately, and then `status` says so
    assert int(port.split()[0]) in world_open_ports(allowed.member("alpha"))


def test_the_template_refuses_the_world_too() -> None:
    """What `config init` writes, with the example network swapped for the world."""
    template = render_template("alpha", "alpha.example.org")
    for world in ("0.0.0.0/0", "::/0"):
        result = outcome(template.replace("203.0.113.0/24", world))
        assert isinstance(result, ConfigError) and named_key(result) == "ssh_allowed_cidrs"


@pytest.mark.parametrize(
    ("document", "shown"),
    [
        ({"members": {"alpha": {**BASE, "\x1b[2J": 1}}}, 'members.alpha."\\u001b[2J"'),
        ({"members": {"\x1b]8;;x\x07": {}}}, 'members."\\u001b]8;;x\\u0007"'),
        ({"\u202eevil": 1}, '"\\u202eevil"'),
        ({"members": {"alpha": {**BASE, "k" * 100: 1}}}, f'members.alpha."{"k" * 60}\\u2026"'),
    ],
)
def test_odd_keys_are_named_inertly(document: dict[str, Any], shown: str) -> None:
    """Quoted and escaped as TOML would spell them, and shortened."""
    error = outcome(tomli_w.dumps(document))
    assert isinstance(error, ConfigError)
    assert str(error).startswith(f"{PATH}: {shown}: ")


def odd_files(tmp: Path) -> dict[str, Path]:
    files = {
        "missing": tmp / "missing ☃" / "config.toml",
        "directory": tmp,
        "not utf-8": tmp / "latin1.toml",
        "nul bytes": tmp / "nul.toml",
        "deep nesting": tmp / "deep.toml",
        "under a file": tmp / "latin1.toml" / "config.toml",
    }
    files["not utf-8"].write_bytes(b'[members.caf\xe9]\nbinder_host = "\xff"\n')
    files["nul bytes"].write_bytes(b"[members.a]\x00\n")
    files["deep nesting"].write_text("a = " + "{b = " * 3000 + "1" + "}" * 3000)
    return files


def test_odd_files_are_one_clear_error(tmp_path: Path) -> None:
    for kind, path in odd_files(tmp_path).items():
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert str(info.value).startswith(f"{path}: "), kind
        result = run_main(["--config", str(path), "config", "check"])
        assert_usage_error(result, str(path))
