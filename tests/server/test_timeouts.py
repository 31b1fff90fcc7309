"""Slow clients are dropped: head_timeout (408), slowloris, and body_timeout."""

from __future__ import annotations

import asyncio

from squall import web


async def read_body(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(text=f"read {len(body)}")


async def stream_body(request: web.Request) -> web.Response:
    size = 0
    while data := await request.content.read(65536):
        size += len(data)
    return web.Response(text=f"streamed {size}")


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", ok)
    app.router.add_post("/read", read_body)
    app.router.add_post("/stream", stream_body)
    return app


async def expect_timeout_response(conn, status: int, timeout: float = 3.0) -> None:
    line, headers, body = await conn.read_response(timeout=timeout)
    assert line.startswith(b"HTTP/1.1 %d " % status), line
    assert headers["connection"] == "close"
    assert headers["content-type"].startswith("text/plain")
    assert body.startswith(b"%d" % status)
    assert len(body) < 200
    assert await conn.is_closed()


async def test_half_a_head_gets_408(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app(), head_timeout=0.5)
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHo")
    loop = asyncio.get_running_loop()
    start = loop.time()
    await expect_timeout_response(conn, 408)
    assert loop.time() - start >= 0.4
    await still_serves(server.port)


async def test_half_a_request_line_gets_408(serve, raw_connect, still_serves) -> None:
    """The head timer starts at the head's first byte, even inside the method."""
    server = await serve(make_app(), head_timeout=0.5)
    conn = await raw_connect(server.port)
    await conn.send(b"GE")
    await expect_timeout_response(conn, 408)
    await still_serves(server.port)


async def test_half_a_second_head_gets_408(serve, raw_connect) -> None:
    server = await serve(make_app(), head_timeout=0.5)
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\n")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")
    await expect_timeout_response(conn, 408)


async def test_slowloris_trickling_header_bytes(serve, raw_connect, still_serves) -> None:
    """Bytes that keep coming do not keep a head alive past head_timeout."""
    server = await serve(make_app(), head_timeout=0.5)
    conn = await raw_connect(server.port)

    async def trickle() -> None:
        await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        try:
            for _ in range(200):  # ~10 s at most
                await conn.send(b"a")
                await asyncio.sleep(0.05)  # pacing: the attack, not synchronisation
        except ConnectionError:
            pass

    trickler = asyncio.create_task(trickle())
    try:
        await expect_timeout_response(conn, 408, timeout=3.0)
    finally:
        trickler.cancel()
    await still_serves(server.port)


async def test_slowloris_with_many_header_lines(serve, raw_connect) -> None:
    server = await serve(make_app(), head_timeout=0.5)
    conn = await raw_connect(server.port)

    async def trickle() -> None:
        await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n")
        try:
            for i in range(100):
                await conn.send(b"X-%d: v\r\n" % i)
                await asyncio.sleep(0.05)  # pacing
        except ConnectionError:
            pass

    trickler = asyncio.create_task(trickle())
    try:
        await expect_timeout_response(conn, 408, timeout=3.0)
    finally:
        trickler.cancel()


async def test_body_that_never_comes(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app(), body_timeout=0.5)
    conn = await raw_connect(server.port)
    await conn.send(b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
    await expect_timeout_response(conn, 408)
    await still_serves(server.port)


async def test_streamed_body_that_stops(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app(), body_timeout=0.5)
    conn = await raw_connect(server.port)
    await conn.send(b"POST /stream HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    await conn.send(b"a\r\n0123456789\r\n")
    await expect_timeout_response(conn, 408)
    await still_serves(server.port)


async def test_slow_but_steady_body_is_fine(serve, raw_connect) -> None:
    """body_timeout is about silence, not total time."""
    server = await serve(make_app(), body_timeout=0.5)
    conn = await raw_connect(server.port)
    await conn.send(b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n")
    for i in range(10):
        await conn.send(b"%d" % i)
        await asyncio.sleep(0.1)  # pacing: 1 s in all, never 0.5 s of silence
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"read 10")


async def test_head_timeout_does_not_cut_a_running_handler(squall_server, raw_connect) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.8)
        return web.Response(text="slow")

    app = web.Application()
    app.router.add_get("/slow", slow)
    server = await squall_server(app, head_timeout=0.3, keepalive_timeout=0.3)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"slow")


async def test_empty_lines_do_not_keep_an_idle_connection(serve, raw_connect) -> None:
    """CRLFs before a request line may be skipped (RFC 9112 2.2), but a trickle of
    them must not hold an idle connection open past keepalive_timeout."""
    server = await serve(make_app(), keepalive_timeout=0.3, head_timeout=0.3)
    conn = await raw_connect(server.port)

    async def trickle() -> None:
        try:
            for _ in range(100):  # ~5 s at most
                await conn.send(b"\r\n")
                await asyncio.sleep(0.05)  # pacing: the attack, not synchronisation
        except ConnectionError:
            pass

    trickler = asyncio.create_task(trickle())
    try:
        data = await conn.read_all(timeout=2.5)
    finally:
        trickler.cancel()
    assert data == b"" or data.startswith(b"HTTP/1.1 408 "), data
