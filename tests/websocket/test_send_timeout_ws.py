"""send_timeout covers WebSockets: a client that stops reading is dropped, and the
handler waiting in ``send_*`` gets a ConnectionResetError.

After the hand-over the HTTP connection no longer sweeps the transport, so a
handler sending to a client that reads nothing waited in ``send_bytes`` for ever
(aiohttp too, unless a heartbeat notices the missing pong). The client here has a
4 KiB receive buffer and never reads; the tests await what the server does
(bounded waits, no timing).
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from typing import Any

import pytest

from squall import web
from squall.framework.websocket import WebSocketResponse, WSConnection
from tests.conftest import run_app_on_a_port

TIMEOUT = 30.0  # hang guard only, never a measure
LIMIT = 0.5  # send_timeout under test
MESSAGE = b"x" * 65536


serve = run_app_on_a_port


async def open_ws(port: int, rcvbuf: int | None = None) -> tuple[Any, Any]:
    """A WebSocket client on a plain socket, after the 101 (``rcvbuf``: a small
    receive buffer, for a client that reads nothing)."""
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 101 "), head
    return reader, writer


def flooding_app(outcome: asyncio.Future[tuple[BaseException | None, int]], count: int) -> Any:
    """A handler sending ``count`` 64 KiB messages; it reports how that ended."""

    async def handler(request: web.Request) -> WebSocketResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        sent = 0
        try:
            while sent < count:
                await ws.send_bytes(MESSAGE)
                sent += 1
        except BaseException as exc:
            if not outcome.done():  # (a hang guard that ran out cancelled it)
                outcome.set_result((exc, sent))
            raise
        if not outcome.done():
            outcome.set_result((None, sent))
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    return app


async def test_client_that_never_reads_is_dropped() -> None:
    """The handler blocked in send_bytes gets ConnectionResetError after
    send_timeout and the connection is aborted (before: stuck for ever)."""
    outcome: asyncio.Future[tuple[BaseException | None, int]] = (
        asyncio.get_running_loop().create_future()
    )
    async with serve(flooding_app(outcome, 10_000), send_timeout=LIMIT) as (_, port):
        reader, writer = await open_ws(port, rcvbuf=4096)
        try:
            exc, sent = await asyncio.wait_for(outcome, TIMEOUT)
            assert isinstance(exc, ConnectionResetError), exc
            assert "Send timed out" in str(exc)
            assert sent < 10_000
            # the server ended the connection: reading it comes to an end
            try:
                while await asyncio.wait_for(reader.read(2**20), TIMEOUT):
                    pass
            except ConnectionResetError:
                pass
        finally:
            writer.transport.abort()


async def test_a_client_that_reads_is_not_cut() -> None:
    """A small send_timeout leaves a reading client alone: every message arrives."""
    count = 200  # 12.5 MiB: the server waits on the client many times
    outcome: asyncio.Future[tuple[BaseException | None, int]] = (
        asyncio.get_running_loop().create_future()
    )
    async with serve(flooding_app(outcome, count), send_timeout=LIMIT) as (_, port):
        reader, writer = await open_ws(port)
        try:
            for _ in range(count):
                b0, b1 = await asyncio.wait_for(reader.readexactly(2), TIMEOUT)
                assert (b0, b1 & 0x7F) == (0x82, 127)
                n = int.from_bytes(await reader.readexactly(8), "big")
                assert await asyncio.wait_for(reader.readexactly(n), TIMEOUT) == MESSAGE
            exc, sent = await asyncio.wait_for(outcome, TIMEOUT)
            assert exc is None and sent == count
            b0, _ = await asyncio.wait_for(reader.readexactly(2), TIMEOUT)
            assert b0 == 0x88  # then the close
        finally:
            writer.transport.abort()


async def test_a_slow_reader_is_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule, driven by hand on a live connection (as tests/server drives
    check_timeouts): a look that finds the buffer smaller than the last one starts
    the wait over; a look that finds it no smaller drops the client."""
    loop = asyncio.get_running_loop()
    blocked: asyncio.Future[WSConnection] = loop.create_future()
    outcome: asyncio.Future[tuple[BaseException | None, int]] = loop.create_future()
    real = WSConnection.drain

    async def spy(self: WSConnection) -> None:
        if not blocked.done():
            blocked.set_result(self)
        await real(self)

    monkeypatch.setattr(WSConnection, "drain", spy)

    async def handler(request: web.Request) -> WebSocketResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        try:
            await ws.send_bytes(b"y" * (16 * 2**20))  # one wait on the client
        except BaseException as exc:
            if not outcome.done():
                outcome.set_result((exc, 0))
            raise
        if not outcome.done():
            outcome.set_result((None, 1))
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    async with serve(app, send_timeout=1000.0) as (_, port):  # no look comes by itself
        reader, writer = await open_ws(port, rcvbuf=4096)
        try:
            conn = await asyncio.wait_for(blocked, TIMEOUT)
            transport = conn.transport
            assert transport is not None and conn.send_timer is not None
            size = conn.send_size
            while transport.get_write_buffer_size() >= size:
                await asyncio.wait_for(reader.read(65536), TIMEOUT)  # it reads a little
            writer.transport.pause_reading()
            conn.send_timer.cancel()
            conn._send_check()  # send_timeout later: the buffer shrank
            assert not transport.is_closing()
            assert conn.send_timer is not None  # waiting on
            conn.send_timer.cancel()
            conn._send_check()  # send_timeout later again: nothing moved
            exc, _ = await asyncio.wait_for(outcome, TIMEOUT)
            assert isinstance(exc, ConnectionResetError), exc
            assert transport.is_closing()
        finally:
            writer.transport.abort()
