"""The seams between the server and the framework, as typed Protocols.

The server (``squall.server``) hands each parsed request to a
:class:`ConnectionHandler` together with a :class:`BodySource` (the request body,
read on demand) and a :class:`ResponseSink` (where the response goes). The framework
(``squall.framework``) implements the handler and never touches a transport; the
server implements the source and the sink and never sees an ``Application``.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any, Protocol

RawHeaders = Sequence[tuple[bytes, bytes]]


class RequestHead(Protocol):
    """What the wire told us about one request, before its body."""

    @property
    def method(self) -> str: ...
    @property
    def target(self) -> str:
        """The request-target as sent: percent-encoded path and query."""
        ...

    @property
    def version(self) -> tuple[int, int]: ...
    @property
    def raw_headers(self) -> RawHeaders: ...
    @property
    def keep_alive(self) -> bool:
        """What the client asked for (HTTP version and Connection)."""
        ...

    @property
    def upgrade(self) -> bool:
        """The request asked to switch protocols (Upgrade header or CONNECT)."""
        ...

    @property
    def chunked(self) -> bool: ...
    @property
    def content_length(self) -> int | None: ...
    @property
    def host(self) -> str | None: ...
    @property
    def expect_continue(self) -> bool: ...
    @property
    def expect(self) -> bool:
        """True when the head carries an ``Expect`` field, whatever its value."""
        ...

    @property
    def coded(self) -> bool:
        """True when the head carries a ``Content-Encoding`` field (the body may
        need decoding); False lets the request skip looking for one."""
        ...


class BodySource(Protocol):
    """The request body, pulled by the consumer; bounded buffering underneath."""

    async def read(self, n: int = -1) -> bytes:
        """Return up to ``n`` bytes (all that is left if ``n < 0``); b"" at the end."""
        ...

    async def readany(self) -> bytes:
        """Return whatever is buffered, waiting for at least one byte; b"" at the end."""
        ...

    def at_eof(self) -> bool:
        """True when the whole body has arrived and been consumed."""
        ...

    def is_complete(self) -> bool:
        """True when the whole body has arrived (consumed or not)."""
        ...

    @property
    def received(self) -> int:
        """Bytes of body received from the wire so far."""
        ...


class ResponseSink(Protocol):
    """Where the framework writes a response; the server frames it for the wire."""

    def send_response(
        self,
        version: tuple[int, int],
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        body: bytes,
        keep_alive: bool | None,
    ) -> None:
        """Write a whole response (head and body) in one go.

        ``keep_alive=False`` closes the connection after it; None leaves the
        choice to the connection (the client's wish, the body, shutdown), which
        also adds the ``Connection`` header when one is due.
        """
        ...

    def send_simple(
        self,
        version: tuple[int, int],
        status: int,
        reason: str,
        content_type: str | None,
        body: bytes,
        head_only: bool,
        keep_alive: bool | None,
        extra: Sequence[tuple[str, str]] = (),
        cookies: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Write a whole response whose only headers are Content-Type and -Length
        (plus Date, Server and Connection), the ``extra`` fields that frame nothing
        before the length and the ``cookies`` fields after it (aiohttp's order);
        ``head_only`` leaves the body out (HEAD)."""
        ...

    def start_response(
        self,
        version: tuple[int, int],
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        chunked: bool,
        keep_alive: bool | None,
    ) -> None:
        """Write a response head; the body follows through :meth:`send_body`."""
        ...

    def send_body(self, data: bytes) -> None:
        """Write part of the body started by :meth:`start_response`."""
        ...

    def end_response(self) -> None:
        """Finish the body started by :meth:`start_response`."""
        ...

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its high-water mark."""
        ...

    @property
    def bytes_sent(self) -> int:
        """Bytes of the current response handed to the transport so far."""
        ...

    def sent_directly(self, size: int) -> None:
        """Count ``size`` body bytes written to the socket past the transport
        (sendfile(2) once the transport's buffer is empty) in :attr:`bytes_sent`."""
        ...

    @property
    def closing(self) -> bool:
        """True when the connection will close after the current response."""
        ...

    @property
    def will_close(self) -> bool:
        """True when the response already sent ends the connection."""
        ...

    @property
    def peer_closed(self) -> bool:
        """True once the client closed its side of the connection (its FIN arrived);
        the write side may still be open to answer what it sent."""
        ...

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Transport information: ``peername``, ``sockname``, ``sslcontext``…"""
        ...

    def hand_over(self, protocol: Any) -> None:
        """Give the connection to ``protocol`` (an ``asyncio.Protocol``) once a
        ``101 Switching Protocols`` head has been started: the upgrade hand-off."""
        ...

    @property
    def transport(self) -> Any:
        """The underlying transport (for plugins that insist on it), or None if closed."""
        ...

    def skip_continue(self) -> None:
        """The route's own expect handler took charge of ``Expect: 100-continue``
        (aiohttp's contract: it writes the ``100 Continue`` itself, or not at all):
        the server sends none of its own for the current request."""
        ...

    @property
    def task(self) -> Any:
        """The ``asyncio.Task`` running the current request's handler, or None."""
        ...


class ConnectionHandler(Protocol):
    """Answer one request; the coroutine returns when the response is complete."""

    def __call__(
        self, head: RequestHead, body: BodySource, sink: ResponseSink
    ) -> Coroutine[Any, Any, None]: ...


class BodyTimeoutError(TimeoutError):
    """The client stopped sending a request body for longer than the server allows."""


class ClientDisconnectedError(ConnectionResetError):
    """The client went away before the request or response was finished."""


class PayloadAccessError(Exception):
    """The request body was read after the response was sent: the server dropped
    what had not arrived by then (aiohttp's ``web.PayloadAccessError``)."""


class MalformedBodyError(ValueError):
    """The request body broke the framing rules (a bad chunk, oversized trailers);
    ``status`` is the answer the request gets: 400, or 431 for trailers too large."""

    def __init__(self, message: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.status = status
