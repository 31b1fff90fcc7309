"""``StreamReader``: a response body as it arrives, read the way aiohttp's ``resp.content`` is.

Invariants:
- One producer (the client's pump task) calls ``_feed``, ``_feed_eof`` or
  ``_set_exception``; any number of awaits on the reading side take bytes out in order.
- The buffer never holds much more than ``high_water`` bytes: ``_feed`` waits for
  the reader to make room, so an endless body (a server-sent event stream) costs
  bounded memory and a test can read its first event and stop.
- After EOF every read returns what is left and then ``b""``; after an error every
  read that would wait raises it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable


class StreamReader:
    """The body of a client response: ``read(n)``, ``readline()``, ``iter_chunked(n)``…"""

    def __init__(self, high_water: int = 2**20) -> None:
        self._buffer = bytearray()
        self._high_water = high_water
        self._eof = False
        self._exception: BaseException | None = None
        self._changed = asyncio.Event()  # data, EOF or an error arrived
        self._drained = asyncio.Event()  # the reader took bytes out
        self.total_bytes = 0

    # the producer side (the client's pump)

    async def _feed(self, data: bytes) -> None:
        if not data:
            return
        self._buffer += data
        self.total_bytes += len(data)
        self._changed.set()
        while len(self._buffer) > self._high_water and self._exception is None:
            self._drained.clear()
            await self._drained.wait()

    def _feed_eof(self) -> None:
        self._eof = True
        self._changed.set()

    def _set_exception(self, exc: BaseException) -> None:
        if self._exception is None and not self._eof:
            self._exception = exc
        self._changed.set()
        self._drained.set()

    # the reading side

    def exception(self) -> BaseException | None:
        return self._exception

    def is_eof(self) -> bool:
        """Whether the whole body has arrived (some of it may still be unread)."""
        return self._eof

    def at_eof(self) -> bool:
        """Whether the whole body has arrived and been read."""
        return self._eof and not self._buffer

    async def wait_eof(self) -> None:
        while not self._eof and self._exception is None:
            await self._wait()

    async def _wait(self) -> None:
        if self._exception is not None:
            raise self._exception
        self._changed.clear()
        await self._changed.wait()
        if self._exception is not None and not self._buffer:
            raise self._exception

    def _take(self, n: int) -> bytes:
        if n < 0 or n >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(self._buffer[:n])
            del self._buffer[:n]
        self._drained.set()
        return data

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (waiting for at least one), or the whole rest when ``n < 0``."""
        if n == 0:
            return b""
        if n < 0:
            parts: list[bytes] = []
            while True:
                chunk = await self.readany()
                if not chunk:
                    return b"".join(parts)
                parts.append(chunk)
        while not self._buffer and not self._eof:
            await self._wait()
        return self._take(n)

    async def readany(self) -> bytes:
        """Whatever is buffered (at least one byte), or ``b""`` at the end."""
        return await self.read(len(self._buffer) or self._high_water)

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes; ``asyncio.IncompleteReadError`` if the body ends first."""
        while len(self._buffer) < n and not self._eof:
            await self._wait()
        if len(self._buffer) < n:
            partial = self._take(-1)
            raise asyncio.IncompleteReadError(partial, n)
        return self._take(n)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        """Bytes up to and including ``separator``, or the rest at the end of the body."""
        if not separator:
            raise ValueError("Separator should be at least one-byte string")
        start = 0
        while True:
            found = self._buffer.find(separator, start)
            if found >= 0:
                return self._take(found + len(separator))
            if self._eof:
                return self._take(-1)
            start = max(0, len(self._buffer) - len(separator) + 1)
            await self._wait()

    async def readline(self) -> bytes:
        return await self.readuntil(b"\n")

    def read_nowait(self, n: int = -1) -> bytes:
        """What is buffered now, without waiting."""
        if self._exception is not None:
            raise self._exception
        return self._take(n)

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Chunks of up to ``n`` bytes until the end."""
        return _iterate(lambda: self.read(n))

    def iter_any(self) -> AsyncIterator[bytes]:
        """Chunks as they arrive until the end."""
        return _iterate(self.readany)

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Lines, each with its ``\\n``."""
        return _iterate(self.readline)

    def __repr__(self) -> str:
        state = "eof" if self._eof else "open"
        return f"<StreamReader {len(self._buffer)} bytes buffered, {state}>"


async def _iterate(read: Callable[[], Awaitable[bytes]]) -> AsyncIterator[bytes]:
    while True:
        chunk = await read()
        if not chunk:
            return
        yield chunk
