"""Control characters a handler puts into a response head never reach the wire:
the client gets a 500 and nothing of the bad head (aiohttp refuses them too)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from squall import web
from squall.testing import TestServer

BAD = ["\x00", "\x01", "\x0b", "\x7f", "\r\nX-Injected: 1"]


def make_app(where: str, bad: str, suspend: bool) -> web.Application:
    async def handler(request: web.Request) -> Any:
        if suspend:
            await asyncio.sleep(0)
        if where == "value":
            return web.Response(text="x", headers={"X-Echo": "a" + bad + "b"})
        if where == "name":
            return web.Response(text="x", headers={"X" + bad + "Echo": "ab"})
        if where == "reason":
            return web.Response(text="x", reason="O" + bad + "K")
        resp = web.StreamResponse(headers={"X-Echo": "a" + bad + "b"})
        await resp.prepare(request)
        await resp.write(b"never")
        return resp

    app = web.Application()
    app.router.add_get("/", handler)
    return app


@pytest.mark.parametrize("suspend", [False, True])
@pytest.mark.parametrize("where", ["value", "name", "reason", "stream"])
@pytest.mark.parametrize("bad", BAD, ids=repr)
async def test_control_characters_in_a_head_are_a_500(
    raw_connect, where: str, bad: str, suspend: bool
) -> None:
    server = TestServer(make_app(where, bad, suspend))
    await server.start_server()
    try:
        conn = await raw_connect(server.port)
        await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        data = await conn.read_all()
        assert data.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
        assert bad.encode() not in data
        assert b"Echo" not in data and b"never" not in data
    finally:
        await server.close()
