"""A broken request body met after the response began is the client's fault: the
connection is dropped, nothing is logged at ERROR (found by fuzz/fuzz_protocol.py)."""

from __future__ import annotations

import logging

import pytest

from squall import web
from squall.testing import TestServer


@pytest.mark.parametrize("suspend_first", [False, True])
async def test_malformed_body_after_prepare_is_not_an_error(
    raw_connect, caplog: pytest.LogCaptureFixture, suspend_first: bool
) -> None:
    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"started ")
        await request.read()
        await resp.write(b"never")
        return resp

    app = web.Application()
    app.router.add_post("/stream", stream)
    server = TestServer(app)
    await server.start_server()
    try:
        caplog.set_level(logging.DEBUG, logger="squall")
        conn = await raw_connect(server.port)
        head = b"POST /stream HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        if suspend_first:  # the handler is waiting for the body when the bad chunk comes
            await conn.send(head + b"1\r\nx\r\n")
            await conn.reader.readuntil(b"started ")
            await conn.send(b"zz\r\n")
        else:
            await conn.send(head + b"1\r\nx\r\nzz\r\n")
        data = await conn.read_all()
        assert b"never" not in data
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        await server.close()
