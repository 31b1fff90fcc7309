"""``WebSocketResponse``: aiohttp's server-side WebSocket API over the upgrade hand-off.

Theory of operation: ``prepare()`` checks the handshake (``squall.websocket``),
sends the ``101`` head through the request's sink, then hands the connection to a
:class:`WSConnection` (``sink.hand_over``), an ``asyncio.Protocol`` that owns the
transport from then on. It parses frames as bytes arrive into a queue of
messages, and writes frames. The response holds aiohttp's semantics on top:
what ``receive()`` returns when, the closing handshake, heartbeats.

Invariants:
1. Flow control both ways. Writing: ``send_*`` returns at once while the
   transport's buffer is under its high-water mark, else waits for
   ``resume_writing`` (a client that reads nothing cannot grow our memory).
   Reading: each queued message counts its payload plus ``_MSG_COST`` (the
   objects holding it, so empty messages count too); past ``_READ_LIMIT`` the
   transport stops reading until the handler has taken the queue down to half.
   Any number of tasks may wait for the writing side at once (all are woken).
   SECURITY: a wait is bounded by the server's ``send_timeout``: once the buffer
   has not shrunk for that long the transport is aborted and the waiters get
   ClientDisconnectedError (after the hand-over the HTTP connection's sweep no
   longer looks at this transport). The timer runs only while a task waits.
2. One reader: ``receive()`` may not run twice at once (aiohttp's rule); ``close()``
   from another task wakes it with a CLOSING message first.
3. The closing handshake: a close we receive is answered with the same code
   (RFC 6455 5.5.1) and the transport closed; a close we send waits up to
   ``timeout`` (for the peer to read it and to answer), then the transport is
   closed either way, aborted when unsent bytes would keep it open.
4. A protocol error is answered with a Close carrying its code (1002, 1007,
   1009) and the connection fails; ``receive()`` reports it as an ERROR message.
5. Every open WebSocket is in its application's registry until its connection
   is gone, so a graceful shutdown can close them (:func:`close_websockets`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from squall.framework.exceptions import HTTPBadRequest
from squall.framework.fileresponse import send_timeout_of
from squall.framework.streamresponse import StreamResponse
from squall.typedefs import ClientDisconnectedError
from squall.websocket import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    DeflateParams,
    Deflater,
    FrameReader,
    Inflater,
    WebSocketError,
    WSCloseCode,
    WSHandshakeError,
    WSMessage,
    WSMsgType,
    check_request,
    choose_protocol,
    close_payload,
    frame_header,
    negotiate,
    offered_protocols,
)

if TYPE_CHECKING:
    from squall.framework.request import BaseRequest

__all__ = (
    "WSMessageTypeError",
    "WebSocketReady",
    "WebSocketResponse",
    "close_websockets",
)

ws_logger = logging.getLogger("squall.websocket")

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CLOSE = WSMsgType.CLOSE
_CLOSING = WSMsgType.CLOSING
_PING = WSMsgType.PING
_PONG = WSMsgType.PONG
_THRESHOLD_CONNLOST_ACCESS = 5  # receive() after the close: CLOSED this often, then raise
_READ_LIMIT = 128 * 1024  # queued bytes past which reading pauses (aiohttp's 2 x 64 KiB)
# what a queued message costs beyond its payload: its tuple, the bytes/str object
# and the deque's slot (CPython: 80 + 33..49 + 8 bytes), so a flood of empty
# messages is bounded as well (invariant 1)
_MSG_COST = 128
_SPLIT_WRITE = 16 * 1024  # past this a payload is not copied behind its header


class WSMessageTypeError(TypeError):
    """``receive_str()``/``receive_bytes()`` got a message of another type."""


@dataclass(frozen=True, slots=True)
class WebSocketReady:
    """What ``can_prepare()`` found: whether the handshake would succeed, and the
    subprotocol it would choose."""

    ok: bool
    protocol: str | None

    def __bool__(self) -> bool:
        return self.ok


class PeerGone(Exception):
    """The connection ended (EOF or reset) without a closing handshake."""


def _cost(msg: WSMessage) -> int:
    """What ``msg`` counts against ``_READ_LIMIT`` (invariant 1)."""
    data = msg[1]
    return _MSG_COST + len(data) if isinstance(data, str | bytes) else _MSG_COST


class WSConnection(asyncio.Protocol):
    """The connection after the 101: bytes to queued messages, frames to the transport.

    The test client's socket (``squall.testing.wsprotocol``) is this class with the
    handshake's answer read first.
    """

    __slots__ = (
        "drain_waiters",
        "eof",
        "error",
        "loop",
        "queue",
        "queued",
        "read_paused",
        "reader",
        "rx",
        "send_size",
        "send_timeout",
        "send_timer",
        "transport",
        "waiter",
        "write_paused",
    )

    # what writing to or draining a gone connection raises (the test client's is
    # aiohttp's client error)
    lost_error: type[ConnectionResetError] = ClientDisconnectedError

    def __init__(self, reader: FrameReader, loop: asyncio.AbstractEventLoop) -> None:
        self.reader = reader
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.queue: deque[WSMessage] = deque()
        self.queued = 0  # the queued messages' cost (_cost), at least one read behind
        self.waiter: asyncio.Future[None] | None = None
        self.error: WebSocketError | None = None
        self.eof = False  # the connection is gone
        self.rx = 0  # reads so far: the heartbeat's sign of life
        self.read_paused = False
        self.write_paused = False
        # every task waiting in drain(), each on a future of its own (invariant 1)
        self.drain_waiters: list[asyncio.Future[None]] = []
        # how long a drain() may see the buffer not shrink (None: for ever), the
        # buffer's size at the last look, and the timer of the next look
        self.send_timeout: float | None = None
        self.send_size = 0
        self.send_timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol --------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.rx += 1
        queue = self.queue
        before = len(queue)
        try:
            self.reader.feed(data, queue)  # type: ignore[arg-type]
        except WebSocketError as exc:
            self.error = exc  # after the messages before it (rule 4)
            self._wake()
            return
        added = len(queue) - before
        if added:
            if added == 1:
                self.queued += _cost(queue[-1])
            else:
                self.queued += sum(map(_cost, islice(reversed(queue), added)))
            if self.queued > _READ_LIMIT and not self.read_paused and self.transport:
                self.read_paused = True  # invariant 1
                self.transport.pause_reading()
            self._wake()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake()
        return None  # a half-closed WebSocket is a gone one: close the transport

    def connection_lost(self, exc: BaseException | None) -> None:
        self.eof = True
        self._wake()
        self._stop_send_timer()
        waiters, self.drain_waiters = self.drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(self.lost_error("Connection lost"))

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._stop_send_timer()
        waiters, self.drain_waiters = self.drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- for the response --------------------------------------------------

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def taken(self, msg: WSMessage) -> None:
        """``msg`` left the queue: resume reading once it has room (invariant 1)."""
        # NOTE: CLOSING/ERROR messages the response queues itself were never
        # counted, hence the floor at 0
        queued = self.queued - _cost(msg) if self.queue else 0
        self.queued = queued if queued > 0 else 0
        if self.read_paused and queued <= _READ_LIMIT // 2 and self.transport:
            self.read_paused = False
            self.transport.resume_reading()

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
        self.taken(msg)
        return msg

    def write(self, data: bytes) -> None:
        transport = self.transport
        if self.eof or transport is None or transport.is_closing():
            raise self.lost_error("Cannot write to closing transport")
        transport.write(data)

    async def drain(self) -> None:
        """Wait while the transport's buffer is over its high-water mark."""
        if self.eof:
            raise self.lost_error("Connection lost")
        if not self.write_paused:
            return
        waiter = self.loop.create_future()
        self.drain_waiters.append(waiter)
        if self.send_timeout is not None and self.send_timer is None:
            self._look_again()
        try:
            await waiter
        finally:
            if waiter in self.drain_waiters:  # cancelled: the others keep waiting
                self.drain_waiters.remove(waiter)

    def _look_again(self) -> None:
        """Note the buffer's size; look at it again in ``send_timeout`` seconds."""
        transport = self.transport
        timeout = self.send_timeout
        if transport is not None and timeout is not None:
            self.send_size = transport.get_write_buffer_size()
            self.send_timer = self.loop.call_later(timeout, self._send_check)

    def _stop_send_timer(self) -> None:
        timer = self.send_timer
        if timer is not None:
            self.send_timer = None
            timer.cancel()

    def _send_check(self) -> None:
        """``send_timeout`` after the last look: a drain() still waits, and the
        buffer did not shrink meanwhile: the peer reads nothing, drop it."""
        self.send_timer = None
        transport = self.transport
        if not self.drain_waiters or transport is None or self.eof:
            return
        if transport.get_write_buffer_size() < self.send_size:
            self._look_again()  # it reads, slowly: progress
            return
        ws_logger.debug("Send timed out: the WebSocket client does not read")
        waiters, self.drain_waiters = self.drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(self.lost_error("Send timed out"))
        transport.abort()

    def close(self, abort: bool = False) -> None:
        """Close the transport; ``abort`` drops what it has not sent yet (a peer
        that does not read would otherwise hold it open for ever)."""
        transport = self.transport
        if transport is not None:
            if abort and transport.get_write_buffer_size():
                transport.abort()
            else:
                transport.close()


