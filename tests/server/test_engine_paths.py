"""Engine paths a line-by-line mutation would otherwise get past: big responses
from suspended handlers, reading paused behind a busy handler, connection loss
while bodies are queued or a drain is pending, ``BodyStream.read(n)``.

Flow control is asserted through the events themselves (the transport's
``pause_reading``/``resume_reading``, the protocol's ``pause_writing``), observed
on the live connection objects (``observe`` in conftest.py), never by waiting to
see whether something happens within some time.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import socket
import struct
from typing import Any

import pytest

from squall import web
from squall.typedefs import BodySource, ClientDisconnectedError, RequestHead, ResponseSink


def payload(size: int, seed: int) -> bytes:
    """Bytes that show any loss, duplication or reordering."""
    return random.Random(seed).randbytes(size)


def get(path: str) -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode()


# -- large responses --------------------------------------------------------------------

SIZES = [16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 100_000, 3 * 1024 * 1024]


def big_app() -> web.Application:
    async def suspended(request: web.Request) -> web.Response:
        await asyncio.sleep(0)  # the handler goes on in a Task
        size = int(request.match_info["size"])
        return web.Response(body=payload(size, size), content_type="application/octet-stream")

    async def in_place(request: web.Request) -> web.Response:
        size = int(request.match_info["size"])
        return web.Response(body=payload(size, size), content_type="application/octet-stream")

    async def small(request: web.Request) -> web.Response:
        return web.Response(text="small")

    app = web.Application()
    app.router.add_get("/suspended/{size}", suspended)
    app.router.add_get("/in-place/{size}", in_place)
    app.router.add_get("/small", small)
    return app


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("path", ["suspended", "in-place"])
async def test_large_response_arrives_whole(serve, raw_connect, path: str, size: int) -> None:
    """A body past the size that is written apart from its head (16 KiB), from a
    handler that suspended and from one that did not, pipelined between small
    responses: every byte arrives, in order, and the framing after it holds."""
    server = await serve(big_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/small") + get(f"/{path}/{size}") + get(f"/{path}/{size}") + get("/small"))
    expected = [b"small", payload(size, size), payload(size, size), b"small"]
    for want in expected:
        status, headers, body = await conn.read_response(timeout=20.0)
        assert status == b"HTTP/1.1 200 OK"
        assert int(headers["content-length"]) == len(want)
        assert body == want


async def test_large_response_to_a_slow_reader_from_a_suspended_handler(
    observe, raw_connect
) -> None:
    """The client reads nothing until the server's write side is backed up
    (pause_writing), then reads it all: the body is whole."""
    size = 8 * 1024 * 1024
    srv = await observe(big_app())
    conn = await raw_connect(srv.port)
    await conn.send(get(f"/suspended/{size}") + get("/small"))
    observed = await srv.hub.connection()
    await srv.hub.until(lambda: "pause_writing" in observed.events)
    status, _, body = await conn.read_response(timeout=20.0)
    assert status == b"HTTP/1.1 200 OK"
    assert hashlib.sha256(body).digest() == hashlib.sha256(payload(size, size)).digest()
    assert (await conn.read_response())[2] == b"small"
    await srv.hub.until(lambda: "resume_writing" in observed.events)


# -- reading paused behind a busy handler -------------------------------------------------


def blocking_app(release: asyncio.Event, started: asyncio.Event) -> web.Application:
    async def block(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        return web.Response(text="unblocked")

    async def fast(request: web.Request) -> web.Response:
        return web.Response(text="fast " + request.match_info["n"])

    async def echo(request: web.Request) -> web.Response:
        data = await request.read()
        return web.Response(text=f"{len(data)} {hashlib.sha256(data).hexdigest()}")

    app = web.Application()
    app.router.add_get("/", ok)
    app.router.add_get("/block", block)
    app.router.add_get("/fast/{n}", fast)
    app.router.add_post("/echo", echo)
    return app


async def test_reading_pauses_when_pipelined_requests_pile_up(observe, raw_connect) -> None:
    release, started = asyncio.Event(), asyncio.Event()
    srv = await observe(blocking_app(release, started), max_pipeline=4)
    conn = await raw_connect(srv.port)
    await conn.send(get("/block"))
    await asyncio.wait_for(started.wait(), 10)
    observed = await srv.hub.connection()
    await conn.send(b"".join(get(f"/fast/{i}") for i in range(12)))
    await srv.hub.until(lambda: "pause_reading" in observed.events)
    assert observed.real_transport is not None
    assert not observed.real_transport.is_reading()
    assert "resume_reading" not in observed.events
    release.set()
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"unblocked")
    for i in range(12):
        status, _, body = await conn.read_response()
        assert (status, body) == (b"HTTP/1.1 200 OK", b"fast %d" % i)
    assert observed.events.index("pause_reading") < observed.events.index("resume_reading")
    assert observed.real_transport.is_reading()


async def test_reading_pauses_when_one_read_fills_the_pipeline(observe, raw_connect) -> None:
    """One read holding a request whose handler suspends and 100 more behind it:
    reading pauses then and there (max_pipeline 4), not at the next read."""
    release, started = asyncio.Event(), asyncio.Event()
    srv = await observe(blocking_app(release, started), max_pipeline=4)
    conn = await raw_connect(srv.port)
    data = get("/block") + get("/fast/0") * 100
    await conn.send(data)  # one send of 3 KiB: one read on loopback
    await asyncio.wait_for(started.wait(), 10)
    observed = await srv.hub.connection()
    await srv.hub.until(lambda: observed.received == len(data))
    try:
        assert "pause_reading" in observed.events
    finally:
        release.set()
        for _ in range(101):
            await conn.read_response()


async def test_reading_pauses_while_a_body_waits_unread(observe, raw_connect) -> None:
    """A body past body_high_water that nobody reads pauses reading; the handler
    reading it resumes reading, and the whole body arrives."""
    release, started = asyncio.Event(), asyncio.Event()

    async def lazy(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        data = await request.read()
        return web.Response(text=f"{len(data)} {hashlib.sha256(data).hexdigest()}")

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/lazy", lazy)
    srv = await observe(app, body_high_water=64 * 1024, body_low_water=16 * 1024)
    conn = await raw_connect(srv.port)
    data = payload(4 * 1024 * 1024, 7)
    await conn.send(b"POST /lazy HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(data))
    await asyncio.wait_for(started.wait(), 10)
    observed = await srv.hub.connection()
    conn.writer.write(data)  # no drain: the client's buffer holds what the server won't take
    await srv.hub.until(lambda: "pause_reading" in observed.events)
    assert observed.received < len(data)
    release.set()
    status, _, body = await conn.read_response(timeout=20.0)
    assert status == b"HTTP/1.1 200 OK"
    assert body == f"{len(data)} {hashlib.sha256(data).hexdigest()}".encode()
    assert "resume_reading" in observed.events


async def test_reading_resumes_at_low_water_before_the_body_is_drained(
    observe, raw_connect
) -> None:
    """Reading resumes once the reader has taken the buffer down to body_low_water,
    not only when it finds the buffer empty."""
    high, low = 64 * 1024, 16 * 1024
    data = payload(2 * 1024 * 1024, 11)
    go, done = asyncio.Event(), asyncio.Event()
    target: list[int] = []

    async def handler(head: RequestHead, body: BodySource, sink: ResponseSink) -> None:
        await go.wait()
        taken = b""
        while len(taken) < target[0]:  # never more than is buffered: no wait for bytes
            taken += await body.read(min(4096, target[0] - len(taken)))
        await done.wait()
        rest = await body.read()
        text = hashlib.sha256(taken + rest).hexdigest().encode()
        sink.send_response(head.version, 200, "OK", [("Content-Length", "64")], text, None)

    srv = await observe(handler, body_high_water=high, body_low_water=low)
    conn = await raw_connect(srv.port)
    head = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(data)
    conn.writer.write(head + data)
    observed = await srv.hub.connection()
    await srv.hub.until(lambda: "pause_reading" in observed.events)
    buffered = observed.received - len(head)  # nothing read yet, nothing more comes
    assert buffered > high
    target.append(buffered - low)
    go.set()
    await srv.hub.until(lambda: "resume_reading" in observed.events)
    done.set()
    await conn.writer.drain()
    status, _, body = await conn.read_response(timeout=20.0)
    assert (status, body) == (b"HTTP/1.1 200 OK", hashlib.sha256(data).hexdigest().encode())


# -- connection loss ----------------------------------------------------------------------


def reset(conn: Any) -> None:
    """Vanish with a TCP reset (SO_LINGER 0): the server sees a lost connection, not EOF."""
    sock = conn.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.writer.transport.abort()


def vanish(conn: Any, how: str) -> None:
    if how == "reset":
        reset(conn)
    else:
        conn.writer.transport.abort()  # a FIN: the server reads EOF first


@pytest.mark.parametrize("how", ["reset", "eof"])
async def test_connection_loss_fails_a_pending_drain(
    observe, raw_connect, still_serves, how: str
) -> None:
    """The client stops reading, the handler waits in drain, the client vanishes:
    the handler's write raises ClientDisconnectedError and the server goes on."""
    outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
    chunk = payload(64 * 1024, 1)

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        try:
            for _ in range(4096):  # 256 MiB: far more than the socket buffers hold
                await resp.write(chunk)
        except BaseException as exc:
            outcome.set_result(exc)
            raise
        outcome.set_result(None)
        return resp

    app = web.Application()
    app.router.add_get("/stream", stream)
    app.router.add_get("/", ok)
    srv = await observe(app)
    conn = await raw_connect(srv.port)
    await conn.send(get("/stream"))
    observed = await srv.hub.connection()
    await srv.hub.until(lambda: "pause_writing" in observed.events)
    assert observed._drain_waiter is not None  # the handler waits in drain()
    vanish(conn, how)
    exc = await asyncio.wait_for(outcome, 10)
    assert isinstance(exc, ClientDisconnectedError), exc
    await srv.hub.until(lambda: "lost" in observed.events)
    await still_serves(srv.port)


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


