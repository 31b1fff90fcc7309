"""Server-sent events, with aiohttp-sse 3.0's API (``from squall.sse import sse_response``).

An event stream is a ``text/event-stream`` response that never ends by itself:
the handler sends events (``send``), a background task sends a comment line
every ``ping_interval`` seconds, and the stream ends when the handler stops it
(``stop_streaming``) or the client goes away. Moving an app from aiohttp-sse means
changing ``from aiohttp_sse import ...`` to ``from squall.sse import ...``.

Invariants:
1. The ping task is the stream's life: ``is_connected()`` is "prepared and the
   task still runs", ``wait()`` waits for it, ``stop_streaming()`` cancels it, and
   a failed write (the client gone, or ``send_timeout`` passed) ends it.
2. One event is one write: its fields are rendered whole, so a failure never
   leaves half an event on the wire for the next one to complete.
3. SECURITY (HTML Living Standard 9.2.6, "Interpreting an event stream"): a line
   break in ``data`` would start a new field, so ``data`` is split on every CR,
   LF and CRLF into one ``data:`` line each, and ``id``/``event`` may hold no line
   break at all (an ``id`` no NUL either: a browser ignores such an id).
   Otherwise text a client controls could forge fields, ``retry:`` or whole events.
4. Proxies are told not to buffer or cache the stream (``X-Accel-Buffering: no``,
   ``Cache-Control: no-cache``) and compression is refused: either would hold
   events back from the client.
"""

from __future__ import annotations

import asyncio
import re
import socket
import types
from collections.abc import Coroutine, Generator, Mapping
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from squall.web import BaseRequest, HTTPMethodNotAllowed, StreamResponse

__all__ = ["EventSourceResponse", "sse_response"]
__version__ = "3.0"  # the aiohttp-sse API this module follows

_TCP_USER_TIMEOUT: int | None = getattr(socket, "TCP_USER_TIMEOUT", None)


