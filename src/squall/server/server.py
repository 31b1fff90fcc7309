"""The listening side: the protocol factory, the set of live connections, the
timeout sweep and graceful shutdown.

Shutdown, in aiohttp's order (the runner calls these around the app's signals):
1. ``pre_shutdown``: idle connections close now; busy ones are marked to close
   after the response in progress (no more keep-alive).
2. ``shutdown(timeout)``: wait until every connection has closed by itself
   (its handler finished and its answer went out), at most ``timeout`` seconds.
3. What is left is dropped: its handler's Task is cancelled and the transport
   aborted; the cancelled handlers get up to ``timeout`` more to unwind.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
from collections.abc import Callable
from typing import Any

from squall.server.config import ServerConfig
from squall.server.protocol import HttpProtocol
from squall.typedefs import ConnectionHandler

logger = logging.getLogger("squall.server")


# glibc's mallopt() parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_malloc_tuned = False


def tune_malloc() -> bool:
    """Keep large body buffers on glibc's heap: once per process, at the first
    server; ``SQUALL_MALLOC_TUNING=0`` leaves the allocator alone. True if tuned.

    PERF: each socket read of a body is a new bytes object of up to 256 KB (the
    event loop's read, the parser's copy of the body). Past glibc's mmap threshold
    (128 KiB at start) each is mapped and unmapped, or the heap top grows and is
    trimmed around it, so every page of every read is faulted in and zeroed again:
    a third of the server's CPU in a 256 MiB upload (79.6k page faults). With
    allocations under 1 MiB on the heap and up to 8 MiB of freed heap top kept,
    the faults go (149 per 256 MiB) and the upload through the cheatsheet's
    ``read_chunk`` loop to disk went from 1.10x to 1.59x aiohttp's MB per server
    CPU-second (bench/uploads.py, docs/performance.md "Uploads"); the request path
    does not move. The cost: up to 8 MiB of freed memory may stay in the process's
    RSS. Other C libraries, or the operator's own malloc settings in the environment
    (``GLIBC_TUNABLES`` naming ``glibc.malloc``, ``MALLOC_*_`` variables): nothing is
    done.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return True
    environ = os.environ
    if (
        environ.get("SQUALL_MALLOC_TUNING", "1") == "0"
        or "glibc.malloc." in environ.get("GLIBC_TUNABLES", "")
        or any(name.startswith("MALLOC_") and name.endswith("_") for name in environ)
    ):
        return False
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        import ctypes  # NOTE: here: a Python built without _ctypes still imports squall

        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):  # pragma: no cover - glibc has it
        return False
    mallopt(_M_TRIM_THRESHOLD, 8 * 1024 * 1024)
    mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)
    _malloc_tuned = True
    return True


class ConnectionSet(set[HttpProtocol]):
    """The live connections; wakes a shutdown waiting for the last busy one to go.

    A connection that answered its last request and only lingers (dropping what
    the client still sends, so the answer is not lost to a reset) no longer keeps
    a shutdown waiting: the shutdown closes it with the rest.
    PERF: the overrides cost one Python call per closed connection, nothing per request.
    """

    def __init__(self) -> None:
        super().__init__()
        self._empty: asyncio.Future[None] | None = None
        self.lingering: set[HttpProtocol] = set()

    def linger(self, conn: HttpProtocol) -> None:
        if conn in self:  # a connection refused at max_connections was never counted
            self.lingering.add(conn)
            self._wake()

    def discard(self, conn: object) -> None:
        super().discard(conn)
        self.lingering.discard(conn)
        self._wake()

    def _wake(self) -> None:
        waiter = self._empty
        if len(self) <= len(self.lingering) and waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait_empty(self, timeout: float) -> None:
        """Return when no busy connection is left, or after ``timeout`` seconds."""
        if len(self) <= len(self.lingering):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._empty = waiter
        try:
            await asyncio.wait((waiter,), timeout=timeout)
        finally:
            self._empty = None
            waiter.cancel()


class Server:
    """A protocol factory for ``loop.create_server``; one per application runner."""

    def __init__(
        self,
        handler: ConnectionHandler,
        config: ServerConfig | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.handler = handler
        # called (protocol, status, bytes) when the server answers by itself (400,
        # 408, 414, 431, 501, 503...): the runner hands these to the access log
        self.on_error_response: Callable[[Any, int, int], None] | None = None
        self.config = config or ServerConfig()
        self.loop = loop or asyncio.get_running_loop()
        self.connections = ConnectionSet()
        tune_malloc()
        self.shutting_down = False
        self.requests_count = 0  # request heads received over the server's life, as aiohttp's
        self._sweep_handle: asyncio.TimerHandle | None = None
        self._sweep_every = max(
            0.05,
            min(
                1.0,
                self.config.head_timeout / 4,
                self.config.keepalive_timeout / 4,
                self.config.body_timeout / 4,
                self.config.send_timeout / 4,
            ),
        )

    @property
    def handler_cancellation(self) -> bool:
        """True when a handler's Task is cancelled as its client goes (read-only)."""
        return self.config.handler_cancellation

    def __call__(self) -> HttpProtocol:
        self.start_sweep()
        return HttpProtocol(self)

    def start_sweep(self) -> None:
        """Start the timeout sweep (the first connection does); a no-op once running."""
        if self._sweep_handle is None:
            self._sweep_handle = self.loop.call_later(self._sweep_every, self._sweep)

    def _sweep(self) -> None:
        # rescheduled first: a connection that raises must not end the sweep for all
        self._sweep_handle = self.loop.call_later(self._sweep_every, self._sweep)
        now = self.loop.time()
        for conn in list(self.connections):
            conn.check_timeouts(now)

    def pre_shutdown(self) -> None:
        """Step 1: close the idle connections, mark the busy ones to close after
        their response."""
        self.shutting_down = True
        for conn in list(self.connections):
            conn.close_idle()

    async def shutdown(self, timeout: float = 60.0) -> None:
        """Steps 1 to 3: let running requests finish (up to ``timeout``), then
        drop whatever is left and cancel its handler."""
        self.pre_shutdown()  # again: a connection accepted since is closed too
        await self.connections.wait_empty(timeout)
        left = list(self.connections)
        running = [t for conn in left if (t := conn.task) is not None and not t.done()]
        for conn in left:
            conn.force_close()
        if running:
            # the cancelled handlers unwind (their finally blocks run) before the
            # runner goes on to on_cleanup; one that ignores the cancel is given up
            _, stuck = await asyncio.wait(running, timeout=timeout)
            for task in stuck:
                logger.warning("Handler still running after shutdown: %r", task)
        if self._sweep_handle is not None:
            self._sweep_handle.cancel()
            self._sweep_handle = None
