"""Launching through BinderHub as a launch link's page does: ``GET /build/gh/<spec>``
on the binder host, read as an EventSource stream."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx

from binderctl.config import MemberConfig


def launch_events(member: MemberConfig, address: str, spec: str) -> list[dict[str, Any]]:
    """The events BinderHub streams for ``spec`` (``owner/repo/ref``), asked at the
    node's ``address`` for the binder host (Host header and SNI)."""
    assert member.tls_ca_bundle is not None
    context = ssl.create_default_context(cafile=str(member.tls_ca_bundle))
    with httpx.Client(verify=context, timeout=30) as client:
        answer = client.get(
            f"https://{address}:{member.https_port}/build/gh/{spec}",
            headers={"Host": member.binder_host, "Accept": "text/event-stream"},
            extensions={"sni_hostname": member.binder_host},
        )
    assert answer.status_code == 200  # an EventSource cannot read an error status
    assert answer.headers["content-type"] == "text/event-stream"
    return [json.loads(line[6:]) for line in answer.text.splitlines() if line.startswith("data: ")]
