"""Every CLI argument under arbitrary values: a result, or exit code 2 with one clear
error line, never a traceback. The member points at closed ports, so a command whose
arguments parse fails fast (exit 1) on its first connection."""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binderctl.cli import build_parser
from binderctl.commands.arguments import duration
from binderctl.config import load_config
from binderctl.demo.world import patched_environ
from binderctl.errors import EXIT_USAGE, UsageError
from binderctl.parsing import parse_duration, parse_hostname, parse_member_name
from binderctl.services.logs import log_target
from tests.fuzz.fuzzkit import MEMBER, Sandbox, assert_usage_error, budget, make_sandbox
from tests.kit.cli import Result, run_main

# Values as a shell can pass them: anything but NUL. Lone surrogates are what Python
# makes of bytes in argv that are not UTF-8.
ARG = st.one_of(
    st.text(st.characters(blacklist_characters="\x00"), max_size=40),
    st.sampled_from(["", " ", "-1", "1e3", "0x10", "1_000", "\u0663", "\u00b2", "9" * 5000]),
    st.sampled_from(["10m", "1h30m", " 2H ", "366d", "367d", "0", "17", "\x1b[2J", "\udcff"]),
)
counter = itertools.count()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = make_sandbox(tmp_path_factory.mktemp("cli"))
    with patched_environ(box.env):
        yield box


def assert_proceeded(result: Result) -> None:
    """Past argument parsing: done, failed on the closed port, or refused."""
    assert result.code in (0, 1, 3), result
    assert "Traceback" not in result.err


# -- durations ---------------------------------------------------------------------------
# What a command needs besides the option under test (commands not listed need nothing).
BASE_ARGV = {
    "logs": ["logs", "hub"],
    "restart": ["restart", "hub", "--yes"],
    "rollback": ["rollback", "hub", "--yes"],
    "kill-session": ["kill-session", "--yes"],
    "drain": ["drain", "--yes"],
    "delete-builds": ["delete-builds", "--yes"],
    "k3s": ["upgrade", "k3s", "--yes"],  # the `upgrade` group's
    "charts": ["upgrade", "charts", "--yes"],
    "ban": ["ban", "org/repo", "--yes"],
    "unban": ["unban", "org/repo", "--yes"],
    "report": ["abuse", "report"],
}


def duration_options() -> list[tuple[list[str], str]]:
    """Every option of every command (but ``demo``) that takes a duration."""
    found = []
    for name, parser in subcommands(build_parser()):
        for action in parser._actions:
            if action.type is duration and name != "demo":
                found.append((BASE_ARGV.get(name, [name]), action.option_strings[-1]))
    return found


def subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield name, child
                yield from subcommands(child)


def test_every_duration_option_is_fuzzed() -> None:
    options = {(argv[0], option) for argv, option in duration_options()}
    assert {("kill-session", "--older-than"), ("drain", "--force-after"), ("logs", "--since"),
            ("audit", "--since")} <= options  # fmt: skip


@pytest.mark.parametrize(("argv", "option"), duration_options())
@budget(ci=20)
@given(value=ARG)
def test_duration_options(sandbox: Sandbox, argv: list[str], option: str, value: str) -> None:
    result = run_main([*argv, f"{option}={value}"])
    try:
        seconds = parse_duration(value)
    except ValueError:
        assert_usage_error(result, f"argument {option}", "duration")
    else:
        if (argv[0], option) == ("logs", "--since") and seconds < 1:  # the API's floor
            assert_usage_error(result, "--since must be at least 1s")
        else:
            assert_proceeded(result)


# -- whole numbers -----------------------------------------------------------------------
INTEGER_OPTIONS = [
    (["drain", "--yes"], "--threshold", 0, 100_000),
    (["logs", "hub"], "--tail", 0, 1_000_000),
    (["events"], "--limit", 1, 10_000),
]


def whole_number(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


@pytest.mark.parametrize(("argv", "option", "low", "high"), INTEGER_OPTIONS)
@budget(ci=25)
@given(value=st.one_of(ARG, st.integers(-(10**7), 10**7).map(str)))
def test_integer_options(
    sandbox: Sandbox, argv: list[str], option: str, low: int, high: int | None, value: str
) -> None:
    result = run_main([*argv, f"{option}={value}"])
    number = whole_number(value)
    if number is None or not low <= number <= high:
        assert_usage_error(result, f"argument {option}")
    else:
        assert_proceeded(result)


# -- names, hosts, members, targets ------------------------------------------------------
@budget(ci=40)
@given(
    name=st.one_of(ARG, st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)),
    host=st.one_of(ARG, st.from_regex(r"([a-z0-9]{1,10}\.){1,3}[a-z]{2,6}", fullmatch=True)),
)
def test_config_init(sandbox: Sandbox, name: str, host: str) -> None:
    target = sandbox.home.parent / "init" / f"{next(counter)}.toml"
    result = run_main(["config", "init", f"--config={target}", f"--name={name}",
                      f"--binder-host={host}"])  # fmt: skip
    try:
        parse_member_name(name)
        expected_host = parse_hostname(host)
    except ValueError as exc:
        assert_usage_error(result, str(exc))
        assert not target.exists()
        return
    assert result.code == 0, result
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert load_config(target).member(name).binder_host == expected_host


@budget(ci=30)
@given(member=st.one_of(ARG, st.just(MEMBER)))
def test_member_option(sandbox: Sandbox, member: str) -> None:
    result = run_main(["sessions", f"--member={member}"])
    if member == MEMBER:
        assert_proceeded(result)
    else:
        assert_usage_error(result, "no member named", str(sandbox.config_path))


