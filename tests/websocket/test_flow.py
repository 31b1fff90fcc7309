"""Flow control under stress, on a real socket: a flood of empty messages, several
tasks sending to a slow reader, and closing on a peer that never reads.

Bounds are checked on the server's own counters (queued messages, waiters, the
transport's buffer), never by timing; the polls below are hang guards only.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from squall.framework import websocket as squall_ws
from squall.framework.websocket import WebSocketResponse
from tests.websocket.conftest import SQUALL, TIMEOUT, frame, one_route, serve


async def until(condition: Callable[[], bool]) -> None:
    """Wait for a state of the server (a hang guard, not a measure)."""
    for _ in range(int(TIMEOUT * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never got there")


def small_buffer(extra: Any, option: int) -> None:
    """Fix a socket's kernel buffer at 64 KiB (no autotuning to megabytes), so a
    peer that does not read blocks the sender after a few messages."""
    extra.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, option, 64 * 1024)


async def test_a_flood_of_empty_messages_is_held_back(stack: Any, raw_ws: Any) -> None:
    """Empty messages count too: reading pauses at a bounded queue and stays paused
    while the handler takes one message at a time (it resumed after each one, so the
    queue grew without bound). Both servers deliver every message."""
    count = 60_000
    go_on = asyncio.Event()
    holder: list[Any] = []
    checks: list[Any] = []

    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse()
        await ws.prepare(request)
        holder.append(ws)
        await go_on.wait()
        conn = getattr(ws, "_conn", None)
        got = 0
        for _ in range(count):
            msg = await ws.receive()
            assert msg.type.name == "BINARY" and msg.data == b""
            got += 1
            if got == 1 and isinstance(conn, squall_ws.WSConnection):
                checks.append((conn.read_paused, conn.queued, len(conn.queue)))
        await ws.send_str(f"{got}")
        await ws.close()
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        conn = await raw_ws(port)
        conn.send(frame(2, b"") * count)
        if stack.name == "squall":
            await until(lambda: bool(holder) and holder[0]._conn.read_paused)
            server = holder[0]._conn
            queued = len(server.queue)
            # the queue's count is in one unit, the messages' cost, and it is bounded:
            # the limit's worth of empty messages plus what one read brought
            assert server.queued == queued * squall_ws._MSG_COST
            assert queued <= squall_ws._READ_LIMIT // squall_ws._MSG_COST + 256 * 1024 // 6
            assert queued < count
        go_on.set()
        assert await conn.read_frame() == (0x81, str(count).encode())
        assert await conn.read_frame() == (0x88, b"\x03\xe8")
        conn.send(frame(8, b"\x03\xe8"))
        assert await conn.read_rest() == b""
    if stack.name == "squall":
        # one message taken: still paused, its cost (and only it) off the count
        assert checks == [(True, (queued - 1) * squall_ws._MSG_COST, queued - 1)]


async def test_several_senders_to_a_slow_reader_all_finish(stack: Any, raw_ws: Any) -> None:
    """Three tasks block on one slow client; every one of them is woken when it
    reads (only the last waiter was: the others hung for ever)."""
    big = 256 * 1024
    started: list[int] = []
    holder: list[Any] = []

    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse()
        await ws.prepare(request)
        small_buffer(ws, socket.SO_SNDBUF)
        holder.append(ws)

        async def sender(i: int) -> None:
            for _ in range(8):
                await ws.send_bytes(bytes([i]) * big)
                started.append(i)

        await asyncio.wait_for(asyncio.gather(*(sender(i) for i in range(3))), TIMEOUT)
        await ws.send_str("all sent")
        await ws.close()
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        conn = await raw_ws(port)
        small_buffer(conn.writer, socket.SO_RCVBUF)
        if stack.name == "squall":  # all three wait at once before the client reads a byte
            await until(lambda: bool(holder) and len(holder[0]._conn.drain_waiters) == 3)
        counts = [0, 0, 0]
        while True:
            b0, payload = await conn.read_frame()
            if b0 == 0x81:
                break
            assert payload == payload[:1] * big
            counts[payload[0]] += 1
        assert payload == b"all sent"
        assert counts == [8, 8, 8]
        assert await conn.read_frame() == (0x88, b"\x03\xe8")
        conn.send(frame(8, b"\x03\xe8"))
        assert await conn.read_rest() == b""


async def test_waiting_senders_all_fail_when_the_peer_goes(raw_ws: Any) -> None:
    """The connection's loss wakes every waiting sender with the connection error."""
    errors: list[BaseException] = []
    holder: list[WebSocketResponse] = []
    done = asyncio.Event()

    async def handler(request: Any) -> Any:
        ws = WebSocketResponse()
        await ws.prepare(request)
        small_buffer(ws, socket.SO_SNDBUF)
        holder.append(ws)

        async def sender() -> None:
            try:
                for _ in range(64):
                    await ws.send_bytes(b"x" * 256 * 1024)
            except ConnectionError as exc:
                errors.append(exc)

        await asyncio.wait_for(asyncio.gather(*(sender() for _ in range(3))), TIMEOUT)
        done.set()
        return ws

    async with serve(SQUALL.web, one_route(SQUALL, handler)) as port:
        conn = await raw_ws(port)
        small_buffer(conn.writer, socket.SO_RCVBUF)
        await until(lambda: bool(holder) and len(holder[0]._conn.drain_waiters) == 3)
        conn.writer.transport.abort()
        await asyncio.wait_for(done.wait(), TIMEOUT)
    assert [type(e).__name__ for e in errors] == ["ClientDisconnectedError"] * 3
    assert holder[0]._conn.drain_waiters == []


