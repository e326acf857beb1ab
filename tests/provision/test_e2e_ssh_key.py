"""A missing or unusable SSH key stops ``binderctl --provision`` with a clear error
(exit 2) before anything is created at Hetzner."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from binderctl.demo.world import DemoWorld
from binderctl.errors import EXIT_USAGE
from tests.kit.cli import run_cli
from tests.kit.worlds import NOTHING, labelled
from tests.provision.provisionkit import recorded


def missing(world: DemoWorld) -> None:
    world.key_path.unlink()


def a_directory(world: DemoWorld) -> None:
    world.key_path.unlink()
    world.key_path.mkdir()


def not_a_key(world: DemoWorld) -> None:
    world.key_path.write_text("this is not a key\n")


def unreadable(world: DemoWorld) -> None:
    world.key_path.chmod(0)


CASES: dict[str, tuple[Callable[[DemoWorld], None], str]] = {
    "missing": (missing, "does not exist"),
    "a directory": (a_directory, "is a directory, not a private key file"),
    "not a key": (not_a_key, "is not a private key binderctl can use"),
    "unreadable": (unreadable, "cannot read the SSH private key"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_ssh_key_stops_before_anything_is_created(case: str, world: DemoWorld) -> None:
    if case == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads any file")
    spoil, message = CASES[case]
    spoil(world)
    refused = run_cli(world, "--provision", "--yes")
    assert refused.returncode == EXIT_USAGE, refused.stderr
    assert message in refused.stderr and str(world.key_path) in refused.stderr
    assert "Traceback" not in refused.stderr
    assert recorded(world)["check"]["state"] == "failed"
    assert set(recorded(world)) == {"check"}
    assert labelled(world) == NOTHING
    assert refused.stdout == ""
