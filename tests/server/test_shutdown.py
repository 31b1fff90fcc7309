"""Graceful shutdown: running requests finish within shutdown_timeout, then are cancelled."""

from __future__ import annotations

import asyncio

import pytest

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
    conn.close()  # the client hangs up after the answer: the server needs not linger
    await asyncio.wait_for(closing, 5)


async def test_shutdown_order_as_aiohttp(raw_connect) -> None:
    """Sites stop, idle connections close, then on_shutdown; handlers finish before
    on_cleanup. Each hook checks the step before it happened (a wrong order makes
    the hook time out or assert)."""
    steps: list[str] = []
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        steps.append("handler done")
        return web.Response(text="done")

    async def fast(request: web.Request) -> web.Response:
        return web.Response(text="fast")

    async def on_shutdown(app: web.Application) -> None:
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)
        assert await idle.is_closed(5)
        steps.append("on_shutdown")
        release.set()  # the handler in flight may finish now

    async def on_cleanup(app: web.Application) -> None:
        steps.append("on_cleanup")

    app = web.Application()
    app.router.add_get("/slow", slow)
    app.router.add_get("/fast", fast)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    server = TestServer(app)
    await server.start_server(shutdown_timeout=30.0)
    port = server.port
    idle = await raw_connect(port)
    await idle.send(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await idle.read_response())[2] == b"fast"
    busy = await raw_connect(port)
    await busy.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.wait_for(started.wait(), 5)
    closing = asyncio.ensure_future(server.close())
    status, headers, body = await busy.read_response()
    assert (status, body, headers["connection"]) == (b"HTTP/1.1 200 OK", b"done", "close")
    busy.close()
    await asyncio.wait_for(closing, 10)
    assert steps == ["on_shutdown", "handler done", "on_cleanup"]


async def test_cancelled_handler_unwinds_before_on_cleanup(raw_connect) -> None:
    steps: list[str] = []
    started = asyncio.Event()

    async def forever(request: web.Request) -> web.Response:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # a cleanup that itself awaits
            steps.append("handler unwound")
        return web.Response(text="never")

    async def on_cleanup(app: web.Application) -> None:
        steps.append("on_cleanup")

    app = web.Application()
    app.router.add_get("/", forever)
    app.on_cleanup.append(on_cleanup)
    server = TestServer(app)
    await server.start_server(shutdown_timeout=0.1)
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(server.close(), 5)
    assert steps == ["handler unwound", "on_cleanup"]
    assert await conn.is_closed()


async def test_a_lingering_connection_does_not_hold_up_cleanup(raw_connect) -> None:
    """After its last answer a connection lingers (input dropped so the answer is
    not lost to a reset); during a shutdown that no longer delays on_cleanup.
    lingering_time is set far above the hang guard, so waiting it out would fail."""
    release = asyncio.Event()
    started = asyncio.Event()
    cleaned = asyncio.Event()

    async def on_cleanup(app: web.Application) -> None:
        cleaned.set()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        return web.Response(text="finished")

    app = web.Application()
    app.router.add_get("/slow", slow)
    app.on_cleanup.append(on_cleanup)
    server = TestServer(app)
    await server.start_server(shutdown_timeout=60.0, lingering_time=120.0)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.wait_for(started.wait(), 5)
    closing = asyncio.ensure_future(server.close())
    await asyncio.sleep(0)
    release.set()
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"finished")
    # the client keeps its socket open: the server would linger for 120 s
    await asyncio.wait_for(closing, 10)
    assert cleaned.is_set()
    conn.close()


async def test_shutdown_waits_for_a_handler_whose_client_left(raw_connect) -> None:
    """handler_cancellation: the client leaves, the handler catches the cancel and
    finishes its work. The connection stays counted until then, so a shutdown waits
    for it before on_cleanup, as aiohttp (it was dropped from the set when the
    client left, and on_cleanup ran under the handler's feet)."""
    steps: list[str] = []
    started, cancelled, shutting_down = asyncio.Event(), asyncio.Event(), asyncio.Event()
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            await release.wait()  # work that must finish although the client left
            steps.append("handler done")
        return web.Response(text="late")

    async def on_shutdown(app: web.Application) -> None:
        shutting_down.set()

    async def on_cleanup(app: web.Application) -> None:
        steps.append("on_cleanup")

    app = web.Application()
    app.router.add_get("/", handler)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    server = TestServer(app)
    await server.start_server(shutdown_timeout=30.0, handler_cancellation=True)
    assert server.runner is not None and server.runner.server is not None
    connections = server.runner.server.connections
    conn = await raw_connect(server.port)
    await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.wait_for(started.wait(), 5)
    conn.close()
    await asyncio.wait_for(cancelled.wait(), 5)
    assert len(connections) == 1  # still running: still counted
    closing = asyncio.ensure_future(server.close())
    await asyncio.wait_for(shutting_down.wait(), 5)
    release.set()
    await asyncio.wait_for(closing, 10)
    assert steps == ["handler done", "on_cleanup"]
    assert len(connections) == 0
