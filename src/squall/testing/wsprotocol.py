"""``WSClientProtocol``: the test client's WebSocket socket, bytes to queued messages.

It first collects the answer's head for the handshake (``squall.testing.handshake``);
after ``start(reader)`` every read goes to ``squall.websocket``'s ``FrameReader`` and the
messages wait in a queue for ``ClientWebSocketResponse.receive()``.

Invariants:
1. Bytes that arrive after the head and before ``start()`` are kept and parsed first.
2. A protocol error is kept and raised after the messages parsed before it.
3. Flow control: past ``_READ_LIMIT`` queued bytes the socket is not read until the
   test takes messages out; ``drain()`` waits while the transport's buffer is over its
   high-water mark.
"""

from __future__ import annotations

import asyncio
from collections import deque

from squall.testing.errors import ClientConnectionResetError, ServerDisconnectedError
from squall.websocket import FrameReader, WebSocketError, WSMessage

__all__ = ("WSClientProtocol",)

_READ_LIMIT = 128 * 1024  # queued bytes past which reading pauses (as the server side)


class PeerGone(Exception):
    """The connection ended (EOF or reset) without a closing handshake."""


class WSClientProtocol(asyncio.Protocol):
    """The socket: the answer's head first, then bytes to queued messages."""

    def __init__(self, loop: asyncio.AbstractEventLoop, head_limit: int = 65536) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.head: asyncio.Future[bytes] = loop.create_future()
        self._head_limit = head_limit
        self._buffer = b""  # the head so far; then what followed it, until start()
        self.reader: FrameReader | None = None
        self.queue: deque[WSMessage] = deque()
        self.queued = 0
        self.waiter: asyncio.Future[None] | None = None
        self.error: WebSocketError | None = None
        self.eof = False
        self.rx = 0  # reads so far: the heartbeat's sign of life
        self.read_paused = False
        self.write_paused = False
        self.drain_waiter: asyncio.Future[None] | None = None

    # -- asyncio.Protocol --------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.rx += 1
        if self.reader is not None:
            self._feed(data)
            return
        self._buffer += data
        if self.head.done():
            return  # bytes after the head, before start(): kept for the reader
        end = self._buffer.find(b"\r\n\r\n")
        if end >= 0:
            head, self._buffer = self._buffer[: end + 4], self._buffer[end + 4 :]
            self.head.set_result(head)
        elif len(self._buffer) > self._head_limit:
            self.head.set_exception(ServerDisconnectedError("Response head too long"))

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake()
        return None

    def connection_lost(self, exc: BaseException | None) -> None:
        self.eof = True
        if not self.head.done():
            self.head.set_exception(ServerDisconnectedError("Server disconnected"))
        self._wake()
        waiter = self.drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ClientConnectionResetError("Connection lost"))

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        waiter = self.drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- for the response --------------------------------------------------

    def start(self, reader: FrameReader) -> None:
        """The handshake is done: parse frames from now on (and what came early)."""
        self.reader = reader
        early, self._buffer = self._buffer, b""
        if early:
            self._feed(early)

    def _feed(self, data: bytes) -> None:
        assert self.reader is not None
        queue = self.queue
        before = len(queue)
        try:
            self.reader.feed(data, queue)  # type: ignore[arg-type]
        except WebSocketError as exc:
            self.error = exc  # after the messages before it (invariant 2)
            self._wake()
            return
        if len(queue) != before:
            self.queued += len(data)
            if self.queued > _READ_LIMIT and not self.read_paused and self.transport:
                self.read_paused = True  # invariant 3
                self.transport.pause_reading()
            self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def push(self, msg: WSMessage) -> None:
        """Hand ``receive()`` a message of our own (CLOSING, a heartbeat's ERROR)."""
        self.queue.append(msg)
        self._wake()

    async def next_message(self) -> WSMessage:
        """The next queued message, waiting for one; raise what ended the input."""
        queue = self.queue
        while not queue:
            if self.error is not None:
                raise self.error
            if self.eof:
                raise PeerGone
            waiter = self.loop.create_future()
            self.waiter = waiter
            try:
                await waiter
            finally:
                self.waiter = None
        msg = queue.popleft()
        if not queue:
            self.queued = 0
        if self.read_paused and self.queued <= _READ_LIMIT // 2 and self.transport:
            self.read_paused = False
            self.transport.resume_reading()
        return msg

    def write(self, data: bytes) -> None:
        transport = self.transport
        if self.eof or transport is None or transport.is_closing():
            raise ClientConnectionResetError("Cannot write to closing transport")
        transport.write(data)

    async def drain(self) -> None:
        """Wait while the transport's buffer is over its high-water mark."""
        if not self.write_paused:
            return
        waiter = self.loop.create_future()
        self.drain_waiter = waiter
        try:
            await waiter
        finally:
            self.drain_waiter = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
