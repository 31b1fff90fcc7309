"""Malformed values a client can send (issue 17, F1-F6): a 4xx or a sane value, never a
500 with a logged traceback.

Each case is a minimal input found by fuzzing, sent as raw bytes through a real
socket to a handler that uses the value. Where aiohttp's answer is right, the case is
also compared with aiohttp byte for byte.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from squall import web
from squall.testing import make_mocked_request

from ._wire import same


@pytest.fixture
def no_error_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if anything is logged at ERROR (a handler's traceback is)."""
    with caplog.at_level(logging.ERROR):
        yield
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def values_app(web: Any) -> Any:
    """One route per value under test; each answers the value as text."""

    async def content_type(request: Any) -> Any:
        return web.json_response([request.content_type, request.charset])

    async def text(request: Any) -> Any:
        return web.Response(text=await request.text())

    async def form(request: Any) -> Any:
        return web.json_response(sorted((await request.post()).items()))

    async def cookie(request: Any) -> Any:
        return web.json_response(dict(request.cookies))

    async def dates(request: Any) -> Any:
        values = [request.if_modified_since, request.if_unmodified_since, request.if_range]
        return web.json_response([None if v is None else v.isoformat() for v in values])

    async def url(request: Any) -> Any:
        return web.Response(text=str(request.url))

    async def as_json(request: Any) -> Any:
        return web.json_response(await request.json())

    async def anything(request: Any) -> Any:
        return web.Response(text=f"handler saw {request.path!r}")

    app = web.Application()
    app.router.add_route("*", "/ctype", content_type)
    app.router.add_post("/text", text)
    app.router.add_post("/form", form)
    app.router.add_get("/cookie", cookie)
    app.router.add_get("/dates", dates)
    app.router.add_get("/url", url)
    app.router.add_post("/json", as_json)
    app.router.add_route("*", "/{tail:.*}", anything)
    return app


async def ask(squall_server: Any, raw_connect: Any, data: bytes) -> tuple[bytes, bytes, Any]:
    server = await squall_server(values_app(web))
    conn = await raw_connect(server.port)
    await conn.send(data)
    status, _, body = await conn.read_response()
    return status, body, conn


# -- F1: request-targets no form allows, and CONNECT --------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"GET *0 HTTP/1.0\r\n\r\n",
        b"GET http:///x HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET mailto:x HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET * HTTP/1.1\r\nHost: t\r\n\r\n",  # asterisk-form is for OPTIONS only
        b"GET http://a\xef\xbc\xbb/x HTTP/1.1\r\nHost: t\r\n\r\n",  # F5 in the target
        b"GET http://[::1/x HTTP/1.1\r\nHost: t\r\n\r\n",
    ],
    ids=["asterisk-junk", "no-host", "not-http", "get-asterisk", "fullwidth", "ipv6"],
)
async def test_bad_request_target_is_400_and_closes(
    squall_server: Any, raw_connect: Any, no_error_logged: None, data: bytes
) -> None:
    status, _, conn = await ask(squall_server, raw_connect, data)
    assert status.split(b" ")[1] == b"400"
    assert await conn.is_closed()