@budget(ci=40)
@given(target=ARG)
def test_log_targets(sandbox: Sandbox, target: str) -> None:
    result = run_main(["logs", "--", target])
    try:
        log_target(target)
    except UsageError:
        assert_usage_error(result, "not a log target")
    else:
        assert_proceeded(result)


@budget(ci=20)
@given(name=ARG, repo=ARG)
def test_free_text_arguments_never_break(sandbox: Sandbox, name: str, repo: str) -> None:
    """Pod names and repo URLs are matched, not parsed: any value gets that far."""
    assert_proceeded(run_main(["kill-session", "--yes", "--", name]))
    assert_proceeded(run_main(["sessions", f"--repo={repo}"]))


# -- config paths ------------------------------------------------------------------------
FILE_NAME = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/"),
    min_size=1,
    max_size=60,
)


def odd_path(root: Path, kind: str) -> str:
    """A --config value of the ``kind``, made under ``root``."""
    root.mkdir(exist_ok=True)
    (root / "latin1.toml").write_bytes(b"[members.caf\xe9]\n")
    (root / "binary.toml").write_bytes(bytes(range(256)))
    return {
        "directory": str(root),
        "not utf-8": str(root / "latin1.toml"),
        "binary": str(root / "binary.toml"),
        "under a file": str(root / "latin1.toml" / "x.toml"),
        "unknown user": "~binderctl-no-such-user/config.toml",
        "too long": str(root / ("n" * 300)),
        "empty": "",
        "unreadable": str(unreadable(root / "unreadable.toml")),
    }[kind]


def unreadable(path: Path) -> Path:
    if not path.exists():
        path.write_text("[members.x]\n")
        path.chmod(0)
    return path


ODD = ["directory", "not utf-8", "binary", "under a file", "unknown user", "too long", "empty",
       "unreadable"]  # fmt: skip


@pytest.mark.parametrize("kind", ODD)
@pytest.mark.parametrize("command", [["status"], ["config", "check"], ["config", "init"]])
def test_odd_config_paths(sandbox: Sandbox, kind: str, command: list[str]) -> None:
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    result = run_main([*command, f"--config={odd_path(sandbox.home.parent / 'odd', kind)}"])
    if command == ["config", "init"] and kind in ("directory", "not utf-8", "binary", "unreadable"):
        assert_usage_error(result, "already exists")
    else:
        assert_usage_error(result)


@budget(ci=30)
@given(name=FILE_NAME, command=st.sampled_from([["status"], ["config", "check"],
                                                ["config", "path"]]))  # fmt: skip
def test_odd_unicode_config_paths(sandbox: Sandbox, name: str, command: list[str]) -> None:
    path = sandbox.home.parent / "missing" / name
    result = run_main([*command, "--config", str(path)])
    if command == ["config", "path"]:
        assert result.code == 0 and result.out == f"{path}\n"
    else:
        assert_usage_error(result, "no configuration file")


# -- anything at all ---------------------------------------------------------------------
WORDS = [
    "status", "sessions", "builds", "events", "logs", "hub", "builds", "drain", "resume",
    "restart", "proxy", "kill-session", "delete-builds", "audit", "budget", "config", "check",
    "path", "auth", "status", "--wait", "--threshold", "--force-after", "--since", "--tail",
    "--limit", "--repo", "--older-than", "--member", "-o", "json", "text", "--readonly", "-y",
    "--yes", "-f", "--previous", "--timestamps", "-c", "--stuck", "--failed", "--", "-h",
    "--version", "--dry-run", "teardown", "--keep-ip",
]  # fmt: skip


def headless(argv: list[str]) -> bool:
    """Whether ``argv`` runs a command that ends by itself: not the console (no
    command), not ``--demo``/``--provision``/``demo``, not ``config init`` (it would
    replace the sandbox's config). Argument errors count: they end at once."""
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            args = build_parser().parse_args(argv)
    except SystemExit:
        return True
    return (
        args.command not in (None, "demo")
        and not (args.provision or args.demo)
        and getattr(args, "config_action", None) != "init"
    )


@budget(ci=80)
@given(argv=st.lists(st.one_of(st.sampled_from(WORDS), ARG), max_size=7).filter(headless))
def test_any_argv(sandbox: Sandbox, argv: list[str]) -> None:
    result = run_main(argv)
    if result.code == EXIT_USAGE:
        assert_usage_error(result)
    else:
        assert result.code in (0, 1, 3), result
    assert "Traceback" not in result.err


# -- the real entry point ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([b"logs", b"hub", b"--since=-5m"], b"argument --since"),
        ([b"kill-session", b"--older-than", b"forever"], b"not a duration"),
        ([b"drain", b"--threshold", b"-1"], b"argument --threshold"),
        ([b"audit", b"--since", b"\x1b[2J"], b"\\x1b[2J"),
        ([b"--config", b"/", b"status"], b"Is a directory"),
        ([b"--config", b"~binderctl-no-such-user/c.toml", b"status"], b"no such user"),
        ([b"--config", b"/nonexistent/\xff\xfe.toml", b"status"], b"\\udcff\\udcfe"),
        ([b"--member", b"\xe2\x80\xae\xff", b"status"], b"no member named"),
        ([b"status", b"\x1b]8;;http://evil\x07"], b"unrecognized arguments: ?]8;;"),
    ],
)
def test_real_entry_point(sandbox: Sandbox, argv: list[bytes], words: bytes) -> None:
    result = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"binderctl", *argv],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
        timeout=60,
        check=False,
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith(b"binderctl:")]
    assert result.returncode == EXIT_USAGE, result.stderr
    assert len(errors) == 1 and words in errors[0], result.stderr
    assert b"\x1b" not in result.stderr and b"Traceback" not in result.stderr
    assert result.stdout == b""
