"""Fixtures for the server-level tests: a small app served for real, and wire checks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from squall import web


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(body=body, content_type="application/octet-stream")


async def ignore(request: web.Request) -> web.Response:
    return web.Response(text="ignored")


async def fast(request: web.Request) -> web.Response:
    return web.Response(text="fast " + request.match_info["n"])


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0.01)
    return web.Response(text="slow " + request.match_info["n"])


def make_app(**app_kwargs: Any) -> web.Application:
    """GET / -> "ok", POST /echo -> the body, POST /ignore -> "ignored" (body unread),
    GET /fast/{n} -> "fast {n}" and GET /slow/{n} -> "slow {n}" after 10 ms."""
    app = web.Application(**app_kwargs)
    app.router.add_get("/", ok)
    app.router.add_post("/echo", echo)
    app.router.add_post("/ignore", ignore)
    app.router.add_get("/fast/{n}", fast)
    app.router.add_get("/slow/{n}", slow)
    return app


@pytest.fixture
async def serve(squall_server: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``server = await serve(app=None, **server_config)``; the default app is make_app()."""

    async def go(app: web.Application | None = None, **kwargs: Any) -> Any:
        return await squall_server(app if app is not None else make_app(), **kwargs)

    return go


@pytest.fixture
def still_serves(raw_connect: Callable[..., Any]) -> Callable[[int], Awaitable[None]]:
    """``await still_serves(port)``: a new connection gets a 200 for GET /."""

    async def go(port: int) -> None:
        conn = await raw_connect(port)
        await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        status, _, body = await conn.read_response()
        assert status == b"HTTP/1.1 200 OK"
        assert body == b"ok"
        conn.close()

    return go


@pytest.fixture
def expect_refused(
    raw_connect: Callable[..., Any], still_serves: Callable[[int], Awaitable[None]]
) -> Callable[..., Awaitable[bytes]]:
    """``body = await expect_refused(port, data, status)``: send ``data`` on a new
    connection; expect one plain-text error with ``Connection: close``, then EOF, and
    the server still answering a new connection. Returns the error's body."""

    async def go(port: int, data: bytes, status: int = 400) -> bytes:
        conn = await raw_connect(port)
        await conn.send(data)
        line, headers, body = await conn.read_response()
        assert line.startswith(b"HTTP/1.1 %d " % status), line
        assert headers["content-type"].startswith("text/plain")
        assert headers["connection"] == "close"
        assert int(headers["content-length"]) == len(body)
        assert body.startswith(b"%d" % status), body
        assert 0 < len(body) < 200
        assert b"Traceback" not in body
        assert await conn.is_closed()
        await still_serves(port)
        return body

    return go
