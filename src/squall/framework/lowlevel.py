"""The low-level server: one coroutine answers every request (aiohttp's ``web.Server``).

No Application, no router, no middlewares, no signals: ``handler(request)`` gets
a :class:`BaseRequest` and returns a response. Errors are answered by the
application's rules: a raised ``HTTPException`` is the response; any other
exception is logged and the client gets a 500 without a traceback.

Rules:
1. This is the framework's half. It never touches a transport: the runner
   (``squall.runner.ServerRunner``) builds the connections around ``_handle``
   and attaches them (``_attach``); calling the server (the protocol factory),
   ``connections`` and ``shutdown`` go through what it attached.
2. The keyword arguments are the per-connection ones of aiohttp's
   ``RequestHandler`` (limits, timeouts, the access log); the runner reads and
   checks them, this class only keeps them.
3. Nothing runs per request for the access log unless the runner installed a
   logger (``_access_logger``), as in ``Application._handle``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from time import perf_counter
from typing import Any, Protocol

from squall.framework.accesslog import AbstractAccessLogger
from squall.framework.app import _checked, _finish, _log_access, error_response
from squall.framework.request import BaseRequest
from squall.framework.response import Response, StreamResponse
from squall.typedefs import (
    BodySource,
    ClientDisconnectedError,
    RequestHead,
    ResponseSink,
)

LowLevelHandler = Callable[[BaseRequest], Awaitable[StreamResponse]]
RequestFactory = Callable[[RequestHead, BodySource, ResponseSink], BaseRequest]


class _Connections(Protocol):
    """What the runner attaches: the protocol factory and its live connections."""

    @property
    def connections(self) -> Collection[Any]: ...
    def __call__(self) -> Any: ...
    def pre_shutdown(self) -> None: ...
    async def shutdown(self, timeout: float = 60.0) -> None: ...


class Server:
    """Serve every request with ``handler`` (aiohttp's low-level ``web.Server``).

    ``request_factory(head, body, sink)`` builds the request the handler gets
    (default: :class:`BaseRequest`); ``handler_cancellation`` cancels a handler
    whose client went away; the other keyword arguments are the connection's
    limits, timeouts and access log, as ``AppRunner`` takes them. Serve it with
    ``web.ServerRunner(server)`` and a site.
    """

    def __init__(
        self,
        handler: LowLevelHandler,
        *,
        request_factory: RequestFactory | None = None,
        handler_cancellation: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None:
        self.request_handler = handler
        self.request_factory: RequestFactory = request_factory or BaseRequest
        self.handler_cancellation = handler_cancellation
        self.requests_count = 0  # requests answered over the server's life, as aiohttp counts
        self._loop = loop
        self._kwargs = kwargs
        self._connections: _Connections | None = None
        # installed by the runner when the access log is on and enabled (rule 3)
        self._access_logger: AbstractAccessLogger | None = None
        # auto_decompress=False: bodies handed over as sent, as aiohttp's parser does
        self._auto_decompress = bool(kwargs.get("auto_decompress", True))

    def _attach(self, connections: _Connections | None) -> None:
        """Rule 1: the runner hands over (or takes back) the connections' side."""
        self._connections = connections

    def __call__(self) -> Any:
        """A new connection's protocol (aiohttp's ``RequestHandler``)."""
        if self._connections is None:
            raise RuntimeError(
                "web.Server is served through web.ServerRunner: "
                "await ServerRunner(server).setup() before using it as a protocol factory"
            )
        return self._connections()

    @property
    def connections(self) -> list[Any]:
        """The open connections (their protocols)."""
        return [] if self._connections is None else list(self._connections.connections)

    def pre_shutdown(self) -> None:
        """Close idle connections; busy ones close after their response."""
        if self._connections is not None:
            self._connections.pre_shutdown()

    async def shutdown(self, timeout: float | None = None) -> None:
        """Let running handlers finish within ``timeout``, then close everything."""
        if self._connections is not None:
            await self._connections.shutdown(60.0 if timeout is None else timeout)

    async def _handle(self, head: RequestHead, body: BodySource, sink: ResponseSink) -> None:
        """Answer one request: the ConnectionHandler the connections call."""
        request = self.request_factory(head, body, sink)
        if not self._auto_decompress:
            request._auto_decompress = False
        self.requests_count += 1
        logger = self._access_logger
        started = 0.0 if logger is None else perf_counter()
        try:
            response = await self.request_handler(request)
            if (
                response.__class__ is Response
                and response._sink is None
                and not response._compression  # compressed in _finish (off the loop if big)
            ):
                try:
                    response._send_whole(request)  # PERF: as Application._handle does
                except ClientDisconnectedError:
                    pass  # the client went away; logged all the same, as _finish does
                if logger is not None:
                    _log_access(logger, request, response, started)
                return
            response = _checked(request, response)
        except Exception as exc:  # error_response re-raises what has no answer
            response = error_response(request, sink, exc)
        await _finish(request, response, logger, started)

    def __repr__(self) -> str:
        return f"<Server handler={self.request_handler!r}>"


__all__ = ["Server"]
