"""The rollout wait is woken by watches, not by polling: once the cluster is quiet, a
change to what readiness is computed from (applying the charts) is reported."""

from __future__ import annotations

from binderctl.demo.world import DemoWorld
from binderctl.services import charts
from binderctl.services.kube import Kube
from binderctl.services.rollout import Changes
from tests.kit.cli import CLI_TIMEOUT
from tests.kit.worlds import member_of
from tests.provision.provisionkit import provision_through


def test_changes_are_reported_by_the_watches(world: DemoWorld) -> None:
    provision_through(world, "kubeconfig")
    with world.environment():
        member = member_of(world)
        with Kube(member) as kube, Changes(kube) as changes:
            assert changes.wait(CLI_TIMEOUT)  # the first list of each kind
            while changes.wait(0.5):  # until the bundled charts have settled
                pass
            charts.apply_charts(kube, member)
            assert changes.wait(CLI_TIMEOUT)
