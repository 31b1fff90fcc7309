"""An upgrade request the app does not take over keeps its body (curl --http2 -d …)."""

from __future__ import annotations

from squall import web


async def echo(request: web.Request) -> web.Response:
    return web.Response(body=await request.read())


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/echo", echo)
    return app


H2C = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\n"
    b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
)


async def test_upgrade_request_body_reaches_the_handler(squall_server, raw_connect) -> None:
    server = await squall_server(make_app())
    conn = await raw_connect(server.port)
    await conn.send(H2C + b"Content-Length: 5\r\n\r\nhello")
    status, headers, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"hello")
    assert headers["connection"] == "close"
    assert await conn.is_closed()


async def test_upgrade_request_body_in_pieces(squall_server, raw_connect) -> None:
    server = await squall_server(make_app())
    conn = await raw_connect(server.port)
    await conn.send(H2C + b"Content-Length: 10\r\n\r\nhel")
    await conn.send(b"lo wor")
    await conn.send(b"ld and more")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"hello worl")


async def test_upgrade_request_with_chunked_body_is_refused(squall_server, raw_connect) -> None:
    server = await squall_server(make_app())
    conn = await raw_connect(server.port)
    await conn.send(H2C + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    status, headers, _ = await conn.read_response()
    assert status == b"HTTP/1.1 400 Bad Request"
    assert headers["connection"] == "close"
    assert await conn.is_closed()
