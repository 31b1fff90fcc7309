"""Strict parsing on the wire: what RFC 9112 says a server MUST reject is refused with a
short plain-text 4xx, ``Connection: close`` and EOF, and the server goes on serving."""

from __future__ import annotations

import asyncio

import pytest

from squall import web

GOOD = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


async def test_good_request_is_answered(serve, raw_connect) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(GOOD)
    status, headers, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert body == b"ok"
    assert headers["content-length"] == "2"
    assert "connection" not in headers  # HTTP/1.1 keep-alive is the default


async def test_malformed_request_line_extra_word(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET / HTTP/1.1 junk\r\nHost: t\r\n\r\n")


async def test_malformed_request_line_space_in_target(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n")


async def test_malformed_request_line_no_target(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET HTTP/1.1\r\nHost: t\r\n\r\n")


async def test_not_http_at_all(serve, expect_refused) -> None:
    server = await serve()
    # a TLS ClientHello sent to the plain-text port
    await expect_refused(server.port, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\0" * 32)


@pytest.mark.parametrize("method", [b"G(T", b"GE\x01T", b"get", b"G\xc3\xa9T", b"GET\t"], ids=repr)
async def test_bad_method_chars(serve, expect_refused, method: bytes) -> None:
    server = await serve()
    await expect_refused(server.port, method + b" / HTTP/1.1\r\nHost: t\r\n\r\n")


async def test_space_before_colon(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET / HTTP/1.1\r\nHost : t\r\n\r\n")


async def test_whitespace_before_first_header(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET / HTTP/1.1\r\n Host: t\r\n\r\n")


async def test_empty_header_name(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n: x\r\n\r\n")


@pytest.mark.parametrize("char", [b"\x00", b"\x01", b"\x7f", b"\r"], ids=repr)
async def test_control_char_in_header_value(serve, expect_refused, char: bytes) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a" + char + b"b\r\n\r\n")


async def test_control_char_in_header_name(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET / HTTP/1.1\r\nHost: t\r\nX\x01A: b\r\n\r\n")


async def test_obs_fold(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n")


async def test_content_length_and_transfer_encoding(serve, expect_refused) -> None:
    server = await serve()
    # the classic CL.TE smuggling shape: the chunked body hides a second request
    smuggle = b"GET /fast/smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
    data = (
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggle
    )
    body = await expect_refused(server.port, data)
    assert b"smuggled" not in body


async def test_transfer_encoding_and_content_length(serve, expect_refused) -> None:
    server = await serve()
    data = (
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: 3\r\n\r\n0\r\n\r\n"
    )
    await expect_refused(server.port, data)


async def test_two_differing_content_lengths(serve, expect_refused) -> None:
    server = await serve()
    data = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
    await expect_refused(server.port, data)


async def test_content_length_list(serve, expect_refused) -> None:
    server = await serve()
    data = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\nx"
    await expect_refused(server.port, data)


@pytest.mark.parametrize("value", [b"-1", b"+1", b"0x10", b"99999999999999999999999"])
async def test_bad_content_length(serve, expect_refused, value: bytes) -> None:
    server = await serve()
    data = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + value + b"\r\n\r\nx"
    await expect_refused(server.port, data)


async def test_transfer_encoding_gzip(serve, expect_refused) -> None:
    """chunked is not the final coding: the length cannot be known, so 400 (RFC 9112
    6.3) before the request reaches a handler."""
    server = await serve()
    data = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nhello"
    await expect_refused(server.port, data)


async def test_transfer_encoding_chunked_then_gzip(serve, expect_refused) -> None:
    server = await serve()
    data = (
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"
    )
    await expect_refused(server.port, data)


async def test_transfer_encoding_gzip_never_reaches_handler(serve, raw_connect) -> None:
    """A handler that ignores the body must not be run for a request whose framing is
    invalid: the first (and only) answer is the 400."""
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(b"POST /ignore HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nhello")
    status, headers, body = await conn.read_response()
    assert status == b"HTTP/1.1 400 Bad Request", (status, body)
    assert headers["connection"] == "close"
    assert await conn.is_closed()


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",  # not hex
        b"5 \r\nhello\r\n0\r\n\r\n",  # trailing space
        b"-5\r\nhello\r\n0\r\n\r\n",  # negative
        b"ffffffffffffffffff\r\n",  # overflow
        b"5\r\nhelloXX0\r\n\r\n",  # no CRLF after the data
        b"5\nhello\n0\n\n",  # bare LF
    ],
    ids=["not-hex", "trailing-space", "negative", "overflow", "no-crlf", "bare-lf"],
)
async def test_bad_chunk_size(serve, expect_refused, body: bytes) -> None:
    """The head was fine, the body's framing is not: the handler reading the body must
    not turn this into a 500; the client is told 400 and the connection closes."""
    server = await serve()
    head = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    await expect_refused(server.port, head + body)


async def test_request_line_too_long(serve, expect_refused) -> None:
    server = await serve()
    data = b"GET /" + b"a" * 8190 + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    await expect_refused(server.port, data, 414)


async def test_request_line_at_limit_is_served(serve, raw_connect) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(b"GET /?" + b"a" * 8188 + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert body == b"ok"


async def test_header_field_too_long(serve, expect_refused) -> None:
    server = await serve()
    data = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 8191 + b"\r\n\r\n"
    await expect_refused(server.port, data, 431)


async def test_header_name_too_long(serve, expect_refused) -> None:
    server = await serve()
    data = b"GET / HTTP/1.1\r\nHost: t\r\nX" + b"a" * 8191 + b": v\r\n\r\n"
    await expect_refused(server.port, data, 431)


async def test_too_many_headers(serve, expect_refused) -> None:
    server = await serve()
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(128))
    await expect_refused(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n" + fields + b"\r\n", 431)


async def test_128_headers_are_served(serve, raw_connect) -> None:
    server = await serve()
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(127))
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n" + fields + b"\r\n")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")


async def test_head_too_large(serve, expect_refused) -> None:
    server = await serve(max_head_size=16 * 1024)
    fields = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 1000) for i in range(20))
    await expect_refused(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n" + fields + b"\r\n", 431)


async def test_bare_lf_line_endings(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET / HTTP/1.1\nHost: t\n\n")


async def test_bare_lf_after_header(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET / HTTP/1.1\r\nHost: t\nX-A: b\r\n\r\n")


async def test_nul_in_url(serve, expect_refused) -> None:
    server = await serve()
    await expect_refused(server.port, b"GET /a\x00b HTTP/1.1\r\nHost: t\r\n\r\n")


async def test_missing_host(serve, expect_refused) -> None:
    server = await serve()
    body = await expect_refused(server.port, b"GET / HTTP/1.1\r\n\r\n")
    assert b"Host" in body


async def test_duplicate_host(serve, expect_refused) -> None:
    server = await serve()
    body = await expect_refused(server.port, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert b"Host" in body


async def test_http_2_request_line(serve, raw_connect, still_serves) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n")
    status, headers, body = await conn.read_response()
    assert status == b"HTTP/1.1 505 HTTP Version Not Supported"
    assert headers["connection"] == "close"
    assert body.startswith(b"505 ")
    assert await conn.is_closed()
    await still_serves(server.port)


async def test_http2_preface(serve, raw_connect, still_serves) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    status, headers, _ = await conn.read_response()
    assert status[:10] in (b"HTTP/1.1 4", b"HTTP/1.1 5")
    assert headers["connection"] == "close"
    assert await conn.is_closed()
    await still_serves(server.port)


async def test_bad_request_split_across_writes(serve, raw_connect, still_serves) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\nX-A")
    await conn.send(b" : b\r\n\r\n")
    status, headers, _ = await conn.read_response()
    assert status == b"HTTP/1.1 400 Bad Request"
    assert headers["connection"] == "close"
    assert await conn.is_closed()
    await still_serves(server.port)


async def test_pipelined_good_requests_answered_before_the_error(serve, raw_connect) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    data = (
        b"GET /fast/1 HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET /slow/2 HTTP/1.1\r\nHost: t\r\n\r\n"
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
        b"GET /fast/4 HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost : t\r\n\r\n"  # bad
        b"GET /fast/6 HTTP/1.1\r\nHost: t\r\n\r\n"  # after the error: never answered
    )
    await conn.send(data)
    bodies = []
    for _ in range(4):
        status, headers, body = await conn.read_response()
        assert status == b"HTTP/1.1 200 OK"
        bodies.append(body)
    assert bodies == [b"fast 1", b"slow 2", b"hello", b"fast 4"]
    status, headers, body = await conn.read_response()
    assert status == b"HTTP/1.1 400 Bad Request"
    assert headers["connection"] == "close"
    assert await conn.is_closed()


async def test_error_arriving_while_handler_runs(serve, raw_connect) -> None:
    """The bad request comes in a later write, while a slow handler is busy."""
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(b"GET /slow/1 HTTP/1.1\r\nHost: t\r\n\r\n")
    await conn.send(b"GET /\x00 HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"slow 1")
    status, _, _ = await conn.read_response()
    assert status == b"HTTP/1.1 400 Bad Request"
    assert await conn.is_closed()


async def test_unterminated_huge_header_line(serve, raw_connect, still_serves) -> None:
    """A header line that never ends is refused once the head passes its bound, without
    waiting for the line end."""
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\nX-Long: ")
    try:
        for _ in range(16):
            await conn.send(b"a" * 65536)
    except ConnectionError:
        pass
    status, headers, _ = await conn.read_response()
    assert status.startswith(b"HTTP/1.1 431 "), status
    assert headers["connection"] == "close"
    assert await conn.is_closed()
    await still_serves(server.port)


async def test_endless_trailer_section_is_cut_off(serve, raw_connect, still_serves) -> None:
    """Trailer fields are bounded like header fields: a flood of them is refused, not
    collected (16 MiB of trailers would otherwise all be kept in memory)."""
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
    )
    lines = b"X-Trailer: " + b"v" * 100 + b"\r\n"
    lines *= 512

    async def flood() -> None:
        try:
            for _ in range(16 * 1024 * 1024 // len(lines)):
                await conn.send(lines)
            await conn.send(b"\r\n")
        except ConnectionError:
            pass

    sender = asyncio.create_task(flood())
    status, headers, _ = await conn.read_response(timeout=20.0)
    await sender
    assert status[:10] == b"HTTP/1.1 4", status
    assert headers["connection"] == "close"
    await still_serves(server.port)


async def test_unterminated_huge_trailer_line(serve, raw_connect, still_serves) -> None:
    """A trailer line that never ends is refused once it passes the field limit,
    without waiting for its end (or buffering it without bound)."""
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\nX-Long: "
    )
    try:
        for _ in range(16):
            await conn.send(b"a" * 65536)
    except ConnectionError:
        pass
    status, headers, _ = await conn.read_response(timeout=3.0)
    assert status[:10] == b"HTTP/1.1 4", status
    assert headers["connection"] == "close"
    assert await conn.is_closed()
    await still_serves(server.port)


async def test_chunked_trailers_do_not_become_headers(squall_server, raw_connect) -> None:
    """RFC 9110 6.5.1: trailer fields are not merged into the header section; a
    trailer must not be able to add a header the handler then trusts."""

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text=request.headers.get("X-Role", "none"))

    app = web.Application()
    app.router.add_post("/", handler)
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\nX-Role: admin\r\n\r\n"
    )
    status, _, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert body == b"none"
