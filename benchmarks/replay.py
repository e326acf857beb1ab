"""A minimal Kubernetes API that replays one captured pod watch stream, as fast as the
client reads it.

``python -m benchmarks.replay DIR`` serves ``DIR/listing.json`` (the pod list) and, to a
pod watch from that list's resourceVersion, ``DIR/events.jsonl`` (one event a line, one
HTTP chunk each, as an API server flushes them); any other watch stays open and quiet,
other lists the live model makes are empty, anything else is 404. It prints ``{"port": N}``, then
``{"resourceVersion": RV, "time": T}`` (``time.monotonic()``, the same clock as every
process's here) for each pod watch request as it arrives. It runs in a process of its
own, so serving costs the measured client nothing.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PODS = "/api/v1/pods"
WRITE_BYTES = 1 << 18
# what the live model lists besides pods (answered empty); any other GET is 404
COLLECTIONS = {"nodes", "events", "pods", "deployments", "daemonsets"}
EMPTY = b'{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}'
NOT_FOUND = b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}'


class Replay:
    def __init__(self, directory: Path) -> None:
        self.listing = (directory / "listing.json").read_bytes()
        self.start = str(json.loads(self.listing)["metadata"]["resourceVersion"])
        self.chunks = [
            b"%x\r\n%s\n\r\n" % (len(line) + 1, line)
            for line in (directory / "events.jsonl").read_bytes().splitlines()
        ]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                url = urlsplit(target)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if query.get("watch") in ("true", "1"):
                    await self.watch(url.path, query, reader, writer)
                    return
                body, status = NOT_FOUND, b"404 Not Found"
                if url.path == PODS:
                    body, status = self.listing, b"200 OK"
                elif url.path.rsplit("/", 1)[-1] in COLLECTIONS:
                    body, status = EMPTY, b"200 OK"
                writer.write(
                    b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (status, len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def watch(
        self,
        path: str,
        query: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        version = query.get("resourceVersion", "")
        if path == PODS:
            print(json.dumps({"resourceVersion": version, "time": time.monotonic()}), flush=True)
        if path == PODS and version == self.start:
            batch: list[bytes] = []
            size = 0
            for chunk in self.chunks:
                batch.append(chunk)
                size += len(chunk)
                if size >= WRITE_BYTES:
                    writer.write(b"".join(batch))
                    await writer.drain()
                    batch, size = [], 0
            writer.write(b"".join(batch) + b"0\r\n\r\n")
            await writer.drain()
            return
        await writer.drain()
        await reader.read()  # a quiet watch: open until the client goes


async def main(directory: Path) -> None:
    replay = Replay(directory)
    server = await asyncio.start_server(replay.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
