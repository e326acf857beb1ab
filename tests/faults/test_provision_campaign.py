"""The provisioning fault campaign, CI size: a few seeds that together inject every kind
of fault. Full size: ``scripts/fault_campaign.py --runs 200``."""

from __future__ import annotations

import random

import hcloud
import pytest

from binderctl.demo.world import DemoWorld
from tests.faults.fault_catalogue import HTTP_KINDS, KUBE_KINDS, OTHER_KINDS, draw
from tests.faults.fault_checks import inspect_member
from tests.faults.fault_runs import CLIENT_TIMEOUT, Tally, Via, provision_run
from tests.faults.faultworld import OPTIONS
from tests.kit.worlds import member_of


def covering_seeds(client_timeout: float | None) -> list[int]:
    """The fewest early seeds (greedily) whose plans together hold every fault kind."""
    wanted = {*HTTP_KINDS, *OTHER_KINDS, *KUBE_KINDS} - (
        {"timeout"} if client_timeout is None else set()
    )
    seeds: list[int] = []
    for seed in range(1000):
        kinds = {f.kind for f in draw(random.Random(seed), client_timeout=client_timeout).faults}
        if kinds & wanted:
            seeds.append(seed)
            wanted -= kinds
        if not wanted:
            return seeds
    raise AssertionError(f"no seed below 1000 draws {wanted}")


IN_PROCESS = covering_seeds(CLIENT_TIMEOUT[1])
CLI = covering_seeds(None)[:2]


def run_all(seeds: list[int], via: Via) -> Tally:
    tally = Tally()
    for seed in seeds:
        tally.add(provision_run(seed, via))
    return tally


@pytest.mark.parametrize("half", [0, 1])
def test_runs_in_process_complete_or_resume_leaving_one_known_server(half: int) -> None:
    tally = run_all(IN_PROCESS[half::2], "in-process")
    assert tally.clean, tally.report()
    assert tally.injected >= tally.runs and tally.failed_then_resumed >= 1, tally.report()


def test_runs_through_the_cli_complete_or_resume_leaving_one_known_server() -> None:
    tally = run_all(CLI, "cli")
    assert tally.clean, tally.report()
    assert tally.injected >= 1 and tally.failed_then_resumed >= 1, tally.report()


def test_the_checks_see_a_duplicate_and_an_orphan() -> None:
    with DemoWorld(**OPTIONS) as world:
        world.provision()
        assert inspect_member(world).sound
        api = hcloud.Client(world.token, api_endpoint=world.hetzner.url)
        stray = api.firewalls.create(name="stray", labels=member_of(world).labels).firewall
        found = inspect_member(world)
    assert found.duplicates == 1 and found.orphans == (f"firewall stray (id {stray.id})",)
    assert not found.sound
