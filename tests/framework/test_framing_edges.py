"""Response framing at the edges: every body is delimited so the next response on the
connection is read as a response, and bodies that must not exist are not sent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from squall import web


async def chunked_response(request: web.Request) -> web.Response:
    resp = web.Response(text="hello")
    resp.enable_chunked_encoding()
    return resp


async def over_length(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    resp.content_length = 3
    await resp.prepare(request)
    await resp.write(b"abcdef")
    return resp


async def no_content_stream(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(status=204)
    await resp.prepare(request)
    await resp.write(b"data")
    return resp


async def raise_after_prepare(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(request)
    await resp.write(b"partial")
    raise web.HTTPNotFound()


async def readline(request: web.Request) -> web.Response:
    line = await request.content.readline()
    return web.Response(text=str(len(line)))


async def form(request: web.Request) -> web.Response:
    data = await request.post()
    # a file part is shown by its filename
    items = [(k, v if isinstance(v, str) else v.filename) for k, v in data.items()]
    return web.json_response(sorted(items))


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app(suspend: bool = False) -> web.Application:
    """The routes above; ``suspend`` makes every handler await once first, so it
    runs in its Task after the in-place step instead of finishing inside it."""

    @web.middleware
    async def suspend_first(request: web.Request, handler: Any) -> web.StreamResponse:
        await asyncio.sleep(0)
        return await handler(request)

    app = web.Application(middlewares=[suspend_first] if suspend else [])
    app.router.add_get("/chunked", chunked_response)
    app.router.add_get("/over", over_length)
    app.router.add_get("/nocontent", no_content_stream)
    app.router.add_get("/raise", raise_after_prepare)
    app.router.add_post("/readline", readline)
    app.router.add_post("/form", form)
    app.router.add_get("/ok", ok)
    return app


NEXT = b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.fixture(params=["in-place", "task"])
def app(request: pytest.FixtureRequest) -> web.Application:
    """Each pipelined framing case on both paths: answered in place, and in a Task."""
    return make_app(suspend=request.param == "task")


async def test_response_with_chunked_encoding_is_framed(squall_server, raw_connect, app) -> None:
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n" + NEXT)
    status, headers, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert headers["transfer-encoding"] == "chunked"
    assert body == b"hello"
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")


async def test_stream_never_writes_past_its_content_length(squall_server, raw_connect, app) -> None:
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /over HTTP/1.1\r\nHost: t\r\n\r\n" + NEXT)
    status, headers, body = await conn.read_response()
    assert (status, headers["content-length"], body) == (b"HTTP/1.1 200 OK", "3", b"abc")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")


async def test_no_body_bytes_after_a_204_head(squall_server, raw_connect, app) -> None:
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /nocontent HTTP/1.1\r\nHost: t\r\n\r\n" + NEXT)
    status, headers, body = await conn.read_response()
    assert status == b"HTTP/1.1 204 No Content"
    assert "content-length" not in headers and "transfer-encoding" not in headers
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")


async def test_http_exception_after_prepare_drops_the_connection(
    squall_server, raw_connect, app
) -> None:
    """The head is out: a second status line must not appear inside the body."""
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /raise HTTP/1.1\r\nHost: t\r\n\r\n")
    data = await conn.read_all()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.count(b"HTTP/1.1") == 1
    assert not data.endswith(b"0\r\n\r\n")  # the body is visibly cut short


async def test_readline_is_bounded(squall_server, raw_connect) -> None:
    server = await squall_server(make_app(), lingering_time=0.5)
    conn = await raw_connect(server.port)
    size = 2**19 + 70000
    await conn.send(b"POST /readline HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
    await conn.send(b"x" * size)
    status, _, body = await conn.read_response()
    assert status == b"HTTP/1.1 400 Bad Request"
    assert b"Got more than" in body


async def test_readline_returns_lines(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.post("/readline", data=b"first line\nsecond")
    assert await resp.text() == str(len(b"first line\n"))


async def test_multipart_post_is_read(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.post("/form", files={"a": ("a.txt", b"1")})
    assert resp.status == 200
    assert await resp.json() == [["a", "a.txt"]]


async def test_urlencoded_post_still_works(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.post("/form", data={"a": "1", "b": "2"})
    assert await resp.json() == [["a", "1"], ["b", "2"]]
