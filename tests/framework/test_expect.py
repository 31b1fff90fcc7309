"""The ``Expect`` field (RFC 9110 10.1.1) and a route's ``expect_handler``.

As on aiohttp, the route's expect handler runs before the middlewares and the
handler: what it raises or returns answers the request, and the handler never
runs. Squall's default sends ``100 Continue`` only when the handler first reads
the body (docs/compat.md); an unknown expectation is a 417, as on aiohttp.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from squall import web

from ._wire import build, run_on, same

HEAD_ONLY = b"POST /%s HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"


def expect_app(web: Any, ran: list[str] | None = None) -> Any:
    """Routes whose expect handler refuses, allows, or answers by itself."""

    async def reject(request: Any) -> None:
        raise web.HTTPExpectationFailed(text="no uploads here")

    async def allow(request: Any) -> None:
        # aiohttp's documented custom expect handler: it sends the 100 itself
        request.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    async def silent(request: Any) -> None:
        return None  # takes charge of the expectation and invites nothing

    async def answer(request: Any) -> Any:
        return web.Response(status=401, text="login first")

    async def fast(request: Any) -> Any:
        return web.Response(text="fast")

    async def upload(request: Any) -> Any:
        if ran is not None:
            ran.append(request.path)
        data = await request.read()
        return web.Response(text=f"got {data.decode()}")

    app = web.Application()
    app.router.add_post("/reject", upload, expect_handler=reject)
    app.router.add_post("/allow", upload, expect_handler=allow)
    app.router.add_post("/silent", upload, expect_handler=silent)
    app.router.add_get("/fast", fast)
    app.router.add_post("/answer", upload, expect_handler=answer)
    app.router.add_post("/plain", upload)
    app.router.add_get("/get", upload)
    app.router.add_get("/{name}/expect", upload, expect_handler=reject)
    return app


# -- through a raw socket: what goes out before the body is sent -------------------------


async def test_refusing_expect_handler_answers_417_and_never_invites_the_body(
    squall_server, raw_connect
) -> None:
    ran: list[str] = []
    server = await squall_server(expect_app(web, ran))
    conn = await raw_connect(server.port)
    await conn.send(HEAD_ONLY % b"reject")  # the client waits for 100 before the body
    status, _, body = await conn.read_response()
    assert status == b"HTTP/1.1 417 Expectation Failed"  # not "100 Continue" first
    assert body == b"no uploads here"
    assert ran == []
    # the unread body can still come: the connection ends rather than read it as a request
    assert await conn.is_closed()


async def test_expect_handler_that_returns_none_lets_the_handler_read(
    squall_server, raw_connect
) -> None:
    server = await squall_server(expect_app(web))
    conn = await raw_connect(server.port)
    await conn.send(HEAD_ONLY % b"allow")
    status, _, _ = await conn.read_response()
    assert status == b"HTTP/1.1 100 Continue"  # the expect handler's own
    await conn.send(b"hello")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"got hello")  # no second 100 first


async def test_pipelined_expect_handler_write_comes_after_earlier_answers(
    squall_server, raw_connect
) -> None:
    """The expect handler's 100 (written to request.transport) never overtakes the
    answer to the request before it, and the server adds no 100 of its own."""
    server = await squall_server(expect_app(web))
    conn = await raw_connect(server.port)
    await conn.send(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n" + HEAD_ONLY % b"allow")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"fast")
    status, _, _ = await conn.read_response()
    assert status == b"HTTP/1.1 100 Continue"
    await conn.send(b"hello")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"got hello")


async def test_silent_expect_handler_means_no_100_from_the_server(
    squall_server, raw_connect
) -> None:
    """As on aiohttp, a route's own expect handler owns the 100: when it sends none,
    the client sends its body when it stops waiting and is answered."""
    server = await squall_server(expect_app(web))
    conn = await raw_connect(server.port)
    await conn.send(HEAD_ONLY % b"silent" + b"hello")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"got hello")


async def test_silent_expect_handler_same_as_aiohttp() -> None:
    reply = await same(expect_app, HEAD_ONLY % b"silent" + b"hello")
    assert reply.body == b"got hello"


async def test_http10_expect_gets_no_100(squall_server, raw_connect) -> None:
    """RFC 9110 10.1.1: a 1.0 request's 100-continue expectation is ignored, even
    while the handler waits for the body."""
    reading = asyncio.Event()

    async def upload(request: web.Request) -> web.Response:
        reading.set()
        return web.Response(text=f"got {(await request.read()).decode()}")

    app = web.Application()
    app.router.add_post("/plain", upload)
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(
        b"POST /plain HTTP/1.0\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    )
    await asyncio.wait_for(reading.wait(), 5)  # the handler is waiting in read() now
    await conn.send(b"hello")
    data = await conn.read_all()
    assert data.startswith(b"HTTP/1.0 200 OK\r\n"), data
    assert b"100 Continue" not in data
    assert data.endswith(b"got hello")


async def test_expect_handler_response_is_the_answer(squall_server, raw_connect) -> None:
    ran: list[str] = []
    server = await squall_server(expect_app(web, ran))
    conn = await raw_connect(server.port)
    await conn.send(HEAD_ONLY % b"answer")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 401 Unauthorized", b"login first")
    assert ran == []


async def test_expect_handler_runs_outside_the_middlewares(squall_server, raw_connect) -> None:
    seen: list[str] = []

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(request.path)
        return await handler(request)

    app = expect_app(web)
    app.middlewares.append(record)
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(HEAD_ONLY % b"reject")
    status, _, _ = await conn.read_response()
    assert status == b"HTTP/1.1 417 Expectation Failed"
    assert seen == []


async def test_match_info_expect_handler_is_the_routes(webmod: Any) -> None:
    """``request.match_info.expect_handler`` runs the route's expect handler, as on aiohttp."""
    seen: list[Any] = []

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            seen.append(await request.match_info.expect_handler(request))
            return web.Response(text="ok")

        async def reject(request: Any) -> None:
            raise web.HTTPExpectationFailed()

        app = web.Application()
        app.router.add_get("/custom", handler, expect_handler=reject)
        return app

    reply = await run_on(webmod, factory, build("GET", "/custom"))
    assert reply.status == 417  # called by the handler itself: the route's own refuses
    assert seen == []


