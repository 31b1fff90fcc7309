"""A handler's own ConnectionError (a backend that refuses) is a logged 500, not a
client that went away."""

from __future__ import annotations

import asyncio
import logging

import pytest

from squall import web
from squall.testing import TestServer


@pytest.mark.parametrize("suspend", [False, True])
@pytest.mark.parametrize("error", [ConnectionRefusedError, BrokenPipeError, ConnectionResetError])
async def test_backend_connection_error_is_a_logged_500(
    raw_connect, caplog: pytest.LogCaptureFixture, suspend: bool, error: type[Exception]
) -> None:
    async def handler(request: web.Request) -> web.Response:
        if suspend:
            await asyncio.sleep(0)
        raise error("the database said no")

    app = web.Application()
    app.router.add_get("/", handler)
    server = TestServer(app)
    await server.start_server()
    try:
        caplog.set_level(logging.ERROR, logger="squall")
        conn = await raw_connect(server.port)
        await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\nAccept: text/html\r\n\r\n")
        status, _, body = await conn.read_response()
        assert status == b"HTTP/1.1 500 Internal Server Error"
        # the application's 500 (as for any handler error), not the server's last resort
        assert b"<h1>500 Internal Server Error</h1>" in body
        assert b"database" not in body
        logged = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
        assert logged and isinstance(logged[0].exc_info[1], error)  # type: ignore[index]
    finally:
        await server.close()