class EventSourceResponse(StreamResponse):
    """A streaming response of server-sent events.

    ::

        async def hello(request):
            async with sse_response(request) as resp:
                await resp.send("foo")
            return resp
    """

    DEFAULT_PING_INTERVAL: float = 15
    DEFAULT_SEND_TIMEOUT: float | None = 120
    DEFAULT_SEPARATOR = "\r\n"
    DEFAULT_LAST_EVENT_HEADER = "Last-Event-Id"
    LINE_SEP_EXPR = re.compile(r"\r\n|\r|\n")

    def __init__(
        self,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: Mapping[str, str] | None = None,
        sep: str | None = None,
        allow_all_methods: bool = False,
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        ping_interval: float = DEFAULT_PING_INTERVAL,
    ) -> None:
        super().__init__(status=status, reason=reason)
        fields = self.headers
        if headers is not None:
            fields.extend(headers)
        # invariant 4; Connection is aiohttp-sse's, the server writes its own on the wire
        fields["Content-Type"] = "text/event-stream"
        fields["Cache-Control"] = "no-cache"
        fields["Connection"] = "keep-alive"
        fields["X-Accel-Buffering"] = "no"
        if ping_interval <= 0:
            raise ValueError("ping interval must be positive")
        self._ping_interval: float = ping_interval
        self._ping_task: asyncio.Task[None] | None = None
        self._sep = sep if sep is not None else self.DEFAULT_SEPARATOR
        self._allow_all_methods = allow_all_methods
        self._send_timeout = send_timeout
        self._sse_request: BaseRequest | None = None
        self._saved_tcp_user_timeout: int | None = None
        self._tcp_sock: Any = None

    # -- state ----------------------------------------------------------------

    def is_connected(self) -> bool:
        """True once prepared and until the stream ends (invariant 1)."""
        task = self._ping_task
        return self.prepared and task is not None and not task.done()

    @property
    def ping_interval(self) -> float:
        """Seconds between two pings (aiohttp-sse 2.x's settable property)."""
        return self._ping_interval

    @ping_interval.setter
    def ping_interval(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("ping interval must be int or float")
        if value <= 0:  # as the constructor: 0 would ping in a busy loop
            raise ValueError("ping interval must be greater than 0")
        self._ping_interval = value

    @property
    def last_event_id(self) -> str | None:
        """The ``Last-Event-Id`` a reconnecting client sent (None if it sent none)."""
        if self._sse_request is None:
            raise RuntimeError("EventSource request must be prepared first")
        return self._sse_request.headers.get(self.DEFAULT_LAST_EVENT_HEADER)

    # -- starting and ending ----------------------------------------------------

    async def prepare(self, request: BaseRequest) -> StreamResponse | None:
        """Send the head and start pinging; a second call checks the client is still there."""
        if not self._allow_all_methods and request.method != "GET":
            raise HTTPMethodNotAllowed(request.method, ("GET",))
        if self.prepared:
            # aiohttp-sse's liveness check: a gone client cancels the caller
            protocol = request.protocol
            if protocol.transport is None or protocol.peer_closed:
                raise asyncio.CancelledError()
            return self
        self._sse_request = request
        self._set_tcp_user_timeout(request)
        # the length is never known: chunked on HTTP/1.1, ended by the close on 1.0
        self.enable_chunked_encoding()
        writer = await super().prepare(request)
        self._ping_task = asyncio.create_task(self._ping())
        return writer

    async def write_eof(self, data: bytes = b"") -> None:
        await super().write_eof(data)
        self._restore_tcp_user_timeout()

    async def wait(self) -> None:
        """Wait until the stream ends: ``stop_streaming()`` or the client gone.

        A cancellation of the caller itself is passed on, never swallowed.
        """
        if self._ping_task is None:
            raise RuntimeError("Response is not started")
        try:
            await self._ping_task
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise

    def stop_streaming(self) -> None:
        """End the stream (from any task); ``wait()`` then returns."""
        if self._ping_task is None:
            raise RuntimeError("Response is not started")
        self._ping_task.cancel()

    def enable_compression(self, force: Any = None, strategy: Any = None) -> None:
        """Refused: a compressor holds events back (invariant 4)."""
        raise NotImplementedError

    async def __aenter__(self) -> EventSourceResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_streaming()
        await self.wait()

    # -- events -----------------------------------------------------------------

    async def send(
        self,
        data: str,
        id: str | None = None,
        event: str | None = None,
        retry: int | None = None,
    ) -> None:
        """Send one event: ``data`` (split into lines), optional ``id``, ``event``
        type and ``retry`` (the client's reconnection delay, in milliseconds).

        Raises ``TimeoutError`` and aborts the connection if the client takes no
        bytes for ``send_timeout`` seconds; ``ConnectionResetError`` if it is gone.
        """
        sep = self._sep
        lines: list[str] = []
        if id is not None:
            if "\n" in id or "\r" in id or "\0" in id:  # invariant 3
                raise ValueError("id must not contain line separators or null characters")
            lines.append(f"id: {id}{sep}")
        if event is not None:
            if "\n" in event or "\r" in event:
                raise ValueError("event must not contain line separators")
            lines.append(f"event: {event}{sep}")
        if "\n" in data or "\r" in data:  # PERF: the regex only for multi-line data
            for line in self.LINE_SEP_EXPR.split(data):
                lines.append(f"data: {line}{sep}")
        else:
            lines.append(f"data: {data}{sep}")
        if retry is not None:
            if retry < 0:
                raise ValueError("retry must not be negative")
            lines.append(f"retry: {retry}{sep}")
        lines.append(sep)
        try:
            await self._write_bounded("".join(lines).encode("utf-8"))
        except ConnectionResetError:
            self.stop_streaming()
            raise
        except TimeoutError:
            self.stop_streaming()
            self._abort_transport()
            raise

    async def _ping(self) -> None:
        # a line starting with ":" is a comment: the browser drops it, the
        # connection (and every proxy on the way) sees traffic
        message = f": ping{self._sep}{self._sep}".encode()
        while True:
            await asyncio.sleep(self._ping_interval)
            try:
                await self._write_bounded(message)
            except TimeoutError:
                self._abort_transport()
                break
            except (ConnectionResetError, RuntimeError):
                break  # the client is gone, or the response already ended

    async def _write_bounded(self, data: bytes) -> None:
        """``write(data)``, failing with TimeoutError if the client takes no bytes
        for ``send_timeout`` seconds.

        PERF: ``write()`` suspends only when the client is slow to read (it waits
        for the socket to drain), and a timeout can fire only at a suspension; so
        it is stepped once in place, and ``asyncio.timeout`` (about as costly as
        the rest of an event: bench/sse.py) is armed only when it did suspend.
        """
        request = self._sse_request
        if request is not None and request.protocol.peer_closed:
            # the client closed its side: an event stream has no answer to wait for,
            # so the stream is over now (as on aiohttp) rather than after the writes
            # that draw the peer's reset (Squall keeps a half-closed connection's
            # write side open for pipelined answers)
            raise ConnectionResetError("Cannot write to closing transport")
        step = self.write(data)
        try:
            waiting = step.send(None)
        except StopIteration:
            return
        async with asyncio.timeout(self._send_timeout):
            await _resume(step, waiting)

    # -- the socket -------------------------------------------------------------

    def _set_tcp_user_timeout(self, request: BaseRequest) -> None:
        """Ask the kernel (Linux) to drop the connection when sent data stays
        unacknowledged for ``send_timeout``: a hung peer is found at the next
        ping, long before its socket buffer fills and ``send()`` would block."""
        if self._send_timeout is None or _TCP_USER_TIMEOUT is None:
            return
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        self._saved_tcp_user_timeout = sock.getsockopt(socket.IPPROTO_TCP, _TCP_USER_TIMEOUT)
        self._tcp_sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, _TCP_USER_TIMEOUT, int(self._send_timeout * 1000))

    def _restore_tcp_user_timeout(self) -> None:
        saved = self._saved_tcp_user_timeout
        sock = self._tcp_sock
        if saved is None or sock is None or _TCP_USER_TIMEOUT is None:
            return
        self._tcp_sock = None
        self._saved_tcp_user_timeout = None
        if sock.fileno() >= 0:  # a closed socket has nothing to restore
            sock.setsockopt(socket.IPPROTO_TCP, _TCP_USER_TIMEOUT, saved)

    def _abort_transport(self) -> None:
        """Drop the connection now: a stalled peer would never let a close finish."""
        request = self._sse_request
        transport = request.transport if request is not None else None
        if transport is not None:
            transport.abort()


