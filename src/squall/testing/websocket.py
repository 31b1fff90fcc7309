"""``ClientWebSocketResponse``: the client end of a WebSocket, with aiohttp's API.

``client.ws_connect(path)`` (see ``squall.testing.handshake``) returns one; a test
uses it as it uses aiohttp's: ``send_str``/``receive_str``, ``async for msg in ws``,
``await ws.close()``.

Theory of operation: a :class:`WSClientProtocol` (``squall.testing.wsprotocol``, an
``asyncio.Protocol`` on a raw socket, not httpx) first collects the answer's head for
the handshake, then feeds every read to ``squall.websocket``'s ``FrameReader`` (server
frames are not masked) and queues the messages. Frames go out masked (RFC 6455 5.3), built by
``squall.websocket.build_frame``. The response holds aiohttp's client semantics on top.

Invariants (aiohttp 3.14's ``ClientWebSocketResponse``):
1. One reader: ``receive()`` may not run twice at once; ``close()`` from another task
   wakes it with a CLOSING message first.
2. ``receive()``: with ``autoping`` PINGs are answered and PONGs swallowed; with
   ``autoclose`` a CLOSE from the server is answered (1000) and the connection closed;
   once closed it returns CLOSED for ever (no RuntimeError, unlike the server side).
3. ``close()`` sends a Close, then waits up to ``timeout.ws_close`` seconds for the
   server's unless a close code is known already (the server's Close came first, a
   protocol error, or a receive timeout), and closes the transport either way.
4. A protocol error from the server is answered with a Close carrying its code and
   reported once as an ERROR message.
5. Flow control: a send waits while the transport's buffer is over its high-water
   mark; past ``_READ_LIMIT`` queued bytes the socket is not read until the test
   takes messages out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from squall.framework.websocket import WSMessageTypeError
from squall.testing.errors import ClientConnectionResetError, ServerTimeoutError
from squall.testing.wsprotocol import PeerGone, WSClientProtocol
from squall.websocket import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    Deflater,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
    build_frame,
    close_payload,
)

__all__ = ("ClientWSTimeout", "ClientWebSocketResponse", "WSRequestContextManager")

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CLOSE = WSMsgType.CLOSE


@dataclass(frozen=True, slots=True)
class ClientWSTimeout:
    """aiohttp's ``ClientWSTimeout``: ``ws_receive`` bounds each ``receive()``,
    ``ws_close`` the wait for the server's Close."""

    ws_receive: float | None = None
    ws_close: float | None = None


DEFAULT_WS_CLIENT_TIMEOUT = ClientWSTimeout(ws_receive=None, ws_close=10.0)


