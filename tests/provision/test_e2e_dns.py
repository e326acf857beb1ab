"""DNS before health: the records are printed after the primary IP exists, and the run
waits until they resolve (real DNS queries to the world's DNS server), or goes on
with --skip-dns-wait."""

from __future__ import annotations

import json
import time

from binderctl.demo.world import BINDER_HOST, DemoWorld
from binderctl.errors import EXIT_FAILED
from tests.kit.cli import CLI_TIMEOUT, run_cli, start_cli
from tests.provision.provisionkit import HEALTHY, recorded


def _ipv4(world: DemoWorld) -> str:
    (ip,) = [ip.ip for ip in world.hetzner.project.primary_ips.values() if ip.type == "ipv4"]
    return ip


def test_first_provision_waits_for_dns_says_what_to_set_and_finishes(world: DemoWorld) -> None:
    world.dns.follow_primary_ip = False  # the operator has not created the records yet
    process = start_cli(world, "--provision", "--yes", "-o", "json")
    try:
        deadline = time.monotonic() + CLI_TIMEOUT
        asked = world.dns.queries
        while recorded(world).get("dns", {}).get("state") != "running" or (
            world.dns.queries < asked + 4  # looked up more than once: it is waiting
        ):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "never waited for DNS"
            time.sleep(0.05)
        assert "server" not in recorded(world)  # nothing goes on while DNS is missing
        ipv4 = _ipv4(world)
        world.dns.records = {BINDER_HOST: [ipv4], f"*.{BINDER_HOST}": [ipv4]}
        stdout, stderr = process.communicate(timeout=CLI_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert f"Create these DNS records now: {BINDER_HOST}, *.{BINDER_HOST} -> A {ipv4}" in stderr
    assert f"  *.{BINDER_HOST}  A     {ipv4}" in stderr
    assert f"  {BINDER_HOST}.    300  IN  A  {ipv4}" in stderr
    assert f"waiting for DNS: {BINDER_HOST} does not resolve yet" in stderr
    summary = json.loads(stdout)
    assert summary["health"] == HEALTHY
    assert next(s for s in summary["steps"] if s["step"] == "dns")["message"] == (
        f"{BINDER_HOST}, *.{BINDER_HOST} resolve to {ipv4}"
    )


def test_dns_that_never_comes_fails_with_what_is_wrong(world: DemoWorld) -> None:
    world.dns.follow_primary_ip = False
    world.dns.records = {BINDER_HOST: ["192.0.2.1"]}  # an old record, to another address
    failed = run_cli(world, "--provision", "--yes", "--timeout", "2s")
    assert failed.returncode == EXIT_FAILED, failed.stderr
    ipv4 = _ipv4(world)
    assert (
        f"binderctl: the DNS records are not in place after 2s: {BINDER_HOST} resolves to "
        f"192.0.2.1, not {ipv4}; *.{BINDER_HOST} (hub.{BINDER_HOST}) does not resolve yet"
    ) in failed.stderr
    assert "run `binderctl --provision` again: it resumes here" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert recorded(world)["dns"]["state"] == "failed"
    assert "server" not in recorded(world)


def test_skip_dns_wait_goes_on_without_the_records(world: DemoWorld) -> None:
    world.dns.follow_primary_ip = False
    done = run_cli(world, "--provision", "--yes", "--skip-dns-wait", "-o", "json")
    assert done.returncode == 0, done.stderr
    assert "Create these DNS records now" in done.stderr
    summary = json.loads(done.stdout)
    assert summary["health"] == HEALTHY  # health does not depend on DNS (hub_url_local)
    step = next(s for s in summary["steps"] if s["step"] == "dns")
    assert step["message"].startswith("not checked (--skip-dns-wait)")
