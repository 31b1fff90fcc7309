"""A client that stops reading its responses is dropped (send_timeout), and a
closing connection never waits for ever on output nobody reads (lingering_time).

The client sockets here have a 4 KiB receive buffer and never read, so the
server's output backs up into its transport's write buffer (``pause_writing``).
The send_timeout rule is driven with synthetic clock readings on the live
connection (``check_timeouts(now)``), as the other timeout rules are in
test_timeouts.py; one test shows the real sweep applies it.
"""

from __future__ import annotations

import asyncio
import socket

from squall import web
from squall.server.config import ServerConfig
from squall.server.server import Server as HttpServer

LIMIT = 30.0  # send_timeout under test: far past anything that happens in real time
PIPELINED = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" * 200_000  # ~26 MB of answers


async def non_reading_client(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection with a tiny receive buffer, for a client that never reads."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock)


def big_app() -> web.Application:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * (8 * 1024 * 1024))

    app = web.Application()
    app.router.add_get("/", ok)
    app.router.add_get("/big", big)
    return app


async def test_client_that_never_reads_is_aborted(observe, still_serves) -> None:
    """Pipelined requests whose answers are never read: the connection was held
    open for ever (the queue kept every timeout rule away and close() waited for
    the buffer to drain), with about a megabyte buffered."""
    srv = await observe(big_app(), send_timeout=LIMIT)
    _, writer = await non_reading_client(srv.port)
    observed = await srv.hub.connection()
    writer.write(PIPELINED)  # no drain: the server stops reading, so would we
    await srv.hub.until(lambda: "pause_writing" in observed.events)
    start = srv.now()
    observed.check_timeouts(start)  # output waits from here
    observed.check_timeouts(start + LIMIT - 0.001)
    assert not observed.socket_closing
    observed.check_timeouts(start + LIMIT + 0.001)
    await srv.hub.until(lambda: "lost" in observed.events)
    assert observed not in srv.server.connections
    writer.transport.abort()
    await still_serves(srv.port)


async def test_a_client_that_reads_slowly_is_not_cut(observe) -> None:
    """The buffer shrinking between two looks is progress: the timer starts over."""
    srv = await observe(big_app(), send_timeout=LIMIT)
    reader, writer = await non_reading_client(srv.port)
    observed = await srv.hub.connection()
    writer.write(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
    await srv.hub.until(lambda: "pause_writing" in observed.events)
    transport = observed.real_transport
    assert transport is not None
    start = srv.now()
    observed.check_timeouts(start)
    size = transport.get_write_buffer_size()
    while transport.get_write_buffer_size() >= size:
        await reader.read(65536)  # the client reads a little
    writer.transport.pause_reading()
    observed.check_timeouts(start + LIMIT + 0.001)
    assert not observed.socket_closing
    writer.transport.abort()


async def test_handler_waiting_on_drain_sees_the_disconnect(observe) -> None:
    """A streaming handler blocked in drain() gets a ConnectionResetError, not a hang."""
    failed: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        try:
            while True:
                await resp.write(b"x" * 65536)
        except BaseException as exc:
            failed.set_result(exc)
            raise
        return resp

    app = web.Application()
    app.router.add_get("/stream", stream)
    srv = await observe(app, send_timeout=LIMIT)
    _, writer = await non_reading_client(srv.port)
    observed = await srv.hub.connection()
    writer.write(b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n")
    await srv.hub.until(lambda: "pause_writing" in observed.events)
    start = srv.now()
    observed.check_timeouts(start)
    assert not failed.done()
    observed.check_timeouts(start + LIMIT + 0.001)
    exc = await asyncio.wait_for(failed, 10)
    assert isinstance(exc, ConnectionResetError), exc
    await srv.hub.until(lambda: "lost" in observed.events)
    writer.transport.abort()


async def test_stalled_clients_do_not_lock_new_ones_out(observe, raw_connect, still_serves) -> None:
    """On the loop's clock (the real sweep): with max_connections taken by a client
    that does not read, a new client gets 503 until send_timeout drops it."""
    srv = await observe(big_app(), send_timeout=0.5, max_connections=1)
    _, writer = await non_reading_client(srv.port)
    observed = await srv.hub.connection()
    writer.write(PIPELINED)
    await srv.hub.until(lambda: "pause_writing" in observed.events)
    refused = await raw_connect(srv.port)
    await refused.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    status, _, _ = await refused.read_response()
    assert status.startswith(b"HTTP/1.1 503 ")
    srv.server.start_sweep()
    await srv.hub.until(lambda: "lost" in observed.events)
    writer.transport.abort()
    await still_serves(srv.port)


async def test_lingering_close_aborts_what_cannot_drain(observe) -> None:
    """A response that closes the connection, to a client that never reads it: after
    lingering_time the rest is dropped (close() waited for the buffer for ever)."""
    srv = await observe(big_app(), send_timeout=1000.0, lingering_time=0.2)
    _, writer = await non_reading_client(srv.port)
    observed = await srv.hub.connection()
    writer.write(b"GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    await srv.hub.until(lambda: "lost" in observed.events)
    writer.transport.abort()


async def test_handler_cancellation_is_on_the_server(observe) -> None:
    """aiohttp's ``runner.server.handler_cancellation``, read-only."""
    srv = await observe(big_app(), handler_cancellation=True)
    assert srv.server.handler_cancellation is True
    srv = await observe(big_app())
    assert srv.server.handler_cancellation is False


class _BackedUpTransport(asyncio.Transport):
    """A transport whose write buffer holds a steady backlog: what a handler
    streaming at a slow client's pace looks like from the server."""

    def __init__(self) -> None:
        super().__init__()
        self.backlog = 64 * 1024
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass  # as much drains as is written: the level stays where it is

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def is_closing(self) -> bool:
        return self.aborted

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.aborted = True


async def test_a_steady_backlog_with_data_flowing_is_not_cut() -> None:
    """Progress is what drained (written minus the buffer's growth), not only a
    buffer that shrank: a stream written at the client's pace over a standing
    backlog goes on; once the writes stop and nothing drains, send_timeout ends it."""
    server = HttpServer(lambda *args: None, ServerConfig(send_timeout=LIMIT))  # type: ignore[arg-type,return-value]
    proto = server()
    transport = _BackedUpTransport()
    proto.connection_made(transport)
    now = 0.0
    proto.check_timeouts(now)
    while now < 3 * LIMIT:  # a chunk between two sweeps, the level flat
        now += 1.0
        proto.send_body(b"x" * 1000)
        proto.check_timeouts(now)
    assert not transport.aborted
    stalled = now
    while now < stalled + LIMIT + 2:
        now += 1.0
        proto.check_timeouts(now)
    assert transport.aborted
