"""Graceful shutdown: running requests finish within shutdown_timeout, then are cancelled."""

from __future__ import annotations

import asyncio

from squall import web
from squall.testing import TestServer


async def test_handler_outliving_shutdown_timeout_is_cancelled(raw_connect) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def forever(request: web.Request) -> web.Response:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return web.Response(text="never")

    app = web.Application()
    app.router.add_get("/forever", forever)
    server = TestServer(app)
    await server.start_server(shutdown_timeout=0.2)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /forever HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(server.close(), 5)
    await asyncio.wait_for(cancelled.wait(), 5)
    assert await conn.is_closed()


async def test_running_request_finishes_during_shutdown(raw_connect) -> None:
    release = asyncio.Event()
    started = asyncio.Event()
    shutting_down = asyncio.Event()

    async def on_shutdown(app: web.Application) -> None:
        shutting_down.set()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        return web.Response(text="finished")

    app = web.Application()
    app.router.add_get("/slow", slow)
    app.on_shutdown.append(on_shutdown)
    server = TestServer(app)
    await server.start_server(shutdown_timeout=5.0)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.wait_for(started.wait(), 5)
    closing = asyncio.ensure_future(server.close())
    await asyncio.wait_for(shutting_down.wait(), 5)  # shutdown began; the handler still runs
    release.set()
    status, headers, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"finished")
    assert headers["connection"] == "close"
    await asyncio.wait_for(closing, 5)
