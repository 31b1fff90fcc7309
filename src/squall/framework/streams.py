"""``request.content``: aiohttp's StreamReader reading API over a body source."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from squall.framework.decoded_body import DecodedBody
from squall.framework.exceptions import HTTPBadRequest
from squall.typedefs import BodySource

DEFAULT_LIMIT = 2**18  # aiohttp 3.14's read_bufsize (its DEFAULT_CHUNK_SIZE)


class EofStream(Exception):
    """Raised by ``readany``-style helpers at the end of the stream (aiohttp name)."""


class StreamReader:
    """Reads the request body as it arrives; nothing is buffered ahead of need.

    ``limit`` is what ``get_read_buffer_limits()`` reports (aiohttp's
    ``read_bufsize``); Squall's server bounds its own buffers whatever it says.
    """

    def __init__(self, source: BodySource, limit: int = DEFAULT_LIMIT) -> None:
        self._source = source
        self._pending = b""
        self._low_water = limit

    def get_read_buffer_limits(self) -> tuple[int, int]:
        """``(low, high)`` water marks, as aiohttp's: ``read_bufsize`` and twice it."""
        return self._low_water, 2 * self._low_water

    def set_read_chunk_size(self, n: int) -> None:
        """Raise the limits to a consumer's chunk size (as aiohttp)."""
        self._low_water = max(self._low_water, n)

    def exception(self) -> BaseException | None:
        """None: a failed read raises its error where it happens."""
        return None

    @property
    def total_bytes(self) -> int:
        """Body bytes received so far, decompressed when the body is coded."""
        return self._source.received

    @property
    def total_compressed_bytes(self) -> int | None:
        """Bytes received as sent when the body has a Content-Encoding, else None."""
        source = self._source
        return source.raw_received if isinstance(source, DecodedBody) else None

    @property
    def total_raw_bytes(self) -> int:
        """Bytes received as sent (compressed or not)."""
        compressed = self.total_compressed_bytes
        return self.total_bytes if compressed is None else compressed

    def at_eof(self) -> bool:
        return not self._pending and self._source.at_eof()

    def is_eof(self) -> bool:
        return self.at_eof()

    def unread_data(self, data: bytes) -> None:
        self._pending = data + self._pending

    async def _next(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        return await self._source.readany()

    async def readany(self) -> bytes:
        """Return the next available bytes; b"" at the end."""
        return await self._next()

    async def read(self, n: int = -1) -> bytes:
        """Return up to ``n`` bytes, or everything left when ``n`` is -1."""
        if n < 0:
            parts = [self._pending] if self._pending else []
            self._pending = b""
            while chunk := await self._source.readany():
                parts.append(chunk)
            return b"".join(parts)
        if n == 0:
            return b""
        data = await self._next()
        if len(data) > n:
            self._pending = data[n:]
            data = data[:n]
        return data

    async def readexactly(self, n: int) -> bytes:
        """Return exactly ``n`` bytes or raise ``asyncio.IncompleteReadError``."""
        parts: list[bytes] = []
        left = n
        while left:
            data = await self.read(left)
            if not data:
                raise asyncio.IncompleteReadError(b"".join(parts), n)
            parts.append(data)
            left -= len(data)
        return b"".join(parts)

    async def readuntil(self, separator: bytes = b"\n", *, limit: int = 2**19) -> bytes:
        """Return bytes up to and including ``separator`` (or up to the end).

        SECURITY: a line longer than ``limit`` bytes is refused (400), as aiohttp
        refuses it, rather than buffered without bound.
        """
        buf = bytearray()
        start = 0
        while True:
            idx = buf.find(separator, start)
            if idx >= 0:
                end = idx + len(separator)
                self._pending = bytes(buf[end:]) + self._pending
                return bytes(buf[:end])
            if len(buf) > limit:
                raise HTTPBadRequest(text=f"Got more than {limit} bytes when reading a line")
            start = max(0, len(buf) - len(separator) + 1)
            data = await self._next()
            if not data:
                return bytes(buf)
            buf += data

    async def readline(self) -> bytes:
        return await self.readuntil(b"\n")

    async def readchunk(self) -> tuple[bytes, bool]:
        """Return ``(data, end_of_http_chunk)``; ``(b"", False)`` at the end."""
        data = await self._next()
        return data, False

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        while data := await self.read(n):
            yield data

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        """``(data, end_of_http_chunk)`` until the end; the flag is always False
        (Squall does not report where the client's chunks ended)."""
        while data := await self._next():
            yield data, False

    async def iter_any(self) -> AsyncIterator[bytes]:
        while data := await self._next():
            yield data

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter_lines()

    async def _iter_lines(self) -> AsyncIterator[bytes]:
        while line := await self.readline():
            yield line
