"""Keep-alive, HTTP/1.0, ``Connection: close`` and the idle timeout."""

from __future__ import annotations

import asyncio

import httpx

from squall import web


async def peer(request: web.Request) -> web.Response:
    port = request.transport.get_extra_info("peername")[1]
    return web.Response(text=f"{request.version[0]}.{request.version[1]} {port}")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", peer)
    app.router.add_post("/echo", _echo)
    return app


async def _echo(request: web.Request) -> web.Response:
    return web.Response(body=await request.read())


async def test_several_requests_on_one_connection(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    local_port = conn.writer.get_extra_info("sockname")[1]
    for _ in range(5):
        await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body = await conn.read_response()
        assert status == b"HTTP/1.1 200 OK"
        assert body == b"1.1 %d" % local_port
        assert "connection" not in headers
    await conn.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"abc")


async def test_httpx_reuses_the_connection(serve) -> None:
    server = await serve(make_app())
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        bodies = [(await client.get("/")).text for _ in range(10)]
    assert len(set(bodies)) == 1  # one client port: one connection
    assert bodies[0].startswith("1.1 ")


async def test_http10_closes_after_the_response(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.0\r\n\r\n")
    status, headers, body = await conn.read_response()
    assert status.startswith(b"HTTP/1.")
    assert status.endswith(b" 200 OK")
    assert body.startswith(b"1.0 ")
    assert headers.get("connection", "close").lower() == "close"
    assert await conn.is_closed()


async def test_http10_keep_alive(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    for _ in range(3):
        await conn.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        status, headers, body = await conn.read_response()
        assert status.endswith(b" 200 OK")
        assert headers["connection"].lower() == "keep-alive"
        assert headers["content-length"] == str(len(body))
        assert body.startswith(b"1.0 ")
    await conn.send(b"GET / HTTP/1.0\r\n\r\n")
    status, headers, _ = await conn.read_response()
    assert status.endswith(b" 200 OK")
    assert await conn.is_closed()


async def test_http11_connection_close(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    status, headers, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert body.startswith(b"1.1 ")
    assert await conn.is_closed()


async def test_requests_after_connection_close_are_not_answered(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(
        b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    status, headers, _ = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert "connection" not in headers
    status, headers, _ = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert await conn.is_closed()  # nothing more: the third request is dropped


async def test_half_close_after_request_still_gets_the_response(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
    conn.writer.write_eof()
    for _ in range(2):
        status, _, _ = await conn.read_response()
        assert status == b"HTTP/1.1 200 OK"
    assert await conn.is_closed()


async def test_keepalive_timeout_closes_an_idle_connection(serve, raw_connect) -> None:
    """On the loop's clock, through the server's own sweep."""
    server = await serve(make_app(), keepalive_timeout=0.3)
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, _ = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await conn.is_closed(timeout=20.0)
    assert loop.time() - start >= 0.25


# The rules below are driven with an injected clock (see test_timeouts.py).
LIMIT = 30.0


async def test_keepalive_timeout_closes_a_connection_that_never_sent(observe, raw_connect) -> None:
    srv = await observe(make_app(), keepalive_timeout=LIMIT, head_timeout=10 * LIMIT)
    before = srv.now()
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    after = srv.now()
    observed.check_timeouts(before + LIMIT - 0.001)
    assert not observed.socket_closing
    observed.check_timeouts(after + LIMIT + 0.001)
    assert observed.socket_closing
    assert await conn.is_closed()


async def test_keepalive_timeout_spares_a_busy_handler(observe, raw_connect) -> None:
    """The idle timer does not run while a request is being answered."""
    release, started = asyncio.Event(), asyncio.Event()

    async def blocked(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        return web.Response(text="done")

    app = make_app()
    app.router.add_get("/blocked", blocked)
    srv = await observe(app, keepalive_timeout=LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    await conn.send(b"GET /blocked HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.wait_for(started.wait(), 10)
    observed.check_timeouts(srv.now() + 100 * LIMIT)
    assert not observed.socket_closing
    release.set()
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"done")
    # and it is idle from then on, counted from the response
    observed.check_timeouts(srv.now() + LIMIT + 0.001)
    assert await conn.is_closed()


async def test_keepalive_timeout_restarts_after_each_request(observe, raw_connect) -> None:
    srv = await observe(make_app(), keepalive_timeout=LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await conn.read_response())[0] == b"HTTP/1.1 200 OK"
    first = srv.now()
    sending = srv.later(first)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await conn.read_response())[0] == b"HTTP/1.1 200 OK"
    second = srv.now()
    # past the limit counted from the first request, within it from the second
    observed.check_timeouts(first + LIMIT + (sending - first) / 2)
    assert not observed.socket_closing
    observed.check_timeouts(second + LIMIT + 0.001)
    assert await conn.is_closed()


async def test_http10_transfer_encoding_closes_after_the_response(serve, raw_connect) -> None:
    """RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing;
    the server closes the connection after it, even when asked to keep it alive."""
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(
        b"POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    )
    status, headers, _ = await conn.read_response()
    assert status[9:10] in (b"2", b"4"), status
    assert headers.get("connection", "close").lower() == "close"
    assert await conn.is_closed()


async def test_upgrade_nobody_takes_closes_after_the_response(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: foo/1\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    status, headers, _ = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert await conn.is_closed()


async def test_client_eof_ends_lingering_at_once(serve, raw_connect) -> None:
    """After a close with pipelined requests left unanswered, the client's EOF ends
    the lingering: nothing keeps the connection (or a shutdown) waiting."""
    server = await serve(make_app(), lingering_time=10.0)
    conn = await raw_connect(server.port)
    await conn.send(
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    _, headers, _ = await conn.read_response()
    assert headers["connection"] == "close"
    assert await conn.is_closed()
    conn.writer.write_eof()
    loop = asyncio.get_running_loop()
    start = loop.time()
    await server.close()
    assert loop.time() - start < 5.0  # lingering_time is 10 s: far from either


async def test_shutdown_does_not_wait_for_a_lingering_connection(serve, raw_connect) -> None:
    """A connection closed after a bad head only drains input: a graceful shutdown
    closes it at once instead of waiting out lingering_time or shutdown_timeout."""
    server = await serve(make_app(), lingering_time=10.0)
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHost : t\r\n\r\n")
    status, _, _ = await conn.read_response()
    assert status == b"HTTP/1.1 400 Bad Request"
    assert await conn.is_closed()
    loop = asyncio.get_running_loop()
    start = loop.time()
    await server.close()
    assert loop.time() - start < 5.0  # lingering_time is 10 s: far from either
