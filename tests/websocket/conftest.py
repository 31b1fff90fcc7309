"""WebSocket tests: real servers on 127.0.0.1, real clients, hand-built frames.

``stack`` runs a test on Squall and on aiohttp (the reference); ``RawWS`` speaks the
protocol byte by byte for what the polite clients will not send.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web as aiohttp_web

from squall import web as squall_web
from squall.framework import websocket as squall_ws
from squall.websocket import WSCloseCode, WSMsgType

SQUALL = SimpleNamespace(
    name="squall",
    web=squall_web,
    WebSocketResponse=squall_ws.WebSocketResponse,
    WSMsgType=WSMsgType,
    WSCloseCode=WSCloseCode,
)
AIOHTTP = SimpleNamespace(
    name="aiohttp",
    web=aiohttp_web,
    WebSocketResponse=aiohttp_web.WebSocketResponse,
    WSMsgType=aiohttp.WSMsgType,
    WSCloseCode=aiohttp.WSCloseCode,
)
TIMEOUT = 10.0  # a hang guard only, never a measure


@pytest.fixture(params=[SQUALL, AIOHTTP], ids=["squall", "aiohttp"])
def stack(request: pytest.FixtureRequest) -> Any:
    """The stack under test; the aiohttp run checks the test's expectations."""
    return request.param


@asynccontextmanager
async def serve(web: Any, app: Any) -> AsyncIterator[int]:
    """Serve ``app`` with ``web.AppRunner`` on 127.0.0.1:0; yield the port."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()  # open WebSockets get their 1001 from the runner


def one_route(stack: Any, handler: Callable[..., Any], path: str = "/ws") -> Any:
    app = stack.web.Application()
    app.router.add_get(path, handler)
    return app


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    key: bytes = b"\x01\x02\x03\x04",
) -> bytes:
    """A frame built by hand; ``rsv`` is the three RSV bits (0-7)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126:
        head = bytes((b0, m | n))
    elif n < 65536:
        head = bytes((b0, m | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((b0, m | 127)) + n.to_bytes(8, "big")
    if not masked:
        return head + payload
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if n < 4096 else _xor(payload, key)
    return head + key + body


def _xor(data: bytes, key: bytes) -> bytes:
    n = len(data)
    keys = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(keys, "big")).to_bytes(n, "big")


def close_frame(code: int, reason: bytes = b"") -> bytes:
    """A server's (unmasked) close frame, as expected on the wire."""
    payload = code.to_bytes(2, "big") + reason
    return bytes((0x88, len(payload))) + payload


class RawWS:
    """A WebSocket client on a plain socket: the handshake, then raw bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.head = b""

    @classmethod
    async def open(cls, port: int, path: str = "/ws", headers: str = "") -> RawWS:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conn = cls(reader, writer)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\n{headers}\r\n"
            ).encode()
        )
        conn.head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert conn.head.startswith(b"HTTP/1.1 101 "), conn.head
        return conn

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def read_frame(self) -> tuple[int, bytes]:
        """(first byte, payload) of the server's next frame."""
        b0, b1 = await asyncio.wait_for(self.reader.readexactly(2), TIMEOUT)
        assert not b1 & 0x80, "a server's frames are never masked"
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(await self.reader.readexactly(2), "big")
        elif n == 127:
            n = int.from_bytes(await self.reader.readexactly(8), "big")
        return b0, await asyncio.wait_for(self.reader.readexactly(n), TIMEOUT)

    async def read_rest(self) -> bytes:
        """Every byte until the server closes the connection."""
        try:
            return await asyncio.wait_for(self.reader.read(), TIMEOUT)
        except ConnectionResetError:
            return b"<reset>"

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
async def raw_ws() -> AsyncIterator[Callable[..., Any]]:
    conns: list[RawWS] = []

    async def go(port: int, path: str = "/ws", headers: str = "") -> RawWS:
        conn = await RawWS.open(port, path, headers)
        conns.append(conn)
        return conn

    yield go
    for conn in conns:
        conn.close()