# -- the same bytes on aiohttp and on Squall ------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        build("POST", "/reject", headers={"Expect": "100-continue"}, body=b"hello"),
        build("POST", "/allow", headers={"Expect": "100-continue"}, body=b"hello"),
        build("POST", "/answer", headers={"Expect": "100-continue"}, body=b"hello"),
        build("POST", "/reject", headers={"Expect": "weird"}, body=b"hello"),
        build("GET", "/x/expect", headers={"Expect": "100-continue"}),
        # an expectation nobody knows: 417 from the default handler, route or no route
        build("POST", "/plain", headers={"Expect": "something-else"}, body=b"hello"),
        build("GET", "/get", headers={"Expect": "something-else"}),
        build("GET", "/nowhere", headers={"Expect": "something-else"}),
        build("GET", "/get", headers={"Expect": "100-continue, x-other"}),
        # HTTP/1.0 knows no expectations: ignored
        build("GET", "/get", headers={"Expect": "something-else"}, version="1.0"),
    ],
    ids=[
        "refused",
        "allowed",
        "answered",
        "refused-unknown",
        "refused-get",
        "unknown-post",
        "unknown-get",
        "unknown-404",
        "list",
        "http10",
    ],
)
async def test_expect_same_as_aiohttp(data: bytes) -> None:
    await same(expect_app, data)


def test_expect_handler_must_be_a_coroutine_function() -> None:
    """Refused where the route is added (aiohttp asserts there), not at the first request."""

    async def upload(request: web.Request) -> web.Response:
        return web.Response()

    def not_async(request: web.Request) -> None:
        return None

    app = web.Application()
    with pytest.raises(TypeError, match="coroutine function"):
        app.router.add_post("/up", upload, expect_handler=not_async)


async def test_unknown_expect_that_is_not_utf8_is_a_417_not_a_500(raw_connect) -> None:
    # aiohttp answers this with a 500 (UnicodeEncodeError building the 417's text)
    reply = await run_on(web, expect_app, b"GET /get HTTP/1.1\r\nHost: t\r\nExpect: \xaf\r\n\r\n")
    assert reply.status == 417
    assert reply.body == "Unknown Expect: \ufffd".encode()


def app_aiohttp_style(web: Any) -> Any:
    """A custom expect handler as aiohttp's own default is written."""

    async def own(request: Any) -> None:
        if request.headers.get("Expect", "").lower() == "100-continue":
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.writer.output_size = 0

    async def upload(request: Any) -> Any:
        return web.Response(text=f"got {(await request.read()).decode()}")

    app = web.Application()
    app.router.add_post("/own", upload, expect_handler=own)
    app.router.add_post("/plain", upload)
    return app


async def test_expect_handler_writing_through_request_writer(raw_connect, squall_server) -> None:
    server = await squall_server(app_aiohttp_style(web))
    conn = await raw_connect(server.port)
    await conn.send(HEAD_ONLY % b"own")
    status, _, _ = await conn.read_response()
    assert status == b"HTTP/1.1 100 Continue"
    await conn.send(b"hello")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"got hello")


async def test_expect_handler_writing_through_request_writer_same_as_aiohttp() -> None:
    reply = await same(app_aiohttp_style, HEAD_ONLY % b"own" + b"hello")
    assert reply.status == 100  # first on both; the 200 after it is compared by same()


@pytest.mark.parametrize("value", [b"", b"   "])
async def test_empty_expect_expects_nothing_like_aiohttp(value: bytes) -> None:
    data = b"POST /plain HTTP/1.1\r\nHost: t\r\nExpect:" + value + b"\r\n"
    reply = await same(app_aiohttp_style, data + b"Content-Length: 5\r\n\r\nhello")
    assert (reply.status, reply.body) == (200, b"got hello")


async def test_first_of_two_expect_lines_counts(raw_connect, squall_server) -> None:
    """headers.get() reads the first line; the 100 decision reads the same one."""
    server = await squall_server(app_aiohttp_style(web))
    conn = await raw_connect(server.port)
    await conn.send(
        b"POST /plain HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nExpect: foo\r\n"
        b"Content-Length: 5\r\n\r\n"
    )
    status, _, _ = await conn.read_response()
    assert status == b"HTTP/1.1 100 Continue"
    await conn.send(b"hello")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"got hello")