class ClientWebSocketResponse:
    """A WebSocket to the test server, as aiohttp's ``ClientWebSocketResponse``."""

    def __init__(
        self,
        conn: WSClientProtocol,
        *,
        protocol: str | None,
        timeout: ClientWSTimeout,
        autoclose: bool,
        autoping: bool,
        heartbeat: float | None,
        compress: int,
        client_notakeover: bool,
    ) -> None:
        self._conn = conn
        self._protocol = protocol
        self._timeout = timeout
        self._autoclose = autoclose
        self._autoping = autoping
        self._heartbeat = heartbeat
        self._compress = compress
        self._client_notakeover = client_notakeover
        self._deflater = Deflater(compress, client_notakeover) if compress else None
        self._closed = False
        self._closing = False
        self._close_sent = False
        self._close_code: int | None = None
        self._exception: BaseException | None = None
        self._waiting = False
        self._close_wait: asyncio.Future[None] | None = None
        self._heartbeat_cb: asyncio.TimerHandle | None = None
        self._heartbeat_rx = 0
        self._reset_heartbeat()

    # -- state -------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def close_code(self) -> int | None:
        return self._close_code

    @property
    def protocol(self) -> str | None:
        """The subprotocol the server chose among ``protocols``, or None."""
        return self._protocol

    @property
    def compress(self) -> int:
        """The window bits of our permessage-deflate compressor, or 0 without it."""
        return self._compress

    @property
    def client_notakeover(self) -> bool:
        return self._client_notakeover

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Transport information (``peername``, ``sockname``, ``socket``…)."""
        transport = self._conn.transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    def exception(self) -> BaseException | None:
        return self._exception

    # -- heartbeat -----------------------------------------------------------
    # NOTE: as the server side, a count of reads instead of a timer re-armed on
    # every read; a PING goes out between ``heartbeat`` and twice that after the
    # last bytes from the server.

    def _reset_heartbeat(self) -> None:
        if self._heartbeat is None or self._closed:
            return
        self._heartbeat_rx = self._conn.rx
        self._heartbeat_cb = self._conn.loop.call_later(self._heartbeat, self._send_heartbeat)

    def _send_heartbeat(self) -> None:
        if self._closed or self._closing:
            return
        conn = self._conn
        if conn.rx != self._heartbeat_rx:  # the server spoke: no need to ask
            self._reset_heartbeat()
            return
        try:
            conn.write(build_frame(WSMsgType.PING, b"", masked=True))
        except ClientConnectionResetError as exc:
            self._heartbeat_failed(exc)
            return
        wait = (self._heartbeat or 0) / 2
        self._heartbeat_cb = conn.loop.call_later(wait, self._pong_wait_over, wait)

    def _pong_wait_over(self, wait: float) -> None:
        if self._conn.rx != self._heartbeat_rx:
            self._reset_heartbeat()
        else:
            self._heartbeat_failed(ServerTimeoutError(f"No PONG received after {wait} seconds"))

    def _heartbeat_failed(self, exc: BaseException) -> None:
        if self._closed:
            return
        self._set_closed()
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._exception = exc
        self._conn.close()
        if self._waiting and not self._closing:
            self._conn.push(WSMessage(WSMsgType.ERROR, exc, None))

    def _cancel_heartbeat(self) -> None:
        if self._heartbeat_cb is not None:
            self._heartbeat_cb.cancel()
            self._heartbeat_cb = None

    def _set_closed(self) -> None:
        self._closed = True
        self._cancel_heartbeat()

    def _set_closing(self) -> None:
        self._closing = True
        self._cancel_heartbeat()

    # -- sending ---------------------------------------------------------------

    async def send_frame(
        self,
        message: bytes | bytearray | memoryview,
        opcode: WSMsgType,
        compress: int | None = None,
    ) -> None:
        """Send one frame with ``opcode`` (masked, as a client's must be)."""
        if self._close_sent and opcode != _CLOSE:
            raise ClientConnectionResetError("Cannot write to closing transport")
        payload = bytes(message)
        rsv1 = False
        deflater = self._deflater
        if deflater is not None and opcode < 8:
            # ``compress`` is taken and ignored: a one-off compressor (aiohttp's) would
            # leave the shared one's history out of step with the peer's window and
            # corrupt the messages after it; every message goes through the shared one
            payload = deflater.compress(payload)
            rsv1 = True
        conn = self._conn
        conn.write(build_frame(opcode, payload, rsv1=rsv1, masked=True))
        if conn.write_paused:
            await conn.drain()

    async def send_str(self, data: str, compress: int | None = None) -> None:
        """Send a TEXT message."""
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        await self.send_frame(data.encode("utf-8"), _TEXT, compress)

    async def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> None:
        """Send a BINARY message."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        await self.send_frame(data, _BINARY, compress)

    async def send_json(
        self, data: Any, compress: int | None = None, *, dumps: Callable[[Any], str] = json.dumps
    ) -> None:
        """Send ``dumps(data)`` as a TEXT message."""
        await self.send_str(dumps(data), compress=compress)

    async def send_json_bytes(
        self, data: Any, compress: int | None = None, *, dumps: Callable[[Any], bytes]
    ) -> None:
        """Send ``dumps(data)`` (bytes, e.g. orjson's) as a BINARY message."""
        await self.send_bytes(dumps(data), compress=compress)

    async def ping(self, message: bytes = b"") -> None:
        """Send a PING."""
        await self.send_frame(message, WSMsgType.PING)

    async def pong(self, message: bytes = b"") -> None:
        """Send a PONG (unsolicited, or answering a PING when ``autoping=False``)."""
        await self.send_frame(message, WSMsgType.PONG)

    # -- closing ---------------------------------------------------------------

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes | str = b"") -> bool:
        """Start (or finish) the closing handshake; True if this call closed it."""
        conn = self._conn
        if self._waiting and not self._closing:  # invariant 1: wake the reader first
            self._close_wait = conn.loop.create_future()
            self._set_closing()
            conn.push(WS_CLOSING_MESSAGE)
            await self._close_wait
        if self._closed:
            return False
        payload = close_payload(code, message)  # a reason too long raises here
        self._set_closed()
        try:
            await self.send_frame(payload, _CLOSE)
        except asyncio.CancelledError:
            self._abandon(None)
            raise
        except Exception as exc:  # the server is gone: the close is as done as it gets
            self._abandon(exc)
            return True
        finally:
            self._close_sent = True
        if self._close_code:  # invariant 3: nothing to wait for
            conn.close()
            return True
        try:
            async with asyncio.timeout(self._timeout.ws_close):
                while True:
                    msg = await conn.next_message()
                    if msg[0] is _CLOSE:
                        self._close_code = msg[1]
                        conn.close()
                        return True
        except asyncio.CancelledError:
            self._abandon(None)
            raise
        except Exception as exc:  # timeout, protocol error or EOF: nothing more to wait for
            self._abandon(exc)
            return True

    def _abandon(self, exc: BaseException | None) -> None:
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        if exc is not None:
            self._exception = exc
        self._conn.close()

    # -- receiving -------------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """Return the next message: TEXT, BINARY, CLOSE (after answering it), CLOSING,
        CLOSED, ERROR, and PING/PONG with ``autoping=False``."""
        conn = self._conn
        receive_timeout = timeout or self._timeout.ws_receive
        while True:
            if self._waiting:
                raise RuntimeError("Concurrent call to receive() is not allowed")
            if self._closed:
                return WS_CLOSED_MESSAGE
            if self._closing:
                await self.close()
                return WS_CLOSED_MESSAGE
            try:
                self._waiting = True
                try:
                    if receive_timeout:
                        async with asyncio.timeout(receive_timeout):
                            msg = await conn.next_message()
                    else:
                        msg = await conn.next_message()
                finally:
                    self._waiting = False
                    close_wait = self._close_wait
                    if close_wait is not None and not close_wait.done():
                        close_wait.set_result(None)
            except (asyncio.CancelledError, TimeoutError):
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE  # as aiohttp; still open
                raise
            except PeerGone:
                # as aiohttp: the Close we then try to send fails, which leaves 1006
                # and the ClientConnectionResetError as exception()
                self._close_code = WSCloseCode.OK
                await self.close()
                return WS_CLOSED_MESSAGE
            except WebSocketError as exc:  # invariant 4
                self._close_code = exc.code
                await self.close(code=exc.code)
                return WSMessage(WSMsgType.ERROR, exc, None)
            kind = msg[0]
            if kind is _TEXT or kind is _BINARY:
                return msg
            if kind is _CLOSE:
                self._set_closing()
                self._close_code = msg[1]
                if not self._closed and self._autoclose:
                    await self.close()
            elif kind is WSMsgType.CLOSING:
                self._set_closing()
            elif kind is WSMsgType.PING and self._autoping:
                await self.pong(msg[1])
                continue
            elif kind is WSMsgType.PONG and self._autoping:
                continue
            return msg

    async def receive_str(self, *, timeout: float | None = None) -> str:
        """Receive a TEXT message's text; ``WSMessageTypeError`` for any other."""
        msg = await self.receive(timeout)
        if msg.type is not _TEXT:
            raise WSMessageTypeError(
                f"Received message {msg.type}:{msg.data!r} is not WSMsgType.TEXT"
            )
        return msg.data  # type: ignore[no-any-return]

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """Receive a BINARY message's bytes; ``WSMessageTypeError`` for any other."""
        msg = await self.receive(timeout)
        if msg.type is not _BINARY:
            raise WSMessageTypeError(
                f"Received message {msg.type}:{msg.data!r} is not WSMsgType.BINARY"
            )
        return msg.data  # type: ignore[no-any-return]

    async def receive_json(
        self, *, loads: Callable[[Any], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        """Receive a TEXT message and parse it with ``loads``."""
        return loads(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> ClientWebSocketResponse:
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return msg

    async def __aenter__(self) -> ClientWebSocketResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class WSRequestContextManager:
    """``ws_connect()``'s result: await it, or ``async with`` it (closed on exit)."""

    def __init__(self, coro: Awaitable[ClientWebSocketResponse]) -> None:
        self._coro = coro
        self._ws: ClientWebSocketResponse | None = None

    def __await__(self) -> Generator[Any, None, ClientWebSocketResponse]:
        return self._coro.__await__()

    async def __aenter__(self) -> ClientWebSocketResponse:
        self._ws = await self._coro
        return self._ws

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
