"""A chart that never becomes ready fails the run within ``--timeout``, naming what is
not ready and why (that the next run finishes once the cause is gone is in
test_e2e_interrupt's rollout case)."""

from __future__ import annotations

from binderctl.demo.member.charts import CHP_IMAGE
from binderctl.demo.world import DemoWorld
from binderctl.errors import EXIT_FAILED
from tests.kit.cli import run_cli
from tests.provision.provisionkit import assert_clean, provision_through, recorded


def test_a_deployment_that_never_becomes_ready_is_named(world: DemoWorld) -> None:
    provision_through(world, "kubeconfig")
    faults = world.cluster().member.faults
    faults.unpullable_images.add(CHP_IMAGE)  # the proxy's image cannot be pulled
    failed = run_cli(world, "--provision", "--yes", "--timeout", "3s")
    assert failed.returncode == EXIT_FAILED
    assert_clean(world, failed.stdout, failed.stderr)
    error = failed.stderr.splitlines()[-2]
    assert error.startswith("binderctl: not ready after 3s: ")
    assert "deployment binderhub/proxy: 0/1 ready (" in error
    assert "ImagePullBackOff" in error or "ErrImagePull" in error
    assert "binderctl events" in failed.stderr.splitlines()[-1]
    assert recorded(world)["rollout"]["state"] == "failed"
    assert "health" not in recorded(world)
