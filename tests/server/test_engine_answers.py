"""The answers the engine writes by itself (400, 408, 414, 431, 500, 503, 505):
fields as aiohttp's with Date and Server (RFC 9110 6.6.1), a head alone for a
HEAD request (RFC 9110 9.3.2), and a request whose chunked body is already
known to be bad is refused without running its handler."""

from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime

import aiohttp.web
import pytest

from squall import web

LONG_TARGET = b"/" + b"a" * 9000
BIG_FIELD = b"X: " + b"b" * 9000 + b"\r\n"
REFUSED = {
    "400": b"GET / HTTP/1.1\r\nHost a\r\n\r\n",
    "414": b"GET " + LONG_TARGET + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    "431": b"GET / HTTP/1.1\r\nHost: a\r\n" + BIG_FIELD + b"\r\n",
    "505": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
}


def field_names(head: bytes) -> list[str]:
    return [line.split(b":", 1)[0].decode() for line in head.split(b"\r\n")[1:] if line]


async def exchange(raw_connect, port: int, data: bytes) -> tuple[bytes, bytes]:
    """Send ``data``; return (head, the rest) of everything until the server closes."""
    conn = await raw_connect(port)
    await conn.send(data)
    answer = await conn.read_all()
    head, _, rest = answer.partition(b"\r\n\r\n")
    return head, rest


def check_date_and_server(head: bytes) -> None:
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    parsedate_to_datetime(fields[b"Date"].decode())  # an IMF-fixdate
    assert fields[b"Server"].startswith(b"Python/")


@pytest.fixture
async def aiohttp_port():
    """aiohttp serving the same app, for its bytes."""

    async def ok(request: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.Response(text="ok")

    app = aiohttp.web.Application()
    app.router.add_get("/", ok)
    runner = aiohttp.web.AppRunner(app, access_log=None)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await runner.cleanup()


@pytest.mark.parametrize("case", list(REFUSED))
async def test_refusals_carry_date_and_server_in_aiohttps_order(
    serve, raw_connect, aiohttp_port, case: str
) -> None:
    """They had Content-Type, Content-Length and Connection only."""
    server = await serve()
    head, body = await exchange(raw_connect, server.port, REFUSED[case])
    assert head.startswith(b"HTTP/1.1 %s " % case.encode()), head
    check_date_and_server(head)
    theirs, _ = await exchange(raw_connect, aiohttp_port, REFUSED[case])
    assert field_names(theirs) == ["Content-Type", "Content-Length", "Date", "Server"]
    assert field_names(head) == [*field_names(theirs), "Connection"]
    assert body.startswith(case.encode())


async def test_503_at_max_connections_has_date(serve, raw_connect) -> None:
    server = await serve(max_connections=1)
    first = await raw_connect(server.port)
    await first.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert (await first.read_response())[2] == b"ok"  # it is counted by now
    head, body = await exchange(raw_connect, server.port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ")
    check_date_and_server(head)
    assert body.startswith(b"503")


async def test_408_has_date(observe, raw_connect) -> None:
    srv = await observe(head_timeout=30.0)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    await conn.send(b"GET / HTTP/1.1\r\nHo")
    await srv.hub.until(lambda: observed.received > 0)
    observed.check_timeouts(srv.now() + 31.0)
    answer = await conn.read_all()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    check_date_and_server(head)
    assert body.startswith(b"408")


async def answers_nothing(head, body, sink) -> None:
    """A bare ConnectionHandler that never answers: the engine's 500."""


@pytest.mark.parametrize(("method", "has_body"), [("GET", True), ("HEAD", False)])
async def test_engine_500_has_date_and_no_body_for_head(
    observe, raw_connect, method: str, has_body: bool
) -> None:
    srv = await observe(answers_nothing)
    head, body = await exchange(
        raw_connect, srv.port, b"%s / HTTP/1.1\r\nHost: a\r\n\r\n" % method.encode()
    )
    assert head.startswith(b"HTTP/1.1 500 ")
    check_date_and_server(head)
    assert b"Content-Length: 0" not in head
    assert (body != b"") is has_body


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"HEAD " + LONG_TARGET + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        (b"HEAD / HTTP/1.1\r\nHost: a\r\n" + BIG_FIELD + b"\r\n", 431),
        (b"HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (
            b"HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"ZZ\r\nhello\r\n0\r\n\r\n",
            400,
        ),
    ],
)
async def test_refusal_of_a_head_request_has_no_body(
    serve, raw_connect, still_serves, data: bytes, status: int
) -> None:
    """RFC 9110 9.3.2; aiohttp sends the body anyway (a client reading the answer as
    a HEAD's takes the text for the start of the next response)."""
    server = await serve()
    head, rest = await exchange(raw_connect, server.port, data)
    assert head.startswith(b"HTTP/1.1 %d " % status), head
    assert b"Content-Length: 0\r\n" not in head + b"\r\n"  # the length a GET would get
    assert rest == b""
    await still_serves(server.port)


