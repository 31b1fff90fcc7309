"""One request, one response: a second head for the same request never goes out.

aiohttp 3.14 sends both (a handler that prepared a response and returned another, a
middleware replacing a response already sent): the client reads the second as the
answer to its next request. Squall drops the connection after the first instead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from squall import web

from ._wire import build, exchange_all, serve

PIPELINE = [build("GET", "/"), build("GET", "/next")]


async def prepared_then_returned(request: web.Request) -> web.StreamResponse:
    first = web.StreamResponse()
    first.content_length = 2
    await first.prepare(request)
    await first.write(b"ok")
    return web.Response(text="SECOND")


async def prepared_chunked_then_returned(request: web.Request) -> web.StreamResponse:
    first = web.StreamResponse()
    await first.prepare(request)
    await first.write(b"ok")
    return web.StreamResponse(status=201)


async def nxt(request: web.Request) -> web.Response:
    return web.Response(text="next")


def app_with(handler: Any, *, middleware: bool = False, hook: bool = False) -> Any:
    @web.middleware
    async def replace(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        return web.Response(text="REPLACED") if request.path == "/" else response

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["X-Hook"] = "1"

    app = web.Application(middlewares=[replace] if middleware else [])
    if hook:
        app.on_response_prepare.append(on_prepare)
    app.router.add_get("/", handler)
    app.router.add_get("/next", nxt)
    return app


async def ok_streamed(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    resp.content_length = 2
    await resp.prepare(request)
    await resp.write(b"ok")
    return resp


@pytest.mark.parametrize(
    "handler, middleware, hook",
    [
        (prepared_then_returned, False, False),  # the fast path
        (prepared_then_returned, False, True),  # through _finish (a prepare hook)
        (prepared_chunked_then_returned, False, False),
        (ok_streamed, True, False),  # a middleware replacing a sent response
    ],
)
async def test_second_response_drops_the_connection(
    handler: Any, middleware: bool, hook: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_with(handler, middleware=middleware, hook=hook)
    with caplog.at_level(logging.ERROR):
        async with serve(web, lambda _web: app) as port:
            data = await read_all(port, b"".join(PIPELINE))
            after = await exchange_all(port, [build("GET", "/next")])
    assert data.count(b"HTTP/1.1 ") == 1, data  # the first answer only, then closed
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith((b"\r\n\r\nok", b"\r\n2\r\nok\r\n"))  # by length, or chunked
    assert b"SECOND" not in data and b"REPLACED" not in data and b"next" not in data
    assert after[0].body == b"next"  # the server goes on serving
    assert any("already sent" in str(r.exc_info) for r in caplog.records)


async def read_all(port: int, data: bytes) -> bytes:
    """Send ``data``; everything the server writes until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


async def test_low_level_server_too() -> None:
    from squall.testing import RawTestServer

    server = RawTestServer(prepared_then_returned)
    await server.start_server()
    try:
        data = await read_all(server.port, b"".join(PIPELINE))
    finally:
        await server.close()
    assert data.count(b"HTTP/1.1 ") == 1
    assert data.endswith(b"\r\n\r\nok")