# -- the shutdown registry (invariant 5) ----------------------------------------

_NO_APP = type("_NoApp", (), {})()  # the key for a low-level server's requests
_open: weakref.WeakKeyDictionary[Any, weakref.WeakSet[WebSocketResponse]] = (
    weakref.WeakKeyDictionary()
)


async def close_websockets(
    app: Any,
    *,
    timeout: float = 10.0,
    code: int = WSCloseCode.GOING_AWAY,
    message: bytes | str = b"Server shutdown",
) -> None:
    """Close every open WebSocket of ``app`` (a root Application, or None for a
    low-level server's) with ``code``; wait at most ``timeout`` seconds for the
    closing handshakes and the handlers, then drop what is left.

    The graceful-shutdown hook: the runner calls it after ``on_shutdown``.
    """
    sockets = list(_open.get(_NO_APP if app is None else app, ()))
    if not sockets:
        return
    loop = asyncio.get_running_loop()
    closing = [
        loop.create_task(ws.close(code=code, message=message)) for ws in sockets if not ws.closed
    ]
    handlers = [t for ws in sockets if (t := ws._handler_task) is not None and not t.done()]
    if closing or handlers:
        # the closing handshakes, and the handlers seeing CLOSING/CLOSED and returning
        await asyncio.wait((*closing, *handlers), timeout=timeout)
    for ws in sockets:
        conn = ws._conn
        if conn is not None and conn.transport is not None and not conn.eof:
            conn.transport.abort()  # its peer never answered the close
    stuck = [t for t in (*closing, *handlers) if not t.done()]
    for task in stuck:
        task.cancel()
    if stuck:
        # as the server's shutdown does: cancelled handlers unwind before on_cleanup
        _, left = await asyncio.wait(stuck, timeout=timeout)
        for task in left:
            ws_logger.warning("WebSocket handler still running after shutdown: %r", task)


