"""Request and response bodies: streaming both ways, flow control, size limits,
``Expect: 100-continue``, and answering before the body is in."""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from http import HTTPStatus

from squall import web

MiB = 1024 * 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def payload(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def chunked(data: bytes, piece: int) -> list[bytes]:
    out = [
        b"%x\r\n%s\r\n" % (len(data[i : i + piece]), data[i : i + piece])
        for i in range(0, len(data), piece)
    ]
    out.append(b"0\r\n\r\n")
    return out


async def read_sha(request: web.Request) -> web.Response:
    """Stream the body with read(65536); answer "size sha256 biggest-read"."""
    digest = hashlib.sha256()
    size = biggest = 0
    while True:
        data = await request.content.read(65536)
        if not data:
            break
        biggest = max(biggest, len(data))
        size += len(data)
        digest.update(data)
    return web.Response(text=f"{size} {digest.hexdigest()} {biggest}")


async def iter_sha(request: web.Request) -> web.Response:
    digest = hashlib.sha256()
    size = biggest = 0
    async for data in request.content.iter_chunked(65536):
        biggest = max(biggest, len(data))
        size += len(data)
        digest.update(data)
    return web.Response(text=f"{size} {digest.hexdigest()} {biggest}")


async def read_all(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(text=f"read {len(body)}")


async def ignore(request: web.Request) -> web.Response:
    return web.Response(text="ignored")


async def fast(request: web.Request) -> web.Response:
    return web.Response(text="fast")


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app(**kwargs) -> web.Application:
    app = web.Application(**kwargs)
    app.router.add_post("/sha", read_sha)
    app.router.add_post("/iter-sha", iter_sha)
    app.router.add_post("/read", read_all)
    app.router.add_post("/ignore", ignore)
    app.router.add_get("/fast", fast)
    app.router.add_get("/", ok)
    return app


async def send_pieces(conn, pieces: list[bytes]) -> int:
    """Send ``pieces`` with drain; stop quietly if the server closes. Returns bytes sent."""
    sent = 0
    try:
        for piece in pieces:
            conn.writer.write(piece)
            await conn.writer.drain()
            sent += len(piece)
    except ConnectionError:
        pass
    return sent


def assert_too_large_text(body: bytes, limit: int, actual: int | None) -> None:
    """aiohttp's 413 text: "Maximum request body size N exceeded." in aiohttp 3.14,
    "..., actual body size M" in older releases; either is accepted."""
    match = re.fullmatch(
        rb"Maximum request body size (\d+) exceeded(?:\.|, actual body size (\d+))", body
    )
    assert match is not None, body
    assert int(match.group(1)) == limit
    if match.group(2) is not None:
        assert int(match.group(2)) > limit
        if actual is not None:
            assert int(match.group(2)) == actual


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- streaming request bodies -------------------------------------------------------


async def test_stream_20mib_content_length_body(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    data = payload(20 * MiB)
    await conn.send(b"POST /sha HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(data))
    sender = asyncio.create_task(send_pieces(conn, split(data, MiB)))
    status, _, body = await conn.read_response(timeout=20.0)
    assert await sender == len(data)
    assert status == b"HTTP/1.1 200 OK"
    size, sha, biggest = body.decode().split()
    assert int(size) == len(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert 0 < int(biggest) <= 65536
    # the connection is still good
    await conn.send(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await conn.read_response())[2] == b"fast"


async def test_stream_20mib_chunked_body(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    data = payload(20 * MiB, seed=2)
    await conn.send(b"POST /iter-sha HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    sender = asyncio.create_task(send_pieces(conn, chunked(data, 65536 + 17)))
    status, _, body = await conn.read_response(timeout=20.0)
    await sender
    assert status == b"HTTP/1.1 200 OK"
    size, sha, biggest = body.decode().split()
    assert int(size) == len(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert 0 < int(biggest) <= 65536


async def test_tiny_chunks(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    data = payload(5000, seed=3)
    await conn.send(b"POST /sha HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    await conn.send(b"".join(chunked(data, 1)))
    status, _, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert body.decode().split()[:2] == [str(len(data)), hashlib.sha256(data).hexdigest()]


async def test_server_stops_reading_a_body_nobody_reads(squall_server, raw_connect) -> None:
    """Flow control: while the handler does not read, the server stops reading the
    socket (the client's sends stall) instead of buffering the body in memory."""
    go_on = asyncio.Event()
    started = asyncio.Event()

    async def lazy(request: web.Request) -> web.Response:
        started.set()
        await go_on.wait()
        return await read_sha(request)

    app = web.Application()
    app.router.add_post("/lazy", lazy)
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    data = payload(64 * MiB, seed=4)
    await conn.send(b"POST /lazy HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(data))
    await asyncio.wait_for(started.wait(), 5.0)
    sent = 0
    stalled = False
    for piece in split(data, 256 * 1024):
        conn.writer.write(piece)
        try:
            await asyncio.wait_for(conn.writer.drain(), 0.5)
        except TimeoutError:
            stalled = True
            break
        sent += len(piece)
    assert stalled, "the server read a 64 MiB body nobody was reading"
    assert sent < 40 * MiB
    go_on.set()
    await conn.writer.drain()
    sender = asyncio.create_task(send_pieces(conn, split(data[sent + 256 * 1024 :], MiB)))
    status, _, body = await conn.read_response(timeout=20.0)
    await sender
    assert status == b"HTTP/1.1 200 OK"
    size, sha, _ = body.decode().split()
    assert int(size) == len(data)
    assert sha == hashlib.sha256(data).hexdigest()


# -- client_max_size ------------------------------------------------------------------


async def test_declared_body_over_client_max_size(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app(client_max_size=MiB))
    conn = await raw_connect(server.port)
    data = payload(8 * MiB, seed=5)
    await conn.send(b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(data))
    sender = asyncio.create_task(send_pieces(conn, split(data, 256 * 1024)))
    status, headers, body = await conn.read_response(timeout=10.0)
    assert status == b"HTTP/1.1 413 " + HTTPStatus(413).phrase.encode()
    assert_too_large_text(body, MiB, 8 * MiB)
    assert headers["content-type"].startswith("text/plain")
    assert headers["connection"] == "close"
    assert await conn.is_closed(timeout=10.0)
    await sender
    await still_serves(server.port)


async def test_chunked_body_over_client_max_size(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app(client_max_size=MiB))
    conn = await raw_connect(server.port)
    data = payload(8 * MiB, seed=6)
    await conn.send(b"POST /read HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    sender = asyncio.create_task(send_pieces(conn, chunked(data, 100_000)))
    status, headers, body = await conn.read_response(timeout=10.0)
    assert status == b"HTTP/1.1 413 " + HTTPStatus(413).phrase.encode()
    assert_too_large_text(body, MiB, None)
    assert headers["connection"] == "close"
    assert await conn.is_closed(timeout=10.0)
    await sender
    await still_serves(server.port)


async def test_body_at_client_max_size_is_read(serve, raw_connect) -> None:
    server = await serve(make_app(client_max_size=MiB))
    conn = await raw_connect(server.port)
    data = payload(MiB, seed=7)
    await conn.send(b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(data))
    sender = asyncio.create_task(send_pieces(conn, split(data, 256 * 1024)))
    status, _, body = await conn.read_response(timeout=10.0)
    await sender
    assert (status, body) == (b"HTTP/1.1 200 OK", b"read %d" % MiB)


# -- answering before the body is in -----------------------------------------------


async def test_handler_answers_while_client_still_sends(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    data = payload(16 * MiB, seed=8)
    await conn.send(b"POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(data))
    await conn.send(data[: 64 * 1024])
    status, headers, body = await conn.read_response()  # before the rest is sent
    assert (status, body) == (b"HTTP/1.1 200 OK", b"ignored")
    if headers.get("connection") == "close":
        await send_pieces(conn, split(data[64 * 1024 :], MiB))
        assert await conn.is_closed(timeout=10.0)
    else:  # a server may also drain the rest and keep the connection
        await send_pieces(conn, split(data[64 * 1024 :], MiB))
        await conn.send(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
        assert (await conn.read_response())[2] == b"fast"
    await still_serves(server.port)


# -- Expect: 100-continue --------------------------------------------------------------


async def test_expect_continue(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(
        b"POST /read HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    )
    interim = await asyncio.wait_for(conn.reader.readexactly(len(CONTINUE)), 5.0)
    assert interim == CONTINUE
    await conn.send(b"hello")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"read 5")
    # and once more on the same connection
    await conn.send(
        b"POST /read HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
    )
    assert await asyncio.wait_for(conn.reader.readexactly(len(CONTINUE)), 5.0) == CONTINUE
    await conn.send(b"abc")
    assert (await conn.read_response())[2] == b"read 3"


async def test_expect_continue_chunked(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(
        b"POST /sha HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    assert await asyncio.wait_for(conn.reader.readexactly(len(CONTINUE)), 5.0) == CONTINUE
    await conn.send(b"5\r\nhello\r\n0\r\n\r\n")
    status, _, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert body.split()[:2] == [b"5", hashlib.sha256(b"hello").hexdigest().encode()]


async def test_expect_continue_not_sent_when_body_unread(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(
        b"POST /ignore HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    )
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"ignored")


async def test_expect_continue_refused_when_too_large(serve, raw_connect) -> None:
    server = await serve(make_app(client_max_size=100))
    conn = await raw_connect(server.port)
    await conn.send(
        b"POST /read HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n"
    )
    status, headers, body = await conn.read_response()
    assert status == b"HTTP/1.1 413 " + HTTPStatus(413).phrase.encode()
    assert_too_large_text(body, 100, 1000)
    assert headers["connection"] == "close"
    assert await conn.is_closed()


async def test_expect_continue_after_pipelined_request_keeps_order(serve, raw_connect) -> None:
    """The 100 Continue of the second request must not overtake the first response."""
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(
        b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n"
        b"POST /read HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    )
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"fast")
    assert await asyncio.wait_for(conn.reader.readexactly(len(CONTINUE)), 5.0) == CONTINUE
    await conn.send(b"hello")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"read 5")


# -- big responses ------------------------------------------------------------------


async def read_slowly(conn, n: int) -> bytes:
    parts = []
    left = n
    while left:
        data = await asyncio.wait_for(conn.reader.read(min(left, 64 * 1024)), 10.0)
        assert data, "EOF in the middle of the body"
        parts.append(data)
        left -= len(data)
        await asyncio.sleep(0.001)  # pacing: a slow reader, not synchronisation
    return b"".join(parts)


async def test_large_response_read_slowly(squall_server, raw_connect) -> None:
    blob = payload(16 * MiB, seed=9)

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=blob)

    app = web.Application()
    app.router.add_get("/big", big)
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
    head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), 5.0)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: %d\r\n" % len(blob) in head
    body = await read_slowly(conn, len(blob))
    assert hashlib.sha256(body).digest() == hashlib.sha256(blob).digest()
    await conn.send(b"GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    _, _, body = await conn.read_response(timeout=20.0)
    assert body == blob
    assert await conn.is_closed()


async def test_streamed_response_waits_for_a_slow_reader(squall_server, raw_connect) -> None:
    """StreamResponse.write waits on the transport: the server's write buffer stays small
    while a slow client reads 16 MiB."""
    blob = payload(16 * MiB, seed=10)
    buffered: list[int] = []

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "application/octet-stream"
        await resp.prepare(request)
        for i in range(0, len(blob), 64 * 1024):
            await resp.write(blob[i : i + 64 * 1024])
            buffered.append(request.transport.get_write_buffer_size())
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/stream", stream)
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
    head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), 5.0)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nTransfer-Encoding: chunked\r\n" in head
    parts = []
    while True:
        size_line = await asyncio.wait_for(conn.reader.readuntil(b"\r\n"), 10.0)
        size = int(size_line, 16)
        data = await asyncio.wait_for(conn.reader.readexactly(size + 2), 10.0)
        if size == 0:
            break
        parts.append(data[:-2])
        if len(parts) % 4 == 0:
            await asyncio.sleep(0.001)  # pacing: a slow reader
    assert b"".join(parts) == blob
    assert max(buffered) < MiB
