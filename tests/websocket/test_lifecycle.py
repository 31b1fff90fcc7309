"""Heartbeats, flow control both ways, shutdown, deflate over the wire, and a
failing handler: the connection's life on a real socket."""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import aiohttp
import pytest

from squall.framework.websocket import WebSocketResponse, close_websockets
from tests.websocket.conftest import SQUALL, TIMEOUT, close_frame, frame, one_route, serve


def heartbeat_app(stack: Any, seen: list[Any]) -> Any:
    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse(heartbeat=0.1)
        await ws.prepare(request)
        async for msg in ws:
            seen.append((msg.type.name, type(msg.data).__name__))
        seen.append(("state", ws.closed, ws.close_code, type(ws.exception()).__name__))
        return ws

    return one_route(stack, handler)


async def test_heartbeat_drops_a_silent_peer(stack: Any, raw_ws: Any) -> None:
    seen: list[Any] = []
    async with serve(stack.web, heartbeat_app(stack, seen)) as port:
        conn = await raw_ws(port)
        assert await conn.read_frame() == (0x89, b"")  # the heartbeat's ping
        assert await conn.read_rest() in (b"", b"<reset>")  # unanswered: dropped
    assert seen == [("ERROR", "TimeoutError"), ("state", True, 1006, "TimeoutError")]


async def test_heartbeat_keeps_a_peer_that_answers(stack: Any, raw_ws: Any) -> None:
    seen: list[Any] = []
    async with serve(stack.web, heartbeat_app(stack, seen)) as port:
        conn = await raw_ws(port)
        for _ in range(3):
            assert await conn.read_frame() == (0x89, b"")
            conn.send(frame(10, b""))
        conn.send(frame(1, b"still here") + frame(8, (1000).to_bytes(2, "big")))
        assert await conn.read_frame() == (0x88, (1000).to_bytes(2, "big"))
    assert seen == [("TEXT", "str"), ("state", True, 1000, "NoneType")]


async def test_send_waits_for_a_slow_reader(raw_ws: Any) -> None:
    """Back-pressure: the server's buffer never holds much more than one message."""
    sizes: list[int] = []
    big = b"\x07" * (256 * 1024)

    async def handler(request: Any) -> Any:
        ws = WebSocketResponse()
        await ws.prepare(request)
        transport = ws._conn.transport  # type: ignore[union-attr]
        for _ in range(64):  # 16 MiB in all
            await ws.send_bytes(big)
            sizes.append(transport.get_write_buffer_size())
        await ws.close()
        return ws

    async with serve(SQUALL.web, one_route(SQUALL, handler)) as port:
        conn = await raw_ws(port)
        received = 0
        while True:
            b0, payload = await conn.read_frame()
            if b0 == 0x88:
                break
            received += len(payload)
            if received == len(big):  # let the server fill every buffer first
                await asyncio.sleep(0)
        conn.send(frame(8, (1000).to_bytes(2, "big")))
    assert received == 64 * len(big)
    # the transport's high-water mark (64 KiB) plus the message that crossed it
    assert max(sizes) <= 64 * 1024 + len(big) + 10


async def test_reading_pauses_while_the_handler_does_not_read(raw_ws: Any) -> None:
    go_on = asyncio.Event()
    holder: list[WebSocketResponse] = []
    count = 2000

    async def handler(request: Any) -> Any:
        ws = WebSocketResponse()
        await ws.prepare(request)
        holder.append(ws)
        await go_on.wait()
        got = [await ws.receive_bytes() for _ in range(count)]
        await ws.send_str(f"{len(got)} {sum(map(len, got))}")
        await ws.close()
        return ws

    async with serve(SQUALL.web, one_route(SQUALL, handler)) as port:
        conn = await raw_ws(port)
        message = frame(2, b"m" * 4000)

        async def flood() -> None:
            for _ in range(count):
                conn.writer.write(message)
                await conn.writer.drain()

        flooding = asyncio.create_task(flood())
        for _ in range(int(TIMEOUT * 100)):  # a hang guard: wait for the state
            if holder and holder[0]._conn is not None and holder[0]._conn.read_paused:
                break
            await asyncio.sleep(0.01)
        ws_conn = holder[0]._conn
        assert ws_conn is not None and ws_conn.read_paused
        # 128 KiB of messages, plus at most one read of the socket
        assert ws_conn.queued <= 128 * 1024 + 256 * 1024
        assert not flooding.done()  # the client is held back by TCP, not by us buffering
        go_on.set()
        await asyncio.wait_for(flooding, TIMEOUT)
        assert await conn.read_frame() == (0x81, f"{count} {count * 4000}".encode())
        assert await conn.read_frame() == (0x88, b"\x03\xe8")
        conn.send(frame(8, b"\x03\xe8"))
        assert await conn.read_rest() == b""


