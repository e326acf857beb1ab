"""The operations that reach the node itself, through the real CLI against a provisioned
demo member: disk usage and image prune over SSH, certificate rotation with a fresh
kubeconfig, soft and hard reboots through the Hetzner API; each leaves an audit record."""

from __future__ import annotations

import base64
import json
import re
import stat
import time

import hcloud
from cryptography import x509

from binderctl.demo.world import DemoWorld
from tests.kit.cli import run_cli
from tests.provision.provisionkit import assert_clean

BACK_WITHIN = 60.0  # seconds for the member to answer `status` again after a reboot


def disk(world: DemoWorld, *flags: str) -> dict[str, int | None]:
    done = run_cli(world, "status", *flags, "-o", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["node"]["disk"]


def client_certificate(world: DemoWorld) -> x509.Certificate:
    for line in world.kubeconfig_path.read_text().splitlines():
        if "client-certificate-data" in line:
            data = base64.b64decode(line.split(":", 1)[1].strip())
            return x509.load_pem_x509_certificate(data)
    raise AssertionError("no client certificate in the kubeconfig")


def status_until_ok(world: DemoWorld) -> None:
    deadline = time.monotonic() + BACK_WITHIN
    while (done := run_cli(world, "status")).returncode != 0:
        assert time.monotonic() < deadline, f"the member did not come back: {done.stderr}"
        time.sleep(0.2)


def test_prune_rotate_and_reboot_the_node(world: DemoWorld) -> None:
    world.provision()
    assert disk(world)["used"] is None  # read over SSH only when asked
    used, capacity = disk(world, "--disk").values()
    assert isinstance(used, int) and isinstance(capacity, int) and 0 < used < capacity

    pruned = run_cli(world, "prune-images", "--yes")
    assert pruned.returncode == 0, pruned.stderr
    assert re.fullmatch(r"removed \d+ image\(s\), freed .+; disk .+/.+ used\n", pruned.stdout)

    old = client_certificate(world)
    rotated = run_cli(world, "renew-certs", "--yes")
    assert rotated.returncode == 0, rotated.stderr
    new = client_certificate(world)
    assert new.serial_number != old.serial_number
    assert new.not_valid_after_utc >= old.not_valid_after_utc
    assert new.not_valid_after_utc.strftime("%Y-%m-%d") in rotated.stdout
    assert stat.S_IMODE(world.kubeconfig_path.stat().st_mode) == 0o600
    status_until_ok(world)

    api = hcloud.Client(world.token, api_endpoint=world.hetzner.url)
    for args, command in ((["reboot"], "reboot_server"), (["reboot", "--hard"], "reset_server")):
        done = run_cli(world, *args, "--yes")
        assert done.returncode == 0, done.stderr
        (server,) = api.servers.get_all()
        commands = [a.command for a in api.servers.get_actions_list(server).actions]
        assert command in commands
        status_until_ok(world)

    audit = run_cli(world, "audit", "-o", "json")
    seen = [(r["action"], r["outcome"]) for r in json.loads(audit.stdout)]
    assert seen == [
        ("prune-images", "ok"),
        ("renew-certs", "ok"),
        ("reboot", "ok"),
        ("reboot", "ok"),
    ]
    assert_clean(world, pruned.stdout, pruned.stderr, rotated.stdout, rotated.stderr)