# -- the response ------------------------------------------------------------------


class WebSocketResponse(StreamResponse):
    """A WebSocket, server side, as aiohttp's ``web.WebSocketResponse``."""

    _length_check = False
    _in_close = False  # a close() is under way: the handler's end leaves it the connection

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        protocols: Iterable[str] = (),
        compress: bool = True,
        max_msg_size: int = 4 * 1024 * 1024,
        writer_limit: int = 2**16,
        decode_text: bool = True,
    ) -> None:
        super().__init__(status=101)
        self._protocols = tuple(protocols)
        self._timeout = timeout
        self._receive_timeout = receive_timeout
        self._autoclose = autoclose
        self._autoping = autoping
        self._heartbeat = heartbeat
        self._compress: bool | int = compress
        self._max_msg_size = max_msg_size
        self._writer_limit = writer_limit  # accepted for aiohttp's signature; see docs
        self._decode_text = decode_text
        self._conn: WSConnection | None = None
        self._ws_protocol: str | None = None
        self._deflate: DeflateParams | None = None
        self._deflater: Deflater | None = None
        self._closed = False
        self._closing = False
        self._close_sent = False
        self._close_code: int | None = None
        self._exception: BaseException | None = None
        self._waiting = False
        self._close_wait: asyncio.Future[None] | None = None
        self._conn_lost = 0
        self._handler_task: asyncio.Task[Any] | None = None
        self._heartbeat_cb: asyncio.TimerHandle | None = None
        self._heartbeat_rx = 0

    # -- the handshake -------------------------------------------------------

    def _handshake(self, request: BaseRequest) -> tuple[dict[str, str], str | None]:
        headers = request.headers
        try:
            accept = check_request(
                headers.get("Upgrade"),
                headers.get("Connection"),
                headers.get("Sec-WebSocket-Version"),
                headers.get("Sec-WebSocket-Key"),
            )
        except WSHandshakeError as exc:
            raise HTTPBadRequest(text=str(exc)) from None
        protocol = None
        if "Sec-WebSocket-Protocol" in headers:
            offered = offered_protocols(headers["Sec-WebSocket-Protocol"])
            protocol = choose_protocol(offered, self._protocols)
            if protocol is None:
                # NOTE: aiohttp's format string, its typographic apostrophe included
                # (tests and log filters match it)
                ws_logger.warning(
                    "%s: Client protocols %r don\u2019t overlap server-known ones %r",
                    request.remote,
                    offered,
                    self._protocols,
                )
        answer = {"Upgrade": "websocket", "Connection": "upgrade", "Sec-WebSocket-Accept": accept}
        self._deflate = None
        if self._compress:
            self._deflate = negotiate(headers.get("Sec-WebSocket-Extensions"))
            if self._deflate is not None:
                answer["Sec-WebSocket-Extensions"] = self._deflate.response_header()
        if protocol:
            answer["Sec-WebSocket-Protocol"] = protocol
        return answer, protocol

    def can_prepare(self, request: BaseRequest) -> WebSocketReady:
        """Tell whether ``prepare()`` would succeed, without answering."""
        if self._conn is not None:
            raise RuntimeError("Already started")
        try:
            _, protocol = self._handshake(request)
        except HTTPBadRequest:
            return WebSocketReady(False, None)
        return WebSocketReady(True, protocol)

    async def prepare(self, request: BaseRequest) -> StreamResponse | None:
        """Complete the handshake (``400`` if the request is not one) and take
        the connection over."""
        if self._conn is not None or self._eof_sent:
            return self
        headers, protocol = self._handshake(request)
        self.set_status(101)
        self.headers.update(headers)
        self.force_close()
        params = self._deflate
        self._compress = params.server_max_window_bits if params is not None else 0
        await super().prepare(request)
        loop = asyncio.get_running_loop()
        inflater = Inflater() if params is not None else None
        reader = FrameReader(self._max_msg_size, inflater=inflater, decode_text=self._decode_text)
        if params is not None:
            self._deflater = Deflater(
                params.server_max_window_bits, params.server_no_context_takeover
            )
        conn = WSConnection(reader, loop)
        conn.send_timeout = send_timeout_of(request._sink)
        self._ws_protocol = protocol
        request._sink.hand_over(conn)
        self._conn = conn
        app = request._app
        _open.setdefault(_NO_APP if app is None else app, weakref.WeakSet()).add(self)
        task = request.task
        if isinstance(task, asyncio.Task):
            self._handler_task = task
            task.add_done_callback(self._handler_done)
        self._reset_heartbeat()
        return self

    def _handler_done(self, task: asyncio.Task[Any]) -> None:
        # a handler that failed or was cancelled leaves its connection behind:
        # nobody else would ever close it
        self._set_closed()
        if self._in_close:
            return  # a close() under way (another task's) ends the connection itself
        if self._conn is not None:
            self._conn.close()

    # -- state -------------------------------------------------------------

    @property
    def prepared(self) -> bool:
        return self._conn is not None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def close_code(self) -> int | None:
        return self._close_code

    @property
    def ws_protocol(self) -> str | None:
        return self._ws_protocol

    @property
    def compress(self) -> int | bool:
        """True/False before ``prepare()``; after it the window bits agreed for
        permessage-deflate, or 0 when it is not used."""
        return self._compress

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Transport information (``peername``, ``sslcontext``…)."""
        conn = self._conn
        if conn is None or conn.transport is None:
            return default
        return conn.transport.get_extra_info(name, default)

    def exception(self) -> BaseException | None:
        return self._exception

    # -- heartbeat -----------------------------------------------------------
    # NOTE: the timer looks at a count of reads instead of being re-armed on
    # every read (PERF: no timer churn per message); a ping goes out between
    # ``heartbeat`` and twice that after the last bytes from the peer.

    def _reset_heartbeat(self) -> None:
        if self._heartbeat is None or self._conn is None:
            return
        self._heartbeat_rx = self._conn.rx
        self._heartbeat_cb = self._conn.loop.call_later(self._heartbeat, self._send_heartbeat)

    def _send_heartbeat(self) -> None:
        conn = self._conn
        assert conn is not None and self._heartbeat is not None
        if self._closed:
            return
        if conn.rx != self._heartbeat_rx:  # the peer spoke: no need to ask
            self._reset_heartbeat()
            return
        try:
            conn.write(frame_header(WSMsgType.PING, 0))
        except ClientDisconnectedError as exc:
            self._ping_failed(exc)
            return
        self._heartbeat_cb = conn.loop.call_later(self._heartbeat / 2, self._pong_wait_over)

    def _pong_wait_over(self) -> None:
        conn = self._conn
        assert conn is not None
        if conn.rx != self._heartbeat_rx:
            self._reset_heartbeat()
        else:
            wait = (self._heartbeat or 0) / 2
            self._ping_failed(TimeoutError(f"No PONG received after {wait} seconds"))

    def _ping_failed(self, exc: BaseException) -> None:
        if self._closed:
            return
        self._set_closed()
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._exception = exc
        conn = self._conn
        assert conn is not None
        if self._waiting and not self._closing:
            conn.queue.append(WSMessage(WSMsgType.ERROR, exc, None))
            conn._wake()
        conn.close(abort=True)  # a dead peer may have left unsent bytes behind

    def _cancel_heartbeat(self) -> None:
        if self._heartbeat_cb is not None:
            self._heartbeat_cb.cancel()
            self._heartbeat_cb = None

    def _set_closed(self) -> None:
        self._closed = True
        self._cancel_heartbeat()

    def _set_closing(self, code: int) -> None:
        self._closing = True
        self._close_code = code
        self._cancel_heartbeat()

    def _close_transport(self, code: int | None = None, abort: bool = False) -> None:
        if code is not None:
            self._close_code = code
        if self._conn is not None:
            self._conn.close(abort)

    # -- sending ---------------------------------------------------------------

    def _write_frame(self, opcode: int, payload: bytes) -> None:
        conn = self._conn
        if conn is None:
            raise RuntimeError("Call .prepare() first")
        if self._close_sent:
            raise ClientDisconnectedError("Cannot write to closing transport")
        rsv1 = False
        deflater = self._deflater
        if deflater is not None and opcode < 8:
            # NOTE: ``send_*(compress=N)`` (aiohttp's per-message window) is
            # accepted and not used: a one-off compressor's message enters the
            # peer's LZ77 window but not our shared compressor's history, so with
            # context takeover every later message would decode to wrong bytes
            # (RFC 7692 7.2.2; aiohttp has that bug). The shared compressor's window
            # is never wider than the one agreed.
            payload = deflater.compress(payload)
            rsv1 = True
        head = frame_header(opcode, len(payload), rsv1=rsv1)
        if len(payload) > _SPLIT_WRITE:
            conn.write(head)
            conn.write(payload)
        else:
            conn.write(head + payload)

    async def send_frame(
        self, message: bytes, opcode: WSMsgType, compress: int | None = None
    ) -> None:
        """Send one frame with ``opcode``."""
        self._write_frame(opcode, bytes(message))
        conn = self._conn
        if conn is not None and conn.write_paused:
            await conn.drain()

    async def send_str(self, data: str, compress: int | None = None) -> None:
        """Send a TEXT message; waits while the client is slow to read."""
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        conn = self._conn
        payload = data.encode("utf-8")
        n = len(payload)
        if n < 126 and conn is not None and self._deflater is None and not self._close_sent:
            conn.write(bytes((0x81, n)) + payload)  # PERF: a short frame, inline
        else:
            self._write_frame(1, payload)
        if conn is not None and conn.write_paused:
            await conn.drain()

    async def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> None:
        """Send a BINARY message; waits while the client is slow to read."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        self._write_frame(2, data if type(data) is bytes else bytes(data))
        conn = self._conn
        if conn is not None and conn.write_paused:
            await conn.drain()

    async def send_json(
        self, data: Any, compress: int | None = None, *, dumps: Callable[[Any], str] = json.dumps
    ) -> None:
        """Send ``dumps(data)`` as a TEXT message."""
        await self.send_str(dumps(data), compress=compress)

    async def send_json_bytes(
        self, data: Any, compress: int | None = None, *, dumps: Callable[[Any], bytes]
    ) -> None:
        """Send ``dumps(data)`` (bytes, e.g. orjson) as a BINARY message."""
        await self.send_bytes(dumps(data), compress=compress)

    async def ping(self, message: bytes = b"") -> None:
        """Send a PING."""
        await self.send_frame(message, WSMsgType.PING)

    async def pong(self, message: bytes = b"") -> None:
        """Send a PONG (unsolicited, or answering a PING when ``autoping=False``)."""
        await self.send_frame(message, WSMsgType.PONG)

    async def write(self, data: Any) -> None:
        raise RuntimeError("Cannot call .write() for websocket")

    async def write_eof(self) -> None:  # type: ignore[override]
        if self._eof_sent:
            return
        if self._conn is None:
            raise RuntimeError("Response has not been started")
        await self.close()
        self._eof_sent = True

    # -- closing ---------------------------------------------------------------

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes | str = b"", drain: bool = True
    ) -> bool:
        """Start (or finish) the closing handshake; True if this call closed it.

        Takes at most ``timeout`` seconds in all (invariant 3): for the peer to
        read what is queued and the Close, then to answer it.
        """
        conn = self._conn
        if conn is None:
            raise RuntimeError("Call .prepare() first")
        if self._closed:
            return False
        self._set_closed()
        self._in_close = True
        try:
            return await self._close(conn, code, message, drain)
        finally:
            self._in_close = False

    async def _close(
        self, conn: WSConnection, code: int, message: bytes | str, drain: bool
    ) -> bool:
        timeout = self._timeout
        deadline = None if timeout is None else conn.loop.time() + timeout
        try:
            try:
                payload = close_payload(code, message)
                self._write_frame(WSMsgType.CLOSE, payload)
            finally:
                self._close_sent = True
            if drain:
                # a peer that reads nothing must not hold close() for ever
                async with asyncio.timeout_at(deadline):
                    await conn.drain()
        except asyncio.CancelledError:
            self._close_transport(WSCloseCode.ABNORMAL_CLOSURE, abort=True)
            raise
        except Exception as exc:  # the peer is gone or stuck: the close is as done as it gets
            self._exception = exc
            self._close_transport(WSCloseCode.ABNORMAL_CLOSURE, abort=True)
            return True
        if self._waiting:  # invariant 2: wake the reader before reading ourselves
            self._close_wait = conn.loop.create_future()
            conn.queue.append(WS_CLOSING_MESSAGE)
            conn._wake()
            await self._close_wait
        if self._closing:  # the peer's close came first: it was answered above
            self._close_transport()
            return True
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    msg = await conn.next_message()
                    if msg[0] is _CLOSE:
                        self._close_transport(msg[1])
                        return True
        except asyncio.CancelledError:
            self._close_transport(WSCloseCode.ABNORMAL_CLOSURE, abort=True)
            raise
        except Exception as exc:  # timeout, protocol error or EOF: nothing more to wait for
            self._exception = exc
            self._close_transport(WSCloseCode.ABNORMAL_CLOSURE, abort=True)
            return True

    # -- receiving -------------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """Return the next message (see the guide for the CLOSE/CLOSING/CLOSED/ERROR rules)."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("Call .prepare() first")
        receive_timeout = timeout or self._receive_timeout
        while True:
            if self._waiting:
                raise RuntimeError("Concurrent call to receive() is not allowed")
            if self._closed:
                self._conn_lost += 1
                if self._conn_lost >= _THRESHOLD_CONNLOST_ACCESS:
                    raise RuntimeError("WebSocket connection is closed.")
                return WS_CLOSED_MESSAGE
            if self._closing:
                return WS_CLOSING_MESSAGE
            queue = conn.queue
            if not queue and conn.error is None and not conn.eof:
                # PERF: the wait inlined (no coroutine of its own per message)
                self._waiting = True
                try:
                    waiter = conn.loop.create_future()
                    conn.waiter = waiter
                    if receive_timeout:
                        async with asyncio.timeout(receive_timeout):
                            await waiter
                    else:
                        await waiter
                finally:
                    conn.waiter = None
                    self._waiting = False
                    close_wait = self._close_wait
                    if close_wait is not None and not close_wait.done():
                        close_wait.set_result(None)
            if queue:
                msg = queue.popleft()
                if not queue and not conn.read_paused:
                    conn.queued = 0
                else:
                    conn.taken(msg)
            elif conn.error is not None:
                exc = conn.error
                self._close_code = exc.code
                await self.close(code=exc.code)
                return WSMessage(WSMsgType.ERROR, exc, None)
            elif conn.eof:
                self._close_code = WSCloseCode.OK
                await self.close()
                return WSMessage(WSMsgType.CLOSED, None, None)
            else:
                continue  # woken with nothing to read (a spurious wake-up)
            kind = msg[0]
            if kind is _TEXT or kind is _BINARY:
                return msg
            if kind is _CLOSE:
                self._set_closing(msg[1])
                if not self._closed and self._autoclose:
                    # rule 3: echo the peer's code (a close without one gets 1000)
                    await self.close(code=msg[1] or WSCloseCode.OK, drain=False)
            elif kind is _CLOSING:
                self._set_closing(WSCloseCode.OK)
            elif kind is _PING and self._autoping:
                await self.pong(msg[1])
                continue
            elif kind is _PONG and self._autoping:
                continue
            return msg

    async def receive_str(self, *, timeout: float | None = None) -> str:
        """Receive a TEXT message's text; ``WSMessageTypeError`` for any other."""
        msg = await self.receive(timeout)
        if msg.type is not WSMsgType.TEXT:
            raise WSMessageTypeError(
                f"Received message {msg.type}:{msg.data!r} is not WSMsgType.TEXT"
            )
        return msg.data  # type: ignore[no-any-return]

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """Receive a BINARY message's bytes; ``WSMessageTypeError`` for any other."""
        msg = await self.receive(timeout)
        if msg.type is not WSMsgType.BINARY:
            raise WSMessageTypeError(
                f"Received message {msg.type}:{msg.data!r} is not WSMsgType.BINARY"
            )
        return msg.data  # type: ignore[no-any-return]

    async def receive_json(
        self, *, loads: Callable[[Any], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        """Receive a TEXT message and parse it with ``loads``."""
        return loads(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> WebSocketResponse:
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return msg
