"""The action catalogue: every action and alias reads the same on the `:` line and in
``binderctl``, builds the action it names, and documents its blast radius."""

from __future__ import annotations

import contextlib
import io

import pytest

from binderctl import cli
from binderctl.config import MemberConfig
from binderctl.models import COMPONENTS
from binderctl.screens.command_line import parse_command
from binderctl.screens.messages import PickTarget, RequestAction, ShowScreen
from binderctl.services import catalogue
from binderctl.services.actions import Operations

MEMBER = MemberConfig("m", "m.binder.test", "hub.m.binder.test", ("203.0.113.0/24",), ())


def example(name: str) -> list[str]:
    """``name`` and the arguments its entry shows as an example."""
    found = catalogue.find(name)
    assert found is not None
    action, alias = found
    given = alias is not None and alias.targets
    return [name, *([] if given else action.example.split())]


WORDS = [
    *(example(name) for name in catalogue.names()),
    ["drain", "--wait", "--threshold", "3", "--force-after", "30m", "--timeout", "90s"],
    ["kill-session", "--repo", "https://github.com/o/r"],
    ["kill", "--older-than", "2h"],
    ["kill-session", "jupyter-a", "jupyter-b"],
    ["delete-builds", "--stuck", "--stuck-after", "5m"],
    ["reboot", "--hard"],
    ["upgrade-k3s", "--to", "v1.36.3+k3s1", "--force-after", "10m", "--dry-run"],
    ["upgrade-charts", "--threshold", "5", "--timeout", "20m"],
    ["upgrade-schedule", "--day", "sunday", "saturday", "--start", "01:00", "--end", "03:00"],
    ["upgrade-schedule", "--remove"],
]


def cli_words(words: list[str]) -> list[str]:
    """``binderctl``'s words for an action's: its own ``command`` (``upgrade k3s``) when
    the CLI groups it, else its name."""
    found = catalogue.find(words[0])
    assert found is not None
    return [*(found[0].command or words[:1]), *words[1:]]


@pytest.mark.parametrize("words", WORDS, ids=" ".join)
def test_the_command_line_runs_what_binderctl_runs(words: list[str]) -> None:
    from_cli = catalogue.request_from(cli.build_parser().parse_args(cli_words(words)))
    from_line = parse_command(" ".join(words))
    assert isinstance(from_line, RequestAction) and from_line.request == from_cli
    action = catalogue.build(Operations(MEMBER), from_cli)  # nothing is asked of the cluster
    assert action.name == from_cli.action
    assert action.blast_radius == catalogue.spec(action.name).blast_radius(
        from_cli.targets, from_cli.options
    )
    assert action.blast_radius


def test_an_alias_is_its_action() -> None:
    assert catalogue.parse(["restart-dind"]) == catalogue.parse(["restart", "dind"])
    assert catalogue.parse(["prune"]) == catalogue.request("prune-images")
    assert catalogue.request("kill", ["jupyter-x"]).action == "kill-session"
    assert catalogue.spec("restart").choices == COMPONENTS  # the model's, not a copy


def test_an_action_with_choices_asks_on_the_command_line() -> None:
    assert parse_command("restart") == PickTarget("restart")
    with pytest.raises(ValueError, match="invalid choice"):
        parse_command("restart nothing")
    with pytest.raises(ValueError, match="not allowed with"):
        parse_command("kill jupyter-x --repo r")


def test_screens_take_their_argument_on_the_command_line() -> None:
    assert parse_command("sessions norvig") == ShowScreen("sessions", "norvig")
    assert parse_command("events back off") == ShowScreen("events", "back off")
    assert parse_command("logs hub") == ShowScreen("logs", "hub")
    with pytest.raises(ValueError, match="takes no argument"):
        parse_command("dashboard x")


def test_hints_name_the_key_or_the_command() -> None:
    assert catalogue.hint("restart", "dind") == "r dind"
    assert catalogue.hint("prune-images") == "P"
    assert catalogue.hint("resume") == "U"
    assert catalogue.hint("renew-certs") == ":renew-certs"
    assert catalogue.hint("delete-builds") == ":delete-builds"


def test_help_lists_the_blast_radius_one_case_a_line() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.main(["restart", "--help"])
    lines = out.getvalue().splitlines()
    for component in COMPONENTS:
        (line,) = [line for line in lines if line.startswith(f"  - {component}: ")]
        radius = catalogue.spec("restart").blast_radius([component])
        assert radius.startswith(line.removeprefix(f"  - {component}: "))
