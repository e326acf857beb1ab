"""A create whose answer is lost: hcloud retries a 504 (and 502, and a timeout), POSTs
too, and the retry meets ``uniqueness_error`` for what the first attempt made. That is
the member's own resource: provisioning carries on, and nothing is made twice."""

from __future__ import annotations

import hcloud
import pytest

from binderctl.config import load_config
from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.services.hetzner import HetznerService
from binderctl.services.provision import STEPS, provision
from tests.faults.fault_checks import SELECTOR

HETZNER_STEPS = [s for s in STEPS if s.name in ("check", "ssh-key", "firewall", "primary-ip")]
SERVER_STEP = [s for s in STEPS if s.name == "server"]


@pytest.mark.parametrize("path", ["/ssh_keys", "/firewalls", "/primary_ips", "/servers"])
def test_a_create_retried_after_a_lost_answer_is_the_members_own(
    demo_world: DemoWorld, path: str
) -> None:
    lost = demo_world.hetzner.faults.fail("POST", path, status=504, after=True)
    with demo_world.environment():
        member = load_config(demo_world.config_path).member(MEMBER)
        summary = provision(
            member, HetznerService.for_member(member), lambda e: None, HETZNER_STEPS + SERVER_STEP
        )
    assert lost.seen == 2  # the first attempt (answer lost) and hcloud's retry
    assert [s["state"] for s in summary.steps] == ["done"] * 5
    api = hcloud.Client(demo_world.token, api_endpoint=demo_world.hetzner.url)
    for kind in (api.servers, api.firewalls, api.ssh_keys, api.primary_ips):
        assert len(kind.get_all(label_selector=SELECTOR)) == 1
    assert api.servers.get_all()[0].status == "running"
