"""Refusals beyond llhttp's: codings we do not implement, silent connections,
clients that vanish mid-request."""

from __future__ import annotations

import asyncio
import logging

import pytest

from squall import web


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"deflate,chunked", b"x-foo , chunked"])
async def test_unimplemented_transfer_coding_is_501(serve, expect_refused, coding) -> None:
    server = await serve()
    data = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: %b\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    body = await expect_refused(server.port, data % coding, status=501)
    assert body.startswith(b"501 Not Implemented")


async def test_silent_connection_gets_the_head_timeout(observe, raw_connect) -> None:
    """A connection that never sends a byte is dropped after head_timeout, even with a
    long keep-alive timeout (injected clock: see test_timeouts.py)."""
    srv = await observe(keepalive_timeout=600.0, head_timeout=30.0)
    before = srv.now()
    conn = await raw_connect(srv.port)
    observed = await srv.hub.connection()
    after = srv.now()
    observed.check_timeouts(before + 30.0 - 0.001)
    assert not observed.socket_closing
    observed.check_timeouts(after + 30.0 + 0.001)
    assert await conn.is_closed()


async def test_client_gone_mid_body_is_not_an_error(serve, raw_connect, caplog) -> None:
    """A client that disconnects while its body is read is logged quietly, not as an
    error with a traceback, and the server goes on."""
    got_error = asyncio.Event()

    async def reader(request: web.Request) -> web.Response:
        try:
            await request.read()
        except ConnectionError:
            got_error.set()
            raise
        return web.Response(text="read")

    app = web.Application()
    app.router.add_post("/read", reader)
    server = await serve(app)
    caplog.set_level(logging.DEBUG, logger="squall.server")
    conn = await raw_connect(server.port)
    await conn.send(b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
    conn.writer.transport.abort()
    await asyncio.wait_for(got_error.wait(), 5.0)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
