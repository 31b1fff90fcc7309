"""Shared test helpers: a raw-socket client for byte-exact HTTP exchanges."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest


class RawConnection:
    """A plain TCP connection to a test server, for bytes the polite clients won't send."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, host: str = "127.0.0.1") -> RawConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_response(self, timeout: float = 5.0) -> tuple[bytes, dict[str, str], bytes]:
        """Read one response framed by Content-Length (or to EOF); return
        (status line, headers lower-cased, body)."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].encode()
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await asyncio.wait_for(
                self.reader.readexactly(int(headers["content-length"])), timeout
            )
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size_line = await asyncio.wait_for(self.reader.readuntil(b"\r\n"), timeout)
                size = int(size_line.strip().split(b";")[0], 16)
                chunk = await asyncio.wait_for(self.reader.readexactly(size + 2), timeout)
                if size == 0:
                    break
                body += chunk[:-2]
        elif status.split(b" ")[1] in (b"204", b"304") or status.split(b" ")[1].startswith(b"1"):
            body = b""
        else:
            body = await asyncio.wait_for(self.reader.read(), timeout)
        return status, headers, body

    async def read_all(self, timeout: float = 5.0) -> bytes:
        """Everything until the server closes the connection."""
        return await asyncio.wait_for(self.reader.read(), timeout)

    async def is_closed(self, timeout: float = 5.0) -> bool:
        """True when the server closed its side (EOF) within ``timeout``."""
        try:
            data = await asyncio.wait_for(self.reader.read(), timeout)
        except ConnectionResetError:
            return True
        return data == b""

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
async def raw_connect():
    """``conn = await raw_connect(port)``: a RawConnection closed after the test."""
    conns: list[RawConnection] = []

    async def go(port: int) -> RawConnection:
        conn = await RawConnection.open(port)
        conns.append(conn)
        return conn

    yield go
    for conn in conns:
        conn.close()


@asynccontextmanager
async def run_app_on_a_port(app: Any, **kwargs: Any) -> AsyncIterator[tuple[Any, int]]:
    """``app`` behind a Squall AppRunner (``kwargs``: its settings) on 127.0.0.1:0;
    yields the runner and the port."""
    from squall.runner import AppRunner, TCPSite

    runner = AppRunner(app, **kwargs)
    await runner.setup()
    try:
        site = TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield runner, site.port
    finally:
        await runner.cleanup()