@types.coroutine
def _resume(step: Coroutine[Any, Any, None], waiting: Any) -> Generator[Any, Any, None]:
    """Go on awaiting ``step``, which has yielded ``waiting`` to the event loop
    (what ``await step`` would do from there: values, errors, cancellation and
    close passed through)."""
    while True:
        try:
            sent = yield waiting
        except GeneratorExit:
            step.close()
            raise
        except BaseException as exc:  # thrown in by the Task (a cancel): passed on
            try:
                waiting = step.throw(exc)
            except StopIteration:
                return
        else:
            try:
                waiting = step.send(sent)
            except StopIteration:
                return


ESR = TypeVar("ESR", bound=EventSourceResponse)


class _SSEContext(Generic[ESR]):
    """What ``sse_response()`` returns: ``async with`` it (aiohttp-sse 3.0), or
    ``await`` it for the prepared response (aiohttp-sse 2.x)."""

    __slots__ = ("_request", "_response")

    def __init__(self, response: ESR, request: BaseRequest) -> None:
        self._response = response
        self._request = request

    async def _prepared(self) -> ESR:
        await self._response.prepare(self._request)
        return self._response

    def __await__(self) -> Generator[Any, None, ESR]:
        return self._prepared().__await__()

    async def __aenter__(self) -> ESR:
        return await self._prepared()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._response.__aexit__(exc_type, exc, traceback)


@overload
def sse_response(
    request: BaseRequest,
    *,
    status: int = 200,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
    sep: str | None = None,
    send_timeout: float | None = EventSourceResponse.DEFAULT_SEND_TIMEOUT,
    ping_interval: float = EventSourceResponse.DEFAULT_PING_INTERVAL,
    allow_all_methods: bool = False,
) -> _SSEContext[EventSourceResponse]: ...


@overload
def sse_response(
    request: BaseRequest,
    *,
    status: int = 200,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
    sep: str | None = None,
    send_timeout: float | None = EventSourceResponse.DEFAULT_SEND_TIMEOUT,
    ping_interval: float = EventSourceResponse.DEFAULT_PING_INTERVAL,
    response_cls: type[ESR],
    allow_all_methods: bool = False,
) -> _SSEContext[ESR]: ...


def sse_response(
    request: BaseRequest,
    *,
    status: int = 200,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
    sep: str | None = None,
    send_timeout: float | None = EventSourceResponse.DEFAULT_SEND_TIMEOUT,
    ping_interval: float = EventSourceResponse.DEFAULT_PING_INTERVAL,
    response_cls: type[EventSourceResponse] = EventSourceResponse,
    allow_all_methods: bool = False,
) -> _SSEContext[Any]:
    """An event stream for ``request``: ``async with sse_response(request) as sse:``.

    The stream is prepared on entry and stopped (and waited for) on exit.
    """
    if not (isinstance(response_cls, type) and issubclass(response_cls, EventSourceResponse)):
        raise TypeError(
            f"response_cls must be subclass of squall.sse.EventSourceResponse, got {response_cls}"
        )
    response = response_cls(
        status=status,
        reason=reason,
        headers=headers,
        sep=sep,
        allow_all_methods=allow_all_methods,
        send_timeout=send_timeout,
        ping_interval=ping_interval,
    )
    return _SSEContext(response, request)
