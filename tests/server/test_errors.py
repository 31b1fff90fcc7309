"""A handler's failure never reaches the client as a traceback, and never stops the
server: 500s, broken streamed responses, bad response headers."""

from __future__ import annotations

import asyncio

from squall import web

SECRET = "secret-detail-7f3a"
BODY_500 = b"500 Internal Server Error\n\nServer got itself in trouble"
BODY_500_BAD_RETURN = b"500: Internal Server Error"  # what aiohttp 3.14 sends


async def boom(request: web.Request) -> web.Response:
    raise ValueError(SECRET)


async def boom_later(request: web.Request) -> web.Response:
    await asyncio.sleep(0.01)
    raise KeyError(SECRET)


async def returns_none(request: web.Request) -> web.Response:
    return None  # type: ignore[return-value]


async def returns_str(request: web.Request) -> web.Response:
    return SECRET  # type: ignore[return-value]


async def forbidden(request: web.Request) -> web.Response:
    raise web.HTTPForbidden()


async def prepared_then_boom(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(request)
    raise RuntimeError(SECRET)


async def streamed_then_boom(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(request)
    await resp.write(b"first part;")
    await asyncio.sleep(0.01)
    await resp.write(b"second part;")
    raise RuntimeError(SECRET)


async def bad_header(request: web.Request) -> web.Response:
    return web.Response(text="x", headers={"X-Evil": "a\r\nX-Injected: 1"})


async def bad_header_later(request: web.Request) -> web.Response:
    await asyncio.sleep(0.01)
    return web.Response(text="x", headers={"X-Evil": "a\r\n\r\nHTTP/1.1 200 OK"})


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", ok)
    app.router.add_get("/boom", boom)
    app.router.add_get("/boom-later", boom_later)
    app.router.add_get("/none", returns_none)
    app.router.add_get("/str", returns_str)
    app.router.add_get("/forbidden", forbidden)
    app.router.add_get("/prepared-boom", prepared_then_boom)
    app.router.add_get("/streamed-boom", streamed_then_boom)
    app.router.add_get("/bad-header", bad_header)
    app.router.add_get("/bad-header-later", bad_header_later)
    return app


def get(path: str, *extra: bytes) -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n" % (path.encode(), b"".join(extra))


async def expect_500(conn) -> tuple[dict[str, str], bytes]:
    status, headers, body = await conn.read_response()
    assert status == b"HTTP/1.1 500 Internal Server Error"
    assert SECRET.encode() not in body
    assert b"Traceback" not in body
    assert SECRET not in "".join(headers.values())
    return headers, body


async def test_handler_raising(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/boom"))
    headers, body = await expect_500(conn)
    assert body == BODY_500
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["content-length"] == str(len(BODY_500))
    if headers.get("connection") == "close":
        assert await conn.is_closed()
    else:
        await conn.send(get("/"))
        assert (await conn.read_response())[2] == b"ok"
    await still_serves(server.port)


async def test_handler_raising_after_await(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/boom-later"))
    _, body = await expect_500(conn)
    assert body == BODY_500
    await still_serves(server.port)


async def test_handler_raising_with_html_accept(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/boom", b"Accept: text/html\r\n"))
    headers, body = await expect_500(conn)
    assert headers["content-type"].startswith("text/html")
    assert b"Server got itself in trouble" in body
    await still_serves(server.port)


async def test_handler_returning_none(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/none"))
    headers, body = await expect_500(conn)
    assert body == BODY_500_BAD_RETURN
    if headers.get("connection") == "close":
        assert await conn.is_closed()
    else:  # aiohttp keeps the connection after this 500
        await conn.send(get("/"))
        assert (await conn.read_response())[2] == b"ok"
    await still_serves(server.port)


async def test_handler_returning_a_string(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/str"))
    _, body = await expect_500(conn)
    assert body == BODY_500_BAD_RETURN
    await still_serves(server.port)


async def test_http_exception_keeps_the_connection(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/forbidden"))
    status, headers, body = await conn.read_response()
    assert status == b"HTTP/1.1 403 Forbidden"
    assert body == b"403: Forbidden"
    assert "connection" not in headers
    await conn.send(get("/"))
    assert (await conn.read_response())[2] == b"ok"


async def test_errors_in_a_pipeline(serve, raw_connect) -> None:
    """Requests before a failing one are answered; the 500 follows in order."""
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/") + get("/") + get("/boom") + get("/"))
    for _ in range(2):
        status, _, body = await conn.read_response()
        assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")
    headers, body = await expect_500(conn)
    assert body == BODY_500
    if headers.get("connection") == "close":
        assert await conn.is_closed()
    else:
        assert (await conn.read_response())[2] == b"ok"


async def test_stream_broken_right_after_prepare(serve, raw_connect, still_serves) -> None:
    """The head is out, then the handler raises: the client sees the head and then
    the connection closing (no last chunk, so it knows the body is cut short)."""
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/prepared-boom"))
    data = await conn.read_all()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n"), data
    assert b"\r\nTransfer-Encoding: chunked\r\n" in head + b"\r\n"
    assert body == b""  # no chunk, and no last chunk: the client sees a cut body
    assert SECRET.encode() not in data
    await still_serves(server.port)


async def test_stream_broken_after_prepare_in_a_pipeline(serve, raw_connect) -> None:
    """The good responses queued before the broken one still reach the client."""
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/") + get("/prepared-boom") + get("/"))
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")
    rest = await conn.read_all()
    head, _, body = rest.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n"), rest
    assert body == b""  # the third request is not answered either


async def test_stream_broken_midway(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/streamed-boom") + get("/"))
    data = await conn.read_all()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert body.startswith(b"b\r\nfirst part;\r\n")
    assert b"second part;" in body
    assert not body.endswith(b"0\r\n\r\n")
    assert SECRET.encode() not in data
    assert data.count(b"HTTP/1.1 ") == 1  # the pipelined request is not answered
    await still_serves(server.port)


async def test_header_injection_from_handler(serve, raw_connect, still_serves) -> None:
    """A CR/LF in a header value the handler set gives a 500, never a split response."""
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/bad-header"))
    data = await conn.read_all()
    assert data.startswith(b"HTTP/1.1 500 Internal Server Error\r\n"), data
    assert b"X-Injected" not in data
    assert b"X-Evil" not in data
    await still_serves(server.port)


async def test_header_injection_from_handler_after_await(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/bad-header-later"))
    data = await conn.read_all()
    assert data.startswith(b"HTTP/1.1 500 Internal Server Error\r\n"), data
    assert data.count(b"HTTP/1.1 ") == 1
    assert b"X-Evil" not in data
    await still_serves(server.port)


async def test_server_keeps_serving_after_many_failures(serve, raw_connect) -> None:
    server = await serve(make_app())
    paths = ["/boom", "/boom-later", "/none", "/prepared-boom", "/streamed-boom", "/bad-header"]

    async def fail(path: str) -> None:
        conn = await raw_connect(server.port)
        await conn.send(get(path, b"Connection: close\r\n"))
        data = await conn.read_all()
        assert data.startswith(b"HTTP/1.1 "), data
        conn.close()

    await asyncio.gather(*(fail(p) for p in paths * 5))
    conn = await raw_connect(server.port)
    for _ in range(3):
        await conn.send(get("/"))
        status, _, body = await conn.read_response()
        assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")