async def test_close_websockets_sends_1001_and_waits(stack: Any) -> None:
    if stack.name != "squall":
        pytest.skip("aiohttp's runner has no such hook (its docs say: close them in on_shutdown)")
    seen: list[Any] = []
    sockets: list[Any] = []
    stuck_cancelled = asyncio.Event()
    opened = asyncio.Event()

    async def chat(request: Any) -> Any:
        ws = WebSocketResponse()
        await ws.prepare(request)
        opened.set()
        sockets.append(ws)
        async for msg in ws:
            seen.append(msg.data)
        # the loop ends when the closing began (CLOSING): the peer's code is known once
        # the close close_websockets started has finished (checked after it, below)
        return ws

    async def stuck(request: Any) -> Any:
        ws = WebSocketResponse()
        await ws.prepare(request)
        try:
            await asyncio.Event().wait()  # never reads, never returns
        finally:
            stuck_cancelled.set()
        return ws

    app = SQUALL.web.Application()
    app.router.add_get("/ws", chat)
    app.router.add_get("/stuck", stuck)
    runner = SQUALL.web.AppRunner(app)
    await runner.setup()
    site = SQUALL.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"http://127.0.0.1:{port}/ws")
            slow = await session.ws_connect(f"http://127.0.0.1:{port}/stuck", autoclose=False)
            await ws.send_str("hello")
            await asyncio.wait_for(opened.wait(), TIMEOUT)
            closing = asyncio.create_task(close_websockets(app, timeout=0.5))
            msg = await ws.receive(TIMEOUT)
            assert (msg.type, msg.data, msg.extra) == (
                aiohttp.WSMsgType.CLOSE,
                1001,
                "Server shutdown",
            )
            msg = await slow.receive(TIMEOUT)
            assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 1001)
            # the stuck peer never answers: after the bound it is dropped, its handler cancelled
            await asyncio.wait_for(closing, TIMEOUT)
            assert stuck_cancelled.is_set()
            assert sockets[0].close_code == 1000  # the client's answer to the 1001
            await ws.close()
            await slow.close()
    finally:
        await runner.cleanup()
    assert seen == ["hello"]


async def test_deflate_bomb_over_the_wire(stack: Any, raw_ws: Any) -> None:
    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str(f"{msg.type.name} {len(msg.data)}")
        return ws

    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    small = c.compress(b"a" * 1000) + c.flush(zlib.Z_SYNC_FLUSH)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = c.compress(b"\x00" * (32 << 20)) + c.flush(zlib.Z_SYNC_FLUSH)
    async with serve(stack.web, one_route(stack, handler)) as port:
        conn = await raw_ws(port, headers="Sec-WebSocket-Extensions: permessage-deflate\r\n")
        assert b"permessage-deflate" in conn.head
        conn.send(frame(1, small[:-4], rsv=4))
        b0, payload = await conn.read_frame()
        if b0 & 0x40:
            payload = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
        assert payload == b"TEXT 1000"
        conn.send(frame(2, bomb[:-4], rsv=4))
        assert await conn.reader.readexactly(4) == close_frame(1009)


async def test_failing_handler_closes_its_connection(stack: Any, raw_ws: Any) -> None:
    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse()
        await ws.prepare(request)
        if await ws.receive_str() == "fail":
            raise RuntimeError("handler bug")
        await ws.send_str("fine")
        await ws.close()
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        conn = await raw_ws(port)
        conn.send(frame(1, b"fail"))
        assert await conn.read_rest() in (b"", b"<reset>")
        conn = await raw_ws(port)  # the server goes on serving
        conn.send(frame(1, b"ok"))
        assert await conn.read_frame() == (0x81, b"fine")
        assert await conn.read_frame() == (0x88, b"\x03\xe8")
        conn.send(frame(8, b"\x03\xe8"))
        assert await conn.read_rest() == b""


async def test_runner_cleanup_closes_open_websockets_first() -> None:
    """Graceful shutdown: an open WebSocket gets 1001 from the runner, and its
    handler ends before on_cleanup runs."""
    from squall import web

    events: list[str] = []

    async def handler(request: web.Request) -> WebSocketResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        try:
            async for _ in ws:
                pass
        finally:
            events.append("handler done")
        return ws

    async def on_cleanup(app: web.Application) -> None:
        events.append("cleanup")

    app = web.Application()
    app.router.add_get("/ws", handler)
    app.on_cleanup.append(on_cleanup)
    runner = web.AppRunner(app, shutdown_timeout=10)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"http://127.0.0.1:{port}/ws")
        closing = asyncio.create_task(runner.cleanup())
        msg = await asyncio.wait_for(ws.receive(), 10)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert msg.data == 1001
        await ws.close()
        await asyncio.wait_for(closing, 10)
    assert events == ["handler done", "cleanup"]