async def test_connect_is_404_reaches_no_handler_and_opens_no_tunnel(
    squall_server: Any, raw_connect: Any, no_error_logged: None
) -> None:
    """aiohttp 3.14 answers 404 (its CONNECT target has no path, so no route matches);
    Squall too, and then closes: bytes after a CONNECT may be a tunnel's, never a
    request's."""
    status, body, conn = await ask(
        squall_server,
        raw_connect,
        b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n"
        b"\x16\x03\x01 GET /x HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    assert (status, body) == (b"HTTP/1.1 404 Not Found", b"404: Not Found")
    assert await conn.is_closed()


async def test_connect_seen_by_a_middleware_has_no_path(
    squall_server: Any, raw_connect: Any, no_error_logged: None
) -> None:
    seen: list[tuple[str, str, str]] = []

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append((request.path, request.raw_path, str(request.url)))
        return await handler(request)

    app = values_app(web)
    app.middlewares.append(record)
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    status, _, _ = await conn.read_response()
    assert status == b"HTTP/1.1 404 Not Found"
    assert seen == [("", "example.com:443", "http://example.com:443")]


async def test_options_asterisk_is_still_routed(
    squall_server: Any, raw_connect: Any, no_error_logged: None
) -> None:
    status, _, _ = await ask(squall_server, raw_connect, b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == b"HTTP/1.1 404 Not Found"  # no route for "*", as on aiohttp


# -- F2: a Content-Type that is not ASCII ------------------------------------------------


MANGLED_CTYPE = b"\x8b\xc2\x8a"


@pytest.mark.parametrize("path", ["/ctype", "/text", "/form"])
async def test_non_ascii_content_type_is_octet_stream(path: str, no_error_logged: None) -> None:
    data = (
        f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Type: ".encode()
        + MANGLED_CTYPE
        + b"\r\n\r\na=1"
    )
    reply = await same(values_app, data)
    assert reply.status == 200


async def test_non_ascii_content_type_then_json(
    squall_server: Any, raw_connect: Any, no_error_logged: None
) -> None:
    status, body, _ = await ask(
        squall_server,
        raw_connect,
        b"POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Type: "
        + MANGLED_CTYPE
        + b"\r\n\r\n[]",
    )
    assert (status, body) == (b"HTTP/1.1 200 OK", b"[]")


# -- F3: octal escapes in a quoted cookie ----------------------------------------------------


@pytest.mark.parametrize(
    "cookie",
    [b'b="\\808"', b'b="\\101\\7"', '"\\\u0661\u0662\u0663"'.encode().join([b"b=", b""])],
    ids=["not-octal", "octal", "arabic-digits"],
)
async def test_quoted_cookie_escapes_as_aiohttp(cookie: bytes, no_error_logged: None) -> None:
    reply = await same(
        values_app, b"GET /cookie HTTP/1.1\r\nHost: t\r\nCookie: " + cookie + b"\r\n\r\n"
    )
    assert reply.status == 200


async def test_quoted_cookie_not_octal_value(
    squall_server: Any, raw_connect: Any, no_error_logged: None
) -> None:
    _, body, _ = await ask(
        squall_server, raw_connect, b'GET /cookie HTTP/1.1\r\nHost: t\r\nCookie: b="\\808"\r\n\r\n'
    )
    assert body == b'{"b": "808"}'


# -- F4: dates whose numbers overflow ---------------------------------------------------------


@pytest.mark.parametrize("field", ["If-Modified-Since", "If-Unmodified-Since", "If-Range"])
async def test_overflowing_date_is_none(
    squall_server: Any, raw_connect: Any, no_error_logged: None, field: str
) -> None:
    """aiohttp has the same bug (a 500); the docstring promises None."""
    status, body, _ = await ask(
        squall_server,
        raw_connect,
        f"GET /dates HTTP/1.1\r\nHost: t\r\n{field}: 6 Nov 4 5477580849:7\r\n\r\n".encode(),
    )
    assert (status, body) == (b"HTTP/1.1 200 OK", b"[null, null, null]")


# -- F5: a Host yarl cannot read -------------------------------------------------------------


@pytest.mark.parametrize("host", [b"[:/", b"a\xef\xbc\xbb"], ids=["bracket", "fullwidth"])
async def test_unreadable_host_is_400(
    squall_server: Any, raw_connect: Any, no_error_logged: None, host: bytes
) -> None:
    """aiohttp has the same bug (``str(request.url)`` raises, a 500)."""
    status, _, _ = await ask(
        squall_server, raw_connect, b"GET /url HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    )
    assert status == b"HTTP/1.1 400 Bad Request"


@pytest.mark.parametrize("host", ["[:/", "a\uff3b", "x:99999"])
def test_unreadable_host_in_url_is_400_whatever_the_parser_let_through(host: str) -> None:
    """The parser refuses these Host values now; ``request.url`` does not count on it
    (a mocked request, ``clone(host=...)``)."""
    request = make_mocked_request("GET", "/x", headers={"Host": host})
    with pytest.raises(web.HTTPBadRequest):
        _ = request.url
    clone = make_mocked_request("GET", "/x").clone(host=host)
    with pytest.raises(web.HTTPBadRequest):
        _ = clone.url


# -- F6: JSON nested deeper than the decoder's stack -----------------------------------------


@pytest.mark.parametrize("depth", [1200, 100_000])
async def test_deeply_nested_json_is_400(
    squall_server: Any, raw_connect: Any, no_error_logged: None, depth: int
) -> None:
    body = b"[" * depth
    status, text, _ = await ask(
        squall_server,
        raw_connect,
        b"POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
    )
    assert status == b"HTTP/1.1 400 Bad Request"
    # a RecursionError on 3.11; 3.12's deeper C stack may read to the end first
    assert text in (
        b"Invalid JSON body: Nested too deeply",
        b"Invalid JSON body: Expecting value",
    )