@pytest.mark.parametrize("how", ["reset", "eof"])
async def test_connection_loss_fails_the_body_a_handler_waits_for(
    observe, raw_connect, still_serves, how: str
) -> None:
    outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    async def read(request: web.Request) -> web.Response:
        try:
            await request.read()
        except BaseException as exc:
            outcome.set_result(exc)
            raise
        outcome.set_result(None)
        return web.Response(text="read")

    app = web.Application()
    app.router.add_post("/read", read)
    app.router.add_get("/", ok)
    srv = await observe(app)
    conn = await raw_connect(srv.port)
    await conn.send(b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
    observed = await srv.hub.connection()
    await srv.hub.until(lambda: observed.received > 50)
    vanish(conn, how)
    exc = await asyncio.wait_for(outcome, 10)
    assert isinstance(exc, ClientDisconnectedError), exc
    await still_serves(srv.port)


async def test_connection_loss_with_queued_bodies(
    observe, raw_connect, still_serves, caplog
) -> None:
    """Requests with bodies queued behind a busy handler when the client vanishes:
    no queued body can be waited on for ever, the busy handler finishes, nothing is
    logged as an error, other connections are served."""
    release, started = asyncio.Event(), asyncio.Event()
    srv = await observe(blocking_app(release, started))
    caplog.set_level(logging.DEBUG, logger="squall")
    conn = await raw_connect(srv.port)
    await conn.send(get("/block"))
    await asyncio.wait_for(started.wait(), 10)
    observed = await srv.hub.connection()
    whole = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
    partial = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\nhello"
    await conn.send(whole + partial)
    sent = len(get("/block") + whole + partial)
    await srv.hub.until(lambda: observed.received == sent)
    queued: list[BodySource] = [entry[1] for entry in observed._queue]
    assert len(queued) == 2
    reset(conn)
    await srv.hub.until(lambda: "lost" in observed.events)
    assert "eof" not in observed.events
    assert await asyncio.wait_for(queued[0].read(), 5) == b"hello"
    with pytest.raises(ClientDisconnectedError):
        await asyncio.wait_for(queued[1].read(), 5)
    release.set()
    await still_serves(srv.port)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# -- BodyStream.read(n), with no framework in between --------------------------------


async def read_in_pieces(head: RequestHead, body: BodySource, sink: ResponseSink) -> None:
    """A bare ConnectionHandler: read the body ``n`` bytes at a time, answer the sizes."""
    n = int(head.target.rsplit("/", 1)[1])
    assert await body.read(0) == b""
    sizes: list[int] = []
    data = b""
    while piece := await body.read(n):
        assert 0 < len(piece) <= n
        sizes.append(len(piece))
        data += piece
    assert await body.read(n) == b""
    assert body.at_eof()
    text = f"{len(data)} {max(sizes, default=0)} {hashlib.sha256(data).hexdigest()}"
    sink.send_response(
        head.version, 200, "OK", [("Content-Length", str(len(text)))], text.encode(), None
    )


@pytest.mark.parametrize("n", [1, 7, 4096, 1 << 20])
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
async def test_body_stream_read_n(observe, raw_connect, n: int, chunked: bool) -> None:
    srv = await observe(read_in_pieces)
    conn = await raw_connect(srv.port)
    data = payload(20_000, n)
    if chunked:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in _split(data, 3000)) + b"0\r\n\r\n"
        head = b"POST /read/%d HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" % n
    else:
        framed = data
        head = b"POST /read/%d HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % (n, len(data))
    await conn.send(head)
    for piece in _split(framed, 5000):  # separate writes: several buffers to read across
        await conn.send(piece)
    status, _, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    size, largest, sha = body.decode().split()
    assert int(size) == len(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert int(largest) <= n


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]
