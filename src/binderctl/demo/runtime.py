"""One asyncio loop in a daemon thread, for emulators driven by synchronous clients."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")


class LoopThread:
    """Runs an asyncio loop in a background thread; ``run`` submits coroutines to it."""

    def __init__(self, name: str = "binderctl-demo") -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 30) -> T:
        """Run ``coro`` on the loop and wait for its result from this thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def on_loop(self, func: Callable[..., T], *args: Any, timeout: float | None = 30) -> T:
        """Call ``func(*args)`` on the loop and wait for what it returns: how another thread
        reads or changes the emulators' state (which has no locks)."""

        async def call() -> T:
            return func(*args)

        return self.run(call(), timeout)

    def call(self, func: Any, *args: Any) -> None:
        """Schedule a plain callable on the loop (thread-safe)."""
        self.loop.call_soon_threadsafe(func, *args)

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


async def serve_on_loopback(runner: web.AppRunner) -> int:
    """Serve ``runner`` (set up) on 127.0.0.1 at a free port; returns the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return int(sock.getsockname()[1])
