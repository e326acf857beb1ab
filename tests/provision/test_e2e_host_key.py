"""A rebuilt server's new SSH host key is refused until the operator accepts it with
``binderctl node forget-host-key``, which asks first, is refused in read-only mode
and is audited."""

from __future__ import annotations

import json

from binderctl.demo.world import MEMBER, DemoWorld
from binderctl.errors import EXIT_FAILED, EXIT_REFUSED, EXIT_USAGE
from binderctl.services.node import known_hosts_path, pinned_host_keys
from tests.kit.cli import run_cli
from tests.kit.worlds import member_of
from tests.provision.provisionkit import HEALTHY, assert_clean, recorded, the_node


def pinned(world: DemoWorld, host: str) -> list[str]:
    with world.environment():
        return [k.get_fingerprint("sha256") for k in pinned_host_keys(member_of(world), host)]


def audited(world: DemoWorld, action: str) -> list[str]:
    lines = (world.home / "state" / MEMBER / "audit.jsonl").read_text().splitlines()
    return [r["outcome"] for r in map(json.loads, lines) if r["action"] == action]


def test_a_rebuilt_server_is_refused_until_its_new_key_is_accepted(world: DemoWorld) -> None:
    assert run_cli(world, "--provision", "--yes").returncode == 0
    node = the_node(world)
    old = node.host_key_fingerprint
    assert pinned(world, node.ip) == [old]
    assert world.runtime is not None
    world.runtime.run(node.rebuild())
    new = node.host_key_fingerprint

    refused = run_cli(world, "--provision", "--yes")
    assert refused.returncode == EXIT_FAILED
    assert f"the SSH host key of {node.ip}:2222 has changed" in refused.stderr
    assert old in refused.stderr and new in refused.stderr
    assert "`binderctl node forget-host-key --member demo`" in refused.stderr
    assert recorded(world)["ssh"]["state"] == "failed"

    unasked = run_cli(world, "node", "forget-host-key")
    assert unasked.returncode == EXIT_REFUSED and "--yes" in unasked.stderr
    readonly = run_cli(world, "--readonly", "node", "forget-host-key", "--yes")
    assert readonly.returncode == EXIT_REFUSED and "read-only" in readonly.stderr
    assert pinned(world, node.ip) == [old]

    forgot = run_cli(world, "node", "forget-host-key", "--yes", "-o", "json")
    assert forgot.returncode == 0, forgot.stderr
    assert json.loads(forgot.stdout)["host"] == node.ip
    assert pinned(world, node.ip) == []
    assert audited(world, "forget-host-key") == ["refused", "refused", "ok"]

    again = run_cli(world, "--provision", "--yes", "-o", "json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["health"] == HEALTHY
    assert pinned(world, node.ip) == [new]
    assert_clean(world, refused.stderr, forgot.stdout, again.stdout, again.stderr)


def test_forget_host_key_with_nothing_pinned_changes_nothing(world: DemoWorld) -> None:
    nothing = run_cli(world, "node", "forget-host-key", "--yes")
    assert nothing.returncode == 0, nothing.stderr
    assert "no SSH host key is pinned for member 'demo'" in nothing.stderr
    with world.environment():
        assert not known_hosts_path(member_of(world)).exists()


def test_forget_host_key_asks_which_of_several_addresses(world: DemoWorld) -> None:
    import asyncssh

    from binderctl.paths import write_private

    key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    with world.environment():
        path = known_hosts_path(member_of(world))
        write_private(path, f"[127.0.0.7]:2222 {key}\n[127.0.0.8]:2222 {key}\n")
    several = run_cli(world, "node", "forget-host-key", "--yes")
    assert several.returncode == EXIT_USAGE
    assert "127.0.0.7, 127.0.0.8" in several.stderr and "--host" in several.stderr
    chosen = run_cli(world, "node", "forget-host-key", "--yes", "--host", "127.0.0.8")
    assert chosen.returncode == 0, chosen.stderr
    assert pinned(world, "127.0.0.7") and not pinned(world, "127.0.0.8")
