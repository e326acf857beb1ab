"""The demo world's DNS: an authoritative answerer for the member's names, over UDP.

binderctl looks the member's A records up with real DNS queries; the demo config names
this server in ``dns_resolvers``. By default it answers the binder host and its wildcard
with the member's primary IPv4, as if the operator had created the records at once.
Knobs: ``follow_primary_ip = False`` stops that (DNS "not set yet"), and ``records``
(name -> IPv4s, ``*.`` names are wildcards) answers whatever a test puts there.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable
from typing import cast

from binderctl.demo.runtime import LoopThread

TTL = 60
_TYPE_A, _CLASS_IN = 1, 1
NOERROR, FORMERR, NXDOMAIN = 0, 1, 3


class DemoDNS:
    def __init__(self, runtime: LoopThread, primary_records: Callable[[], dict[str, list[str]]]):
        self.runtime = runtime
        self.records: dict[str, list[str]] = {}
        self.follow_primary_ip = True
        self._primary_records = primary_records
        self._transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self.queries = 0

    def start(self) -> str:
        self.runtime.run(self._start())
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._transport is not None:
            transport = self._transport
            self.runtime.run(_close(transport))
            self._transport = None

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=("127.0.0.1", 0)
        )
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    def answer(self, name: str) -> list[str] | None:
        """The IPv4s for ``name``; None when the name does not exist."""
        table = dict(self._primary_records()) if self.follow_primary_ip else {}
        table.update(self.records)
        name = name.lower().rstrip(".")
        if name in table:
            return table[name]
        for pattern, addresses in table.items():
            if pattern.startswith("*.") and name.endswith(pattern[1:]):
                return addresses
        return None

    def respond(self, query: bytes) -> bytes | None:
        if len(query) < 12:
            return None
        ident, flags, questions = struct.unpack("!HHH", query[:6])
        if flags & 0x8000:
            return None
        if questions != 1:
            return _header(ident, flags, FORMERR, 0, questions=0)
        labels, offset = [], 12
        try:
            while query[offset]:
                length = query[offset]
                labels.append(query[offset + 1 : offset + 1 + length].decode("ascii"))
                offset += 1 + length
            qtype, qclass = struct.unpack("!HH", query[offset + 1 : offset + 5])
        except (IndexError, UnicodeDecodeError, struct.error):
            return _header(ident, flags, FORMERR, 0, questions=0)
        question = query[12 : offset + 5]
        addresses = self.answer(".".join(labels))
        if addresses is None:
            return _header(ident, flags, NXDOMAIN, 0) + question
        found = addresses if (qtype, qclass) == (_TYPE_A, _CLASS_IN) else []
        answers = b"".join(
            struct.pack("!HHHIH", 0xC00C, _TYPE_A, _CLASS_IN, TTL, 4) + socket.inet_aton(a)
            for a in found
        )
        return _header(ident, flags, NOERROR, len(found)) + question + answers


def _header(ident: int, query_flags: int, rcode: int, answers: int, questions: int = 1) -> bytes:
    flags = 0x8000 | 0x0400 | (query_flags & 0x0100) | 0x0080 | rcode  # QR AA RD RA
    return struct.pack("!HHHHHH", ident, flags, questions, answers, 0, 0)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: DemoDNS) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server.queries += 1
        reply = self.server.respond(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def _close(transport: asyncio.DatagramTransport) -> None:
    transport.close()
