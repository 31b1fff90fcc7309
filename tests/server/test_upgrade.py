"""The upgrade hand-off: after a 101, another protocol owns the connection."""

from __future__ import annotations

import asyncio

from squall import web


class Echo(asyncio.Protocol):
    """A toy protocol: answers every chunk with "echo:" and the chunk."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(b"echo:" + data)  # type: ignore[attr-defined]


async def switch(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(status=101, headers={"Connection": "Upgrade", "Upgrade": "echo"})
    await resp.prepare(request)
    request.protocol.hand_over(Echo())
    return resp


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/switch", switch)
    app.router.add_get("/", ok)
    return app


UPGRADE = b"GET /switch HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"


async def test_protocol_takes_over_after_101(serve, raw_connect, still_serves) -> None:
    server = await serve(make_app())
    conn = await raw_connect(server.port)
    await conn.send(UPGRADE + b"early bytes")
    head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Connection: Upgrade\r\n" in head
    assert b"Upgrade: echo\r\n" in head
    assert b"Content-Length" not in head and b"Transfer-Encoding" not in head
    # the bytes that followed the head in the same write reach the new protocol
    assert await asyncio.wait_for(conn.reader.readexactly(16), 5) == b"echo:early bytes"
    await conn.send(b"later")
    assert await asyncio.wait_for(conn.reader.readexactly(10), 5) == b"echo:later"
    await still_serves(server.port)


async def test_hand_over_refused_outside_an_upgrade(serve, raw_connect) -> None:
    async def bad(request: web.Request) -> web.Response:
        try:
            request.protocol.hand_over(Echo())
        except RuntimeError as exc:
            return web.Response(text=f"refused: {exc}")
        return web.Response(text="taken")

    app = web.Application()
    app.router.add_get("/bad", bad)
    server = await serve(app)
    conn = await raw_connect(server.port)
    await conn.send(b"GET /bad HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = await conn.read_response()
    assert status == b"HTTP/1.1 200 OK"
    assert body.startswith(b"refused: ")
