"""Fixtures for the server-level tests: a small app served for real, and wire checks.

Every async test here runs twice, on the stdlib event loop and on uvloop
(``run_app`` picks uvloop when it is installed; the tests must see both).

``observe`` serves through :class:`Observed` connections that report what happens
to them (bytes received, the transport's flow-control calls, the close), so a test
waits for the event it is about instead of for time to pass, and drives the
timeout rules with synthetic clock readings (``check_timeouts(now)``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest
import uvloop

from squall import web
from squall.runner import AppRunner
from squall.server import Server, ServerConfig
from squall.server.protocol import HttpProtocol
from squall.typedefs import ConnectionHandler

LOOPS: Mapping[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Any:
    """Run each async test of this directory on both event loops."""
    return LOOPS


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(body=body, content_type="application/octet-stream")


async def ignore(request: web.Request) -> web.Response:
    return web.Response(text="ignored")


async def fast(request: web.Request) -> web.Response:
    return web.Response(text="fast " + request.match_info["n"])


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0.01)
    return web.Response(text="slow " + request.match_info["n"])


def make_app(**app_kwargs: Any) -> web.Application:
    """GET / -> "ok", POST /echo -> the body, POST /ignore -> "ignored" (body unread),
    GET /fast/{n} -> "fast {n}" and GET /slow/{n} -> "slow {n}" after 10 ms."""
    app = web.Application(**app_kwargs)
    app.router.add_get("/", ok)
    app.router.add_post("/echo", echo)
    app.router.add_post("/ignore", ignore)
    app.router.add_get("/fast/{n}", fast)
    app.router.add_get("/slow/{n}", slow)
    return app


@pytest.fixture
async def serve(squall_server: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``server = await serve(app=None, **server_config)``; the default app is make_app()."""

    async def go(app: web.Application | None = None, **kwargs: Any) -> Any:
        return await squall_server(app if app is not None else make_app(), **kwargs)

    return go


@pytest.fixture
def still_serves(raw_connect: Callable[..., Any]) -> Callable[[int], Awaitable[None]]:
    """``await still_serves(port)``: a new connection gets a 200 for GET /."""

    async def go(port: int) -> None:
        conn = await raw_connect(port)
        await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        status, _, body = await conn.read_response()
        assert status == b"HTTP/1.1 200 OK"
        assert body == b"ok"
        conn.close()

    return go


@pytest.fixture
def expect_refused(
    raw_connect: Callable[..., Any], still_serves: Callable[[int], Awaitable[None]]
) -> Callable[..., Awaitable[bytes]]:
    """``body = await expect_refused(port, data, status)``: send ``data`` on a new
    connection; expect one plain-text error with ``Connection: close``, then EOF, and
    the server still answering a new connection. Returns the error's body."""

    async def go(port: int, data: bytes, status: int = 400) -> bytes:
        conn = await raw_connect(port)
        await conn.send(data)
        line, headers, body = await conn.read_response()
        assert line.startswith(b"HTTP/1.1 %d " % status), line
        assert headers["content-type"].startswith("text/plain")
        assert headers["connection"] == "close"
        assert int(headers["content-length"]) == len(body)
        assert body.startswith(b"%d" % status), body
        assert 0 < len(body) < 200
        assert b"Traceback" not in body
        assert await conn.is_closed()
        await still_serves(port)
        return body

    return go


# -- observed connections ----------------------------------------------------------------


class Hub:
    """Where observed connections report; ``until`` waits for a condition to hold."""

    def __init__(self) -> None:
        self.connections: list[Observed] = []
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Return once ``predicate()`` is true; it is checked after every event."""
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def connection(self, index: int = 0) -> Observed:
        """The ``index``-th connection the server accepted, once it is made."""
        await self.until(lambda: len(self.connections) > index)
        return self.connections[index]


class RecordingTransport:
    """The real transport, with its flow-control calls written down."""

    def __init__(self, transport: asyncio.Transport, owner: Observed) -> None:
        self._transport = transport
        self._owner = owner

    def pause_reading(self) -> None:
        self._owner.event("pause_reading")
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._owner.event("resume_reading")
        self._transport.resume_reading()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Observed(HttpProtocol):
    """An HttpProtocol that tells its hub what happens to it.

    ``events`` lists, in order, the flow-control calls (``pause_reading``,
    ``resume_reading`` on the transport; ``pause_writing``, ``resume_writing`` from
    it) and ``eof``/``lost``; ``received`` counts the bytes the server took in.
    """

    def __init__(self, server: Server, hub: Hub) -> None:
        super().__init__(server)
        self.hub = hub
        self.events: list[str] = []
        self.received = 0
        self.real_transport: asyncio.Transport | None = None

    def event(self, name: str) -> None:
        self.events.append(name)
        self.hub.notify()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.real_transport = transport  # type: ignore[assignment]
        super().connection_made(RecordingTransport(transport, self))  # type: ignore[arg-type]
        self.hub.connections.append(self)
        self.hub.notify()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self.received += len(data)
        self.hub.notify()

    def eof_received(self) -> bool | None:
        result = super().eof_received()
        self.event("eof")
        return result

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        self.event("lost")

    def pause_writing(self) -> None:
        super().pause_writing()
        self.event("pause_writing")

    def resume_writing(self) -> None:
        super().resume_writing()
        self.event("resume_writing")

    @property
    def socket_closing(self) -> bool:
        """The server has closed (or is closing) the socket."""
        return self.real_transport is None or self.real_transport.is_closing()


class ObservedServer:
    """A server on 127.0.0.1 whose connections are :class:`Observed`.

    No timeout sweep runs: a test calls ``conn.check_timeouts(now)`` itself.
    """

    def __init__(self, server: Server, listener: asyncio.Server, hub: Hub) -> None:
        self.server = server
        self.listener = listener
        self.hub = hub
        self.port: int = listener.sockets[0].getsockname()[1]
        self.loop = asyncio.get_running_loop()

    def now(self) -> float:
        """The loop's clock, which the connections' timeout rules read."""
        return self.loop.time()

    def later(self, t: float) -> float:
        """A reading of the clock strictly after ``t`` (spins for microseconds at most)."""
        while (now := self.loop.time()) <= t:
            pass
        return now


@pytest.fixture
async def observe() -> AsyncIterator[Callable[..., Awaitable[ObservedServer]]]:
    """``srv = await observe(app_or_handler=None, **server_config)``.

    An Application is served as by ``AppRunner``; a bare coroutine function is the
    server's ``ConnectionHandler`` (``handler(head, body, sink)``), with no framework.
    """
    runners: list[AppRunner] = []
    servers: list[ObservedServer] = []

    async def go(
        target: web.Application | ConnectionHandler | None = None, **config: Any
    ) -> ObservedServer:
        if target is None or isinstance(target, web.Application):
            runner = AppRunner(
                make_app() if target is None else target, shutdown_timeout=2.0, **config
            )
            await runner.setup()
            runners.append(runner)
            assert runner.server is not None
            server = runner.server
        else:
            server = Server(target, ServerConfig(**config))
        hub = Hub()
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(lambda: Observed(server, hub), "127.0.0.1", 0)
        observed = ObservedServer(server, listener, hub)
        servers.append(observed)
        return observed

    yield go
    for observed in servers:
        observed.listener.close()
    for runner in runners:
        await runner.cleanup()
    for observed in servers:
        if observed.server.connections:
            await observed.server.shutdown(2.0)
