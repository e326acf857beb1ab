"""The console's start: the live model is started first, once, and the service layer is
imported after it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from binderctl.errors import ConfigError
from binderctl.services.startup import Startup
from tests.ops.ops_world import OpsWorld


def test_the_model_started_first_is_taken_once(world: OpsWorld) -> None:
    startup = Startup(world.member).start()
    model = startup.take_model()
    assert model is not None
    try:
        assert model.wait_synced(20)
        assert len(model.state().sessions) == 30
        startup.drawn()  # what the console says once it has shown the model
        assert startup.ready.wait(20)
        assert startup.take_model() is None  # a reconnect starts a model of its own
    finally:
        model.stop()
        model.kube.close()


def test_a_member_without_a_cluster_fails_when_taken(world: OpsWorld) -> None:
    startup = Startup(replace(world.member, name="nowhere")).start()
    with pytest.raises(ConfigError, match="not provisioned yet"):
        startup.take_model()
    assert startup.ready.wait(20)


def test_without_a_member_only_the_services_are_loaded() -> None:
    startup = Startup(None).start()
    assert startup.take_model() is None
    assert startup.ready.wait(20)