async def test_a_get_after_a_head_gets_its_refusal_body(serve, raw_connect) -> None:
    """The refusal of a request after a HEAD one is not taken for a HEAD's."""
    server = await serve()
    head, rest = await exchange(
        raw_connect,
        server.port,
        b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET " + LONG_TARGET + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    )
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"HTTP/1.1 414 " in rest
    assert rest.endswith(b": Request-URI too long\n")  # the reason phrase is the interpreter's


# -- a chunked body known to be bad before its handler runs -----------------------


def noread_app(ran: list[str]) -> web.Application:
    async def noread(request: web.Request) -> web.Response:
        ran.append(request.path)
        return web.Response(text="handled")

    async def slow(request: web.Request) -> web.Response:
        ran.append(request.path)
        await asyncio.sleep(0)
        return web.Response(text="slow")

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", ok)
    app.router.add_post("/noread", noread)
    app.router.add_get("/slow", slow)
    return app


BAD_CHUNKED = (
    b"POST /noread HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"ZZ\r\nhello\r\n0\r\n\r\n"
)


async def test_bad_chunked_body_in_one_read_is_refused_before_the_handler(
    serve, expect_refused
) -> None:
    """As aiohttp: 400 and the handler never runs (it ran, and answered 200)."""
    ran: list[str] = []
    server = await serve(noread_app(ran))
    body = await expect_refused(server.port, BAD_CHUNKED, 400)
    assert b"chunk size" in body
    assert ran == []


async def test_bad_chunked_body_queued_behind_a_request(serve, raw_connect) -> None:
    """Pipelined behind a request that suspends: that one is answered, then the 400."""
    ran: list[str] = []
    server = await serve(noread_app(ran))
    conn = await raw_connect(server.port)
    await conn.send(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n" + BAD_CHUNKED)
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"slow")
    status, headers, body = await conn.read_response()
    assert status.startswith(b"HTTP/1.1 400 ")
    assert headers["connection"] == "close"
    assert await conn.is_closed()
    assert ran == ["/slow"]


async def test_bad_chunk_after_the_handler_started_reaches_it(serve, raw_connect) -> None:
    """The other case is unchanged: a handler already running gets the error from
    its body stream (and answers 400 when it reads)."""
    started = asyncio.Event()

    async def reads(request: web.Request) -> web.Response:
        started.set()
        await request.read()
        return web.Response(text="read")

    app = web.Application()
    app.router.add_post("/reads", reads)
    server = await serve(app)
    conn = await raw_connect(server.port)
    await conn.send(b"POST /reads HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
    await asyncio.wait_for(started.wait(), 5)
    await conn.send(b"ZZ\r\nhello\r\n0\r\n\r\n")
    status, _, _ = await conn.read_response()
    assert status.startswith(b"HTTP/1.1 400 ")