async def test_close_on_a_peer_that_never_reads_is_bounded(raw_ws: Any) -> None:
    """close() waits at most ``timeout`` for the peer to take the Close, then
    aborts the transport (it waited for ever; aiohttp does too)."""
    outcome: list[Any] = []

    async def handler(request: Any) -> Any:
        ws = WebSocketResponse(timeout=0.2)
        await ws.prepare(request)
        conn = ws._conn
        assert conn is not None and conn.transport is not None
        while not conn.write_paused:  # fill every buffer on the way
            ws._write_frame(2, b"x" * 256 * 1024)
        closed = await asyncio.wait_for(ws.close(), TIMEOUT)  # the hang guard
        outcome.append(
            (
                closed,
                ws.closed,
                ws.close_code,
                type(ws.exception()).__name__,
                conn.transport.is_closing(),
            )
        )
        return ws

    async with serve(SQUALL.web, one_route(SQUALL, handler)) as port:
        conn = await raw_ws(port)
        await until(lambda: bool(outcome))
        # aborted: the client gets a reset or an EOF without the Close frame
        rest = b""
        try:
            while chunk := await asyncio.wait_for(conn.reader.read(1 << 20), TIMEOUT):
                rest += chunk
        except ConnectionResetError:
            pass
        assert b"\x88\x02\x03\xe8" not in rest[-4:]
    assert outcome == [(True, True, 1006, "TimeoutError", True)]


async def test_heartbeat_on_a_peer_that_never_reads_frees_the_sender(raw_ws: Any) -> None:
    """A missed pong aborts the transport even with unsent bytes, so a sender
    waiting on the full buffer is woken (a plain close() waited for them to go)."""
    outcome: list[Any] = []

    async def handler(request: Any) -> Any:
        ws = WebSocketResponse(heartbeat=0.2)
        await ws.prepare(request)
        try:
            for _ in range(1000):
                await ws.send_bytes(b"x" * 256 * 1024)
        except ConnectionError as exc:
            outcome.append((type(exc).__name__, ws.close_code, type(ws.exception()).__name__))
        return ws

    async with serve(SQUALL.web, one_route(SQUALL, handler)) as port:
        await raw_ws(port)
        await until(lambda: bool(outcome))
    assert outcome == [("ClientDisconnectedError", 1006, "TimeoutError")]


async def test_the_test_client_holds_back_a_flood_of_empty_messages() -> None:
    """The test client's socket is the server's connection class: empty messages
    count there too (it counted wire bytes, 2 per empty frame, and reset only when
    the queue emptied), so reading pauses and every message still arrives."""
    from squall.testing import TestClient, TestServer

    count = 20_000
    sent = asyncio.Event()

    async def handler(request: Any) -> Any:
        ws = WebSocketResponse()
        await ws.prepare(request)
        for _ in range(count):
            await ws.send_bytes(b"")
        sent.set()
        await ws.receive()
        return ws

    async with TestClient(TestServer(one_route(SQUALL, handler))) as client:
        ws = await client.ws_connect("/ws")
        conn = ws._conn
        await asyncio.wait_for(sent.wait(), TIMEOUT)
        await until(lambda: conn.read_paused or len(conn.queue) == count)
        queued = len(conn.queue)
        assert conn.read_paused
        assert conn.queued == queued * squall_ws._MSG_COST
        assert queued < count
        for _ in range(count):
            msg = await asyncio.wait_for(ws.receive(), TIMEOUT)
            assert (msg.type, msg.data) == (SQUALL.WSMsgType.BINARY, b"")
        assert not conn.read_paused
        await ws.close()
