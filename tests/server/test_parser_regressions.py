"""The parser's fixes of issue 17 on a real socket: raw bytes in, the server's answer out.

Items 4 (Transfer-Encoding on several lines) and 5 (trailer accounting), the field
count while a head arrives, field values without their trailing whitespace, and the
F-list inputs that reach the parser (F1's request targets, F5's Host values).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from squall import web

Connect = Callable[[int], Awaitable[Any]]


def make_app() -> web.Application:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def headers(request: web.Request) -> web.Response:
        pad = request.headers.get("X-Pad")
        return web.Response(text=f"{pad!r} {request.host!r} {str(request.url)!r}")

    async def progress(request: web.Request) -> web.StreamResponse:
        """Streams the running count of body bytes received, one 8-digit number
        per read: the client waits for each before it sends more."""
        resp = web.StreamResponse()
        await resp.prepare(request)
        total = 0
        while data := await request.content.readany():
            total += len(data)
            await resp.write(b"%08d" % total)
        return resp

    app = web.Application()
    app.router.add_get("/", ok)
    app.router.add_post("/echo", echo)
    app.router.add_get("/headers", headers)
    app.router.add_post("/progress", progress)
    return app


@pytest.fixture
async def port(squall_server: Callable[..., Any]) -> int:
    server = await squall_server(make_app())
    return int(server.port)


async def refused(conn: Any, status: int) -> bytes:
    """The one answer is ``status`` with Connection: close, then EOF."""
    line, headers, body = await conn.read_response()
    assert line.startswith(b"HTTP/1.1 %d " % status), (line, body)
    assert headers["connection"] == "close"
    assert b"Traceback" not in body
    assert await conn.is_closed()
    return bytes(body)


# -- item 4: Transfer-Encoding on several lines ----------------------------------------


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        pytest.param(
            b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 501, id="gzip+chunked"
        ),
        pytest.param(
            b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n",
            501,
            id="identity+chunked",
        ),
        pytest.param(b"Transfer-Encoding: chunked, chunked\r\n", 400, id="chunked,chunked"),
        pytest.param(
            b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
            400,
            id="chunked+identity",
        ),
        pytest.param(
            b"Transfer-Encoding: \r\nTransfer-Encoding: chunked\r\n", 400, id="empty+chunked"
        ),
        pytest.param(b"Transfer-Encoding: , chunked\r\n", 400, id="empty-element"),
        pytest.param(b"Transfer-Encoding: chunked\t\r\n", 400, id="chunked-tab"),
        pytest.param(
            b"Content-Length: 3\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
            400,
            id="cl+te-lines",
        ),
    ],
)
async def test_transfer_encoding_lines_refused_before_the_handler(
    port: int, raw_connect: Connect, fields: bytes, status: int
) -> None:
    """The coded body never reaches the handler and the connection closes (5461cf6
    kept the last line only: ``gzip`` then ``chunked`` was echoed back as a body)."""
    conn = await raw_connect(port)
    head = b"POST /echo HTTP/1.1\r\nHost: t\r\n" + fields + b"\r\n"
    await conn.send(head + b"3\r\nabc\r\n0\r\n\r\n" + b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    body = await refused(conn, status)
    assert b"abc" not in body


# -- item 5: only trailer bytes count against max_head_size -------------------------


@pytest.mark.parametrize("max_head_size", [4096, 16384])
async def test_small_chunks_with_reads_ending_after_a_size_line(
    squall_server: Callable[..., Any], raw_connect: Connect, max_head_size: int
) -> None:
    """A valid chunked body of small chunks, each send ending right after a chunk-size
    line and the next send waiting for the server to have read it, is accepted.
    5461cf6 counted the whole read as trailer bytes: 431."""
    server = await squall_server(make_app(), max_head_size=max_head_size)
    conn = await raw_connect(server.port)
    await conn.send(b"POST /progress HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    await conn.reader.readuntil(b"\r\n\r\n")  # the streamed response's head
    sent = 0
    pending = b""  # the data of the chunk whose size line ended the last send
    for _ in range(6):
        piece = pending
        while len(piece) < 2 * max_head_size:
            piece += b"5\r\nhello\r\n"
            sent += 5
        piece += b"5\r\n"  # ends right after a chunk-size line
        pending = b"world\r\n"
        await conn.send(piece)
        # everything before the size line has been read and handed to the handler
        await asyncio.wait_for(conn.reader.readuntil(b"%08d" % sent), 5.0)
    await conn.send(pending + b"0\r\n\r\n")
    sent += 5
    rest = await asyncio.wait_for(conn.reader.readuntil(b"0\r\n\r\n"), 5.0)
    assert b"%08d" % sent in rest


async def test_trailer_flood_is_exactly_431(port: int, raw_connect: Connect) -> None:
    """Issue 17 (the test suite): a trailer flood gets exactly 431, as a head flood does."""
    conn = await raw_connect(port)
    trailers = b"".join(b"T-%d: v\r\n" % i for i in range(129))
    await conn.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n" + trailers + b"\r\n"
    )
    line, headers, _ = await conn.read_response()
    assert line.startswith(b"HTTP/1.1 431 "), line
    assert headers["connection"] == "close"


async def test_pipelined_body_before_a_split_head(
    squall_server: Callable[..., Any], raw_connect: Connect
) -> None:
    """A read with a body's end and the start of the next head counts only the head's
    bytes against max_head_size (5461cf6 counted the whole read: 431)."""
    server = await squall_server(make_app(), max_head_size=4096)
    conn = await raw_connect(server.port)
    body = b"b" * 8000
    await conn.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8000\r\n\r\n" + body + b"GET / HT"
    )
    line, _, echoed = await conn.read_response()
    assert line == b"HTTP/1.1 200 OK"
    assert echoed == body
    await conn.send(b"TP/1.1\r\nHost: t\r\n\r\n")
    line, _, text = await conn.read_response()
    assert (line, text) == (b"HTTP/1.1 200 OK", b"ok")


# -- the field count while a head arrives ---------------------------------------------


async def test_never_ending_head_is_refused_once_past_128_fields(
    port: int, raw_connect: Connect
) -> None:
    """The head never ends: 431 as soon as the 129th field has arrived, not after
    head_timeout (5461cf6 counted at the head's end only)."""
    conn = await raw_connect(port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n")
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(200))
    await conn.send(fields)  # and no blank line
    await refused(conn, 431)


# -- field values without surrounding whitespace (RFC 9110 5.5) -------------------------


async def test_field_value_loses_trailing_whitespace(port: int, raw_connect: Connect) -> None:
    """aiohttp gives 'padded'; 5461cf6 gave 'padded\\t '."""
    conn = await raw_connect(port)
    await conn.send(b"GET /headers HTTP/1.1\r\nHost: t:80 \t\r\nX-Pad: padded\t \r\n\r\n")
    line, _, body = await conn.read_response()
    assert line == b"HTTP/1.1 200 OK"
    assert body == b"'padded' 't:80' 'http://t/headers'"


# -- the F-list inputs that reach the parser -------------------------------------------


@pytest.mark.parametrize("host", [b"[:/", b"a\xef\xbc\xbb", b"h:99999", b"u@h", b"a b"], ids=repr)
async def test_invalid_host_is_400_not_500(
    port: int, raw_connect: Connect, caplog: pytest.LogCaptureFixture, host: bytes
) -> None:
    """F5: RFC 9112 3.2 says 400 for an invalid Host value; 5461cf6 passed it on and
    building the URL raised (a 500 with a logged traceback)."""
    conn = await raw_connect(port)
    with caplog.at_level(logging.ERROR):
        await conn.send(b"GET /headers HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        body = await refused(conn, 400)
    assert body.startswith(b"400 Bad Request: Invalid Host header")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("data", "statuses"),
    [
        pytest.param(b"GET *0 HTTP/1.0\r\n\r\n", (400,), id="asterisk-junk"),
        pytest.param(b"GET http:///x HTTP/1.1\r\nHost: t\r\n\r\n", (400,), id="empty-host"),
        pytest.param(
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            (404, 405),
            id="connect",
        ),
    ],
)
async def test_odd_request_targets_are_not_500(
    port: int,
    raw_connect: Connect,
    caplog: pytest.LogCaptureFixture,
    data: bytes,
    statuses: tuple[int, ...],
) -> None:
    """F1: the parser passes these on (llhttp takes them); the framework must answer
    them as aiohttp does (400, 400, 404), never 500 with a logged traceback."""
    conn = await raw_connect(port)
    with caplog.at_level(logging.ERROR):
        await conn.send(data)
        line, _, _ = await conn.read_response()
    assert int(line.split(b" ")[1]) in statuses, line
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
