"""Slow clients are dropped: head_timeout (408), slowloris, body_timeout, idle connections.

The rules are driven with an injected clock: ``observe`` serves without a timeout
sweep, and a test calls ``conn.check_timeouts(now)`` on the live connection with
synthetic readings of the loop's clock, around the boundary of each rule. What a
reading must be is derived from ``loop.time()`` taken before and after the events
(a byte received, a response read), so nothing depends on how fast this machine
is. One test per sweep shows the real sweep fires on a real clock.

``between(a, b, limit)`` tells a rule's starting point from a wrong one: with ``a``
a reading taken after the one start and ``b`` a later reading taken before the
other, ``a + limit + (b - a) / 2`` is past the limit counted from the first and
within it counted from the second.
"""

from __future__ import annotations

import asyncio

from squall import web

LIMIT = 30.0  # each timeout under test: far past anything that happens in real time


async def read_body(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(text=f"read {len(body)}")


async def stream_body(request: web.Request) -> web.Response:
    size = 0
    while data := await request.content.read(65536):
        size += len(data)
    return web.Response(text=f"streamed {size}")


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", ok)
    app.router.add_post("/read", read_body)
    app.router.add_post("/stream", stream_body)
    return app


def between(a: float, b: float, limit: float) -> float:
    """A clock reading past ``limit`` after ``a`` but not after ``b``."""
    assert b > a
    return a + limit + (b - a) / 2


async def expect_timeout_response(conn, status: int, timeout: float = 10.0) -> None:
    line, headers, body = await conn.read_response(timeout=timeout)
    assert line.startswith(b"HTTP/1.1 %d " % status), line
    assert headers["connection"] == "close"
    assert headers["content-type"].startswith("text/plain")
    assert body.startswith(b"%d" % status)
    assert len(body) < 200
    assert await conn.is_closed()


async def send_and_wait(srv, observed, conn, data: bytes) -> None:
    """Send ``data`` and return once the server has taken it in."""
    target = observed.received + len(data)
    await conn.send(data)
    await srv.hub.until(lambda: observed.received >= target)


# -- head_timeout -----------------------------------------------------------------------


async def test_half_a_head_gets_408(observe, raw_connect, still_serves) -> None:
    srv = await observe(make_app(), head_timeout=LIMIT, keepalive_timeout=LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    before = srv.now()
    await send_and_wait(srv, observed, conn, b"GET / HTTP/1.1\r\nHo")
    after = srv.now()
    observed.check_timeouts(before + LIMIT - 0.001)
    assert not observed.socket_closing
    observed.check_timeouts(after + LIMIT + 0.001)
    await expect_timeout_response(conn, 408)
    await still_serves(srv.port)


async def test_half_a_request_line_gets_408(observe, raw_connect) -> None:
    """The head timer starts at the head's first byte, even inside the method."""
    srv = await observe(make_app(), head_timeout=LIMIT, keepalive_timeout=10 * LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    await send_and_wait(srv, observed, conn, b"GE")
    observed.check_timeouts(srv.now() + LIMIT + 0.001)
    await expect_timeout_response(conn, 408)


async def test_half_a_second_head_gets_408(observe, raw_connect) -> None:
    """After a served request, the next head's timer starts at its own first byte."""
    srv = await observe(make_app(), head_timeout=LIMIT, keepalive_timeout=10 * LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")
    served = srv.now()
    sending = srv.later(served)
    await send_and_wait(srv, observed, conn, b"GET / HTTP/1.1\r\n")
    second = srv.now()
    observed.check_timeouts(between(served, sending, LIMIT))
    assert not observed.socket_closing  # not counted from the first request
    observed.check_timeouts(second + LIMIT + 0.001)
    await expect_timeout_response(conn, 408)


async def test_slowloris_trickling_header_bytes(observe, raw_connect, still_serves) -> None:
    """Bytes that keep coming do not keep a head alive: the limit counts from the
    head's first byte, not from the last."""
    srv = await observe(make_app(), head_timeout=LIMIT, keepalive_timeout=10 * LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    await send_and_wait(srv, observed, conn, b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
    first = srv.now()
    for _ in range(4):
        await send_and_wait(srv, observed, conn, b"a")
    last = srv.later(srv.now())
    await send_and_wait(srv, observed, conn, b"a")
    observed.check_timeouts(between(first, last, LIMIT))
    await expect_timeout_response(conn, 408)
    await still_serves(srv.port)


async def test_slowloris_with_many_header_lines(observe, raw_connect) -> None:
    srv = await observe(make_app(), head_timeout=LIMIT, keepalive_timeout=10 * LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    await send_and_wait(srv, observed, conn, b"GET / HTTP/1.1\r\nHost: t\r\n")
    first = srv.now()
    for i in range(20):
        await send_and_wait(srv, observed, conn, b"X-%d: v\r\n" % i)
    last = srv.later(srv.now())
    await send_and_wait(srv, observed, conn, b"X-last: v\r\n")
    observed.check_timeouts(between(first, last, LIMIT))
    await expect_timeout_response(conn, 408)


async def test_head_timeout_from_the_real_sweep(serve, raw_connect, still_serves) -> None:
    """The server's own sweep applies the rule on the loop's clock."""
    server = await serve(make_app(), head_timeout=0.5)
    conn = await raw_connect(server.port)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await conn.send(b"GET / HTTP/1.1\r\nHo")
    await expect_timeout_response(conn, 408, timeout=20.0)
    assert loop.time() - start >= 0.5
    await still_serves(server.port)


async def test_head_timeout_does_not_cut_a_running_handler(observe, raw_connect) -> None:
    release, started = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        return web.Response(text="slow")

    app = web.Application()
    app.router.add_get("/slow", slow)
    srv = await observe(app, head_timeout=LIMIT, keepalive_timeout=LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    await conn.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.wait_for(started.wait(), 10)
    observed.check_timeouts(srv.now() + 100 * LIMIT)
    assert not observed.socket_closing
    release.set()
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"slow")


# -- body_timeout -----------------------------------------------------------------------


async def test_body_that_never_comes(observe, raw_connect, still_serves) -> None:
    srv = await observe(make_app(), body_timeout=LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    head = b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"
    before = srv.now()
    await send_and_wait(srv, observed, conn, head + b"0123456789")
    after = srv.now()
    observed.check_timeouts(before + LIMIT - 0.001)
    assert not observed.socket_closing
    observed.check_timeouts(after + LIMIT + 0.001)
    await expect_timeout_response(conn, 408)
    await still_serves(srv.port)


async def test_streamed_body_that_stops(observe, raw_connect, still_serves) -> None:
    srv = await observe(make_app(), body_timeout=LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    head = b"POST /stream HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    await send_and_wait(srv, observed, conn, head + b"a\r\n0123456789\r\n")
    observed.check_timeouts(srv.now() + LIMIT + 0.001)
    await expect_timeout_response(conn, 408)
    await still_serves(srv.port)


async def test_body_timeout_counts_silence_not_total_time(observe, raw_connect) -> None:
    srv = await observe(make_app(), body_timeout=LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    head = b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n"
    await send_and_wait(srv, observed, conn, head + b"01234")
    first = srv.now()
    last = srv.later(first)
    await send_and_wait(srv, observed, conn, b"567")
    observed.check_timeouts(between(first, last, LIMIT))
    assert not observed.socket_closing  # the last bytes restarted the timer
    await conn.send(b"89")
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"read 10")


async def test_slow_but_steady_body_from_the_real_sweep(serve, raw_connect) -> None:
    """On the loop's clock: a body that takes longer than body_timeout in all, with
    short silences, is read whole (the margin, 1.4 s of stall, holds on a busy box)."""
    server = await serve(make_app(), body_timeout=1.5)
    conn = await raw_connect(server.port)
    await conn.send(b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n\r\n")
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(20):
        await conn.send(b"%d" % (i % 10))
        await asyncio.sleep(0.1)  # pacing: the slow client, not synchronisation
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"read 20")
    assert loop.time() - start > 1.5


# -- idle connections ----------------------------------------------------------------------


async def test_empty_lines_do_not_keep_an_idle_connection(observe, raw_connect) -> None:
    """CRLFs before a request line may be skipped (RFC 9112 2.2), but they must not
    hold an idle connection open past keepalive_timeout."""
    srv = await observe(make_app(), keepalive_timeout=LIMIT, head_timeout=LIMIT)
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await conn.read_response())[2] == b"ok"
    served = srv.now()
    for _ in range(4):
        await send_and_wait(srv, observed, conn, b"\r\n")
    last = srv.later(srv.now())
    await send_and_wait(srv, observed, conn, b"\r\n")
    observed.check_timeouts(between(served, last, LIMIT))
    data = await conn.read_all()
    assert data == b"" or data.startswith(b"HTTP/1.1 408 "), data
