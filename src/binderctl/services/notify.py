"""Where the watcher's notices go: a JSON webhook, a Slack-compatible webhook, a Matrix room.

Each target's secret (the webhook URL, or the Matrix access token) comes from the
environment or the keyring (``binderctl auth login --watch-target NAME``), never from the
config file, and no message this module raises contains it.

The generic webhook receives one JSON object per notice (``WEBHOOK_SCHEMA_VERSION``)::

    {"version": 1, "id": "...", "member": "...", "state": "firing" | "resolved",
     "severity": "error" | "warning" | "info", "kind": "...", "key": "...",
     "summary": "...", "text": "...", "command": "binderctl prune-images" | null,
     "since": "2026-12-05T10:00:00Z", "at": "2026-12-05T10:02:00Z", "repeat": 0}

``id`` is the same on every retry of one notice, so a receiver can drop a repeat; Matrix
does this by itself, as the id is the transaction id of the ``PUT``.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from binderctl import auth
from binderctl.services.alert_state import Notice
from binderctl.services.outbox import DeliveryError

TargetKind = Literal["webhook", "slack", "matrix"]
TARGET_KINDS: tuple[str, ...] = ("webhook", "slack", "matrix")
WEBHOOK_SCHEMA_VERSION = 1
SEND_TIMEOUT = 10.0


@dataclass(frozen=True)
class TargetConfig:
    name: str
    kind: TargetKind
    homeserver: str = ""  # matrix only
    room: str = ""  # matrix only: a room id like !abc:matrix.org

    @property
    def credential(self) -> auth.Credential:
        what = "access token" if self.kind == "matrix" else "webhook URL"
        env = "BINDERCTL_WATCH_" + re.sub(r"[^A-Z0-9]", "_", self.name.upper())
        return auth.Credential(
            f"{what} of watch target {self.name!r}",
            env,
            "watch-target",
            " --watch-target",
            owner="watch target",
        )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(notice: Notice) -> str:
    head = "RESOLVED" if notice.state == "resolved" else notice.severity.upper()
    again = f" (reminder {notice.repeat})" if notice.repeat and notice.state == "firing" else ""
    return f"[{head}] {notice.member}: {notice.text}{again}"


def text(notice: Notice) -> str:
    lines = [summary(notice), f"since {_iso(notice.since)}"]
    if notice.state == "firing" and notice.command:
        lines.append(f"to act: {notice.command}")
    return "\n".join(lines)


def webhook_payload(notice: Notice) -> dict[str, Any]:
    return {
        "version": WEBHOOK_SCHEMA_VERSION,
        "id": notice.id,
        "member": notice.member,
        "state": notice.state,
        "severity": notice.severity,
        "kind": notice.kind,
        "key": notice.key,
        "summary": summary(notice),
        "text": notice.text,
        "command": notice.command,
        "since": _iso(notice.since),
        "at": _iso(notice.at),
        "repeat": notice.repeat,
    }


def _post(client: httpx.Client, target: TargetConfig, method: str, url: str, **kw: Any) -> None:
    try:
        response = client.request(method, url, timeout=SEND_TIMEOUT, **kw)
    except httpx.HTTPError as exc:
        # the exception's text can carry the URL, which is the secret of a webhook
        raise DeliveryError(f"{target.name}: {type(exc).__name__}") from None
    if response.status_code >= 300:
        raise DeliveryError(f"{target.name}: HTTP {response.status_code}")


def sender(
    target: TargetConfig, secret: auth.Secret, client: httpx.Client
) -> Callable[[Notice], None]:
    def webhook(notice: Notice) -> None:
        _post(client, target, "POST", secret.reveal(), json=webhook_payload(notice))

    def slack(notice: Notice) -> None:
        _post(client, target, "POST", secret.reveal(), json={"text": text(notice)})

    def matrix(notice: Notice) -> None:
        room = urllib.parse.quote(target.room, safe="")
        txn = urllib.parse.quote(notice.id, safe="")
        url = f"{target.homeserver}/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}"
        body = {"msgtype": "m.text", "body": text(notice)}
        headers = {"Authorization": f"Bearer {secret.reveal()}"}
        _post(client, target, "PUT", url, json=body, headers=headers)

    return {"webhook": webhook, "slack": slack, "matrix": matrix}[target.kind]
