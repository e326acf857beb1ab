"""The outbox against a real HTTP receiver: order, retries, no loss, no repeats."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from binderctl.auth import Secret
from binderctl.services.alert_state import Notice
from binderctl.services.notify import TargetConfig, sender
from binderctl.services.outbox import Outbox, OutboxLocked
from tests.watch.receiver import Receiver


def notice(n: int, state: str = "firing") -> Notice:
    return Notice(
        id=f"m/k{n}/0.000/{state}",
        member="m",
        kind="disk-pressure",
        key=f"k{n}",
        state=state,  # type: ignore[arg-type]
        severity="error",
        text=f"finding {n}",
        command="binderctl prune-images",
        since=0.0,
        at=float(n),
    )


def _log(event: str, fields: dict[str, object]) -> None:
    pass


def test_notices_wait_for_a_target_that_is_down_and_arrive_in_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    with Receiver() as receiver, httpx.Client() as client:
        send = {"hook": sender(TargetConfig("hook", "webhook"), Secret(receiver.url, "t"), client)}
        receiver.down = True
        for n in range(5):
            outbox.put(notice(n), ("hook",))
        assert outbox.deliver(send, now=0, log=_log) == 0
        assert outbox.deliver(send, now=1, log=_log) == 0  # backing off: not even tried
        receiver.down = False
        assert outbox.deliver(send, now=1000, log=_log) == 5
        assert [n["text"] for n in receiver.notices()] == [f"finding {n}" for n in range(5)]
        assert outbox.deliver(send, now=2000, log=_log) == 0
        assert len(receiver.notices()) == 5
    assert outbox.queued() == []


def test_a_notice_stays_until_every_target_has_it(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    with Receiver() as up, Receiver() as down, httpx.Client() as client:
        down.down = True
        send = {
            "up": sender(TargetConfig("up", "slack"), Secret(up.url, "t"), client),
            "down": sender(TargetConfig("down", "webhook"), Secret(down.url, "t"), client),
        }
        outbox.put(notice(1), ("up", "down"))
        assert outbox.deliver(send, now=0, log=_log) == 1
        assert [q.owed for q in outbox.queued()] == [("down",)]
        # a new outbox on the same directory (a restart) still owes it, and only to "down"
        again = Outbox(tmp_path / "outbox")
        down.down = False
        assert again.deliver(send, now=0, log=_log) == 1
        assert len(up.notices()) == 1 and len(down.notices()) == 1
        assert up.notices()[0]["text"].startswith("[ERROR] m: finding 1")


def test_outbox_files_are_private_and_one_watcher_holds_it(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    outbox.put(notice(1), ("hook",))
    for path in (tmp_path / "outbox").iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700
    with outbox.locked(), pytest.raises(OutboxLocked), Outbox(tmp_path / "outbox").locked():
        pass


def test_a_matrix_target_puts_with_the_notice_id_as_transaction(tmp_path: Path) -> None:
    with Receiver() as homeserver, httpx.Client() as client:
        target = TargetConfig("room", "matrix", homeserver.url, "!abc:example.org")
        sender(target, Secret("s3cret-token", "t"), client)(notice(7))
        method, path, headers = homeserver.requests[0]
        assert method == "PUT"
        assert path == (
            "/_matrix/client/v3/rooms/%21abc%3Aexample.org/send/m.room.message/"
            "m%2Fk7%2F0.000%2Ffiring"
        )
        assert headers["Authorization"] == "Bearer s3cret-token"
        assert homeserver.notices()[0]["msgtype"] == "m.text"
