"""``WSClientProtocol``: the test client's WebSocket socket, bytes to queued messages.

It is the server's connection (``squall.framework.websocket.WSConnection``: the queue,
its flow control and flood accounting, the writing side) with the handshake's answer
read first: it collects the answer's head, and after ``start(reader)`` every read goes
to ``squall.websocket``'s ``FrameReader`` as on the server.

Invariants (beyond ``WSConnection``'s):
1. Bytes that arrive after the head and before ``start()`` are kept and parsed first.
2. Writing to or draining a gone connection raises ``ClientConnectionResetError``
   (aiohttp's client error), not the server's ``ClientDisconnectedError``.
"""

from __future__ import annotations

import asyncio

from squall.framework.websocket import PeerGone, WSConnection
from squall.testing.errors import ClientConnectionResetError, ServerDisconnectedError
from squall.websocket import FrameReader, WSMessage

__all__ = ("PeerGone", "WSClientProtocol")


class WSClientProtocol(WSConnection):
    """The socket: the answer's head first, then bytes to queued messages."""

    __slots__ = ("_buffer", "_head_limit", "head", "started")

    lost_error = ClientConnectionResetError

    def __init__(self, loop: asyncio.AbstractEventLoop, head_limit: int = 65536) -> None:
        # NOTE: the reader is chosen from the answer's head (permessage-deflate or
        # not); this one is replaced by start() before any byte reaches it
        super().__init__(FrameReader(), loop)
        self.head: asyncio.Future[bytes] = loop.create_future()
        self.started = False
        self._head_limit = head_limit
        self._buffer = b""  # the head so far; then what followed it, until start()

    def data_received(self, data: bytes) -> None:
        if self.started:
            super().data_received(data)
            return
        self.rx += 1
        self._buffer += data
        if self.head.done():
            return  # bytes after the head, before start(): kept for the reader
        end = self._buffer.find(b"\r\n\r\n")
        if end >= 0:
            head, self._buffer = self._buffer[: end + 4], self._buffer[end + 4 :]
            self.head.set_result(head)
        elif len(self._buffer) > self._head_limit:
            self.head.set_exception(ServerDisconnectedError("Response head too long"))

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.head.done():
            self.head.set_exception(ServerDisconnectedError("Server disconnected"))
        super().connection_lost(exc)

    def start(self, reader: FrameReader) -> None:
        """The handshake is done: parse frames from now on (and what came early)."""
        self.reader = reader
        self.started = True
        early, self._buffer = self._buffer, b""
        if early:
            super().data_received(early)

    def push(self, msg: WSMessage) -> None:
        """Hand ``receive()`` a message of our own (CLOSING, a heartbeat's ERROR);
        such messages are not counted against the read limit."""
        self.queue.append(msg)
        self._wake()
