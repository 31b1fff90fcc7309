"""Checks where aiohttp is not the reference: Squall's own promises on the wire.

- every response carries a ``Date`` in RFC 9110's IMF-fixdate (5.6.7), on the
  cached simple path and on the streamed path;
- a handler's ``Connection: close`` (or ``force_close()``) closes the connection
  after its response (aiohttp sends the header and keeps the connection open);
- ``Response(body="text")`` is sent UTF-8 encoded as ``text/plain; charset=utf-8``
  (as aiohttp does);
- a flood of trailer fields, or a trailer line that never ends, is refused with
  exactly 431, like the same flood in the head.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest

from squall import web

# RFC 9110 5.6.7: IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
    r"[0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT"
)


def get(path: str, extra: bytes = b"") -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n" % (path.encode(), extra)


async def simple(request: web.Request) -> web.Response:
    return web.Response(text="simple")


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def headers(request: web.Request) -> web.Response:
    return web.Response(text="with headers", headers={"X-Extra": "1"})


async def streamed(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(request)
    await resp.write(b"streamed")
    await resp.write_eof()
    return resp


async def suspended(request: web.Request) -> web.Response:
    await asyncio.sleep(0)
    return web.Response(text="suspended")


async def close_header(request: web.Request) -> web.Response:
    return web.Response(text="bye", headers={"Connection": "close"})


async def close_header_streamed(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Connection": "close"})
    await resp.prepare(request)
    await resp.write(b"bye")
    await resp.write_eof()
    return resp


async def close_forced(request: web.Request) -> web.Response:
    resp = web.Response(text="bye")
    resp.force_close()
    return resp


async def str_body(request: web.Request) -> web.Response:
    return web.Response(body="str body \u00e9")


async def echo(request: web.Request) -> web.Response:
    return web.Response(body=await request.read())


def make_app() -> web.Application:
    app = web.Application()
    for path, handler in [
        ("/", ok),
        ("/simple", simple),
        ("/headers", headers),
        ("/streamed", streamed),
        ("/suspended", suspended),
        ("/close", close_header),
        ("/close-streamed", close_header_streamed),
        ("/close-forced", close_forced),
        ("/str-body", str_body),
    ]:
        app.router.add_get(path, handler)
    app.router.add_post("/echo", echo)
    return app


# -- Date -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/simple", "/headers", "/streamed", "/suspended"])
async def test_date_is_an_imf_fixdate_of_now(serve, raw_connect, path: str) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    before = datetime.now(UTC).replace(microsecond=0)
    await conn.send(get(path) * 2)  # the second one from the per-second cache
    for _ in range(2):
        status, fields, _ = await conn.read_response()
        after = datetime.now(UTC)
        assert status == b"HTTP/1.1 200 OK"
        value = fields["date"]
        assert IMF_FIXDATE.fullmatch(value), value
        when = parsedate_to_datetime(value)
        assert format_datetime(when, usegmt=True) == value  # the day name fits the date
        # cached once a second: at most a second behind the clock
        assert before - timedelta(seconds=1) <= when <= after, (before, value, after)


async def test_date_on_an_error_response(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/nowhere"))
    status, fields, _ = await conn.read_response()
    assert status == b"HTTP/1.1 404 Not Found"
    assert IMF_FIXDATE.fullmatch(fields["date"]), fields["date"]


# -- a handler closing the connection ------------------------------------------------------


@pytest.mark.parametrize("path", ["/close", "/close-streamed", "/close-forced"])
async def test_handler_connection_close_closes(serve, raw_connect, still_serves, path) -> None:
    """Pipelined behind it, the next request is not answered: the connection ends."""
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get(path) + get("/simple"))
    status, fields, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert fields["connection"] == "close"
    assert body == b"bye"
    assert await conn.is_closed()
    await still_serves(server.port)


# -- Response(body=str) ----------------------------------------------------------------------


async def test_str_body_is_utf8_text(serve, raw_connect) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(get("/str-body"))
    status, fields, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert fields["content-type"] == "text/plain; charset=utf-8"
    assert body == "str body \u00e9".encode()
    assert fields["content-length"] == str(len(body))


# -- trailer floods: exactly 431 ----------------------------------------------------------


# The parser raises 431 for these (tests/h1); the status travels to the handler's
# body read in MalformedBodyError.status, and the app answers with it.
CHUNKED_POST = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"


async def send_until_refused(conn, pieces) -> None:
    try:
        for piece in pieces:
            await conn.send(piece)
    except ConnectionError:
        pass  # refused midway: what the test is about


async def expect_431(conn) -> None:
    status, fields, body = await conn.read_response(timeout=20.0)
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large", status
    assert fields["connection"] == "close"
    assert body.startswith(b"431")


async def test_trailer_flood_is_431(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(CHUNKED_POST + b"5\r\nhello\r\n0\r\n")
    lines = (b"X-Trailer: " + b"v" * 100 + b"\r\n") * 512
    sender = asyncio.create_task(send_until_refused(conn, [lines] * 300 + [b"\r\n"]))
    try:
        await expect_431(conn)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
    await still_serves(server.port)


async def test_many_small_trailers_are_431(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    trailers = b"".join(b"T-%d: v\r\n" % i for i in range(1000))
    await send_until_refused(conn, [CHUNKED_POST + b"5\r\nhello\r\n0\r\n" + trailers + b"\r\n"])
    await expect_431(conn)
    await still_serves(server.port)


async def test_endless_trailer_line_is_431(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(CHUNKED_POST + b"5\r\nhello\r\n0\r\nX-Long: ")
    await send_until_refused(conn, [b"a" * 65536] * 16)
    await expect_431(conn)
    assert await conn.is_closed()
    await still_serves(server.port)
