"""The listening side: the protocol factory, the set of live connections, the
timeout sweep and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging

from squall.server.config import ServerConfig
from squall.server.protocol import HttpProtocol
from squall.typedefs import ConnectionHandler

logger = logging.getLogger("squall.server")


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
        self.config = config or ServerConfig()
        self.loop = loop or asyncio.get_running_loop()
        self.connections: set[HttpProtocol] = set()
        self.shutting_down = False
        self._sweep_handle: asyncio.TimerHandle | None = None
        self._sweep_every = max(
            0.05,
            min(
                1.0,
                self.config.head_timeout / 4,
                self.config.keepalive_timeout / 4,
                self.config.body_timeout / 4,
            ),
        )

    def __call__(self) -> HttpProtocol:
        if self._sweep_handle is None:
            self._sweep_handle = self.loop.call_later(self._sweep_every, self._sweep)
        return HttpProtocol(self)

    def _sweep(self) -> None:
        now = self.loop.time()
        for conn in list(self.connections):
            conn.check_timeouts(now)
        self._sweep_handle = self.loop.call_later(self._sweep_every, self._sweep)

    def pre_shutdown(self) -> None:
        """Stop keeping connections: close the idle ones, mark the busy ones to
        close after their response."""
        self.shutting_down = True
        for conn in list(self.connections):
            conn.close_idle()

    async def shutdown(self, timeout: float = 60.0) -> None:
        """Close idle connections, let running requests finish (up to ``timeout``),
        then close whatever is left."""
        self.pre_shutdown()
        deadline = self.loop.time() + timeout
        while self.connections and self.loop.time() < deadline:
            await asyncio.sleep(0.01)
            for conn in list(self.connections):
                conn.close_idle()
        for conn in list(self.connections):
            conn.force_close()
        if self._sweep_handle is not None:
            self._sweep_handle.cancel()
            self._sweep_handle = None
