"""Request parsing: llhttp (through httptools) plus the checks llhttp leaves to us.

llhttp already rejects what RFC 9112 says a server MUST reject in framing:
Content-Length together with Transfer-Encoding, duplicate Content-Length, bad
chunk sizes, obs-fold, control characters, bare LF line ends. This adapter adds
the limits (request-target length, header field size, header count, total head
size), the version check and the Host rules, and turns the callbacks into three
calls on a listener: ``on_head``, ``on_body`` and ``on_complete``.

Invariants:
- A listener never sees a head that failed a check: every check runs before
  ``on_head`` is called.
- After a ProtocolError the parser is dead; the caller closes the connection.
- Memory per connection is bounded while a head is incomplete: by
  ``max_head_size`` plus one ``feed`` chunk.
"""

from __future__ import annotations

from typing import Protocol

import httptools

from squall.h1.errors import ProtocolError
from squall.http.version import HttpVersion10, HttpVersion11


class RequestHead:
    """One request's head, as parsed; satisfies ``squall.typedefs.RequestHead``."""

    __slots__ = (
        "chunked",
        "content_length",
        "expect_continue",
        "host",
        "keep_alive",
        "method",
        "raw_headers",
        "target",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        method: str,
        target: str,
        version: tuple[int, int],
        raw_headers: list[tuple[bytes, bytes]],
        keep_alive: bool = True,
        upgrade: bool = False,
        chunked: bool = False,
        content_length: int | None = None,
        host: str | None = None,
        expect_continue: bool = False,
    ) -> None:  # PERF: positional, in this order, on the hot path
        self.method = method
        self.target = target
        self.version = version
        self.raw_headers = raw_headers
        self.keep_alive = keep_alive
        self.upgrade = upgrade
        self.chunked = chunked
        self.content_length = content_length
        self.host = host
        self.expect_continue = expect_continue

    def __repr__(self) -> str:
        return f"<RequestHead {self.method} {self.target} HTTP/{self.version[0]}.{self.version[1]}>"


class BodyFeed(Protocol):
    """Where the parser puts one request's body bytes."""

    def feed(self, data: bytes) -> None: ...

    def feed_eof(self) -> None: ...


class ParserListener(Protocol):
    """Receives each head; returns where its body goes (None: drop it)."""

    def on_head(self, head: RequestHead) -> BodyFeed | None: ...


_new_head = object.__new__
# lengths of host, expect, upgrade, connection, content-length, transfer-encoding
_SPECIAL_LENGTHS = frozenset((4, 6, 7, 10, 14, 17))
_VERSIONS = {"1.1": HttpVersion11, "1.0": HttpVersion10}
# PERF: decoding the method with a dict hit instead of bytes.decode per request.
_METHODS = {
    m.encode(): m
    for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE")
}


class RequestParser:
    """Feed bytes in; heads, body chunks and completions come out through a listener."""

    __slots__ = (
        "_after_chunk_header",
        "_chunked",
        "_connection",
        "_content_length",
        "_expect",
        "_field_bytes",
        "_head_bytes",
        "_headers",
        "_host",
        "_host_count",
        "_in_head",
        "_listener",
        "_max_field_size",
        "_max_head_size",
        "_max_headers",
        "_max_line_size",
        "_parser",
        "_pending_error",
        "_special",
        "_stream",
        "_te",
        "_trailers",
        "_upgrade",
        "_upgrade_body_left",
        "_url",
        "upgraded",
    )

    def __init__(
        self,
        listener: ParserListener,
        *,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_head_size: int = 256 * 1024,
    ) -> None:
        self._listener = listener
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._max_head_size = max_head_size
        self._parser = httptools.HttpRequestParser(self)
        self._pending_error: ProtocolError | None = None
        self._in_head = False
        self._head_bytes = 0
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._host: bytes | None = None
        self._host_count = 0
        self._expect = False
        self._chunked = False
        self._content_length: int | None = None
        self._stream: BodyFeed | None = None
        self._upgrade = False
        self._trailers = 0
        self._te = b""
        self._special = False
        self._connection = False
        self._upgrade_body_left = 0
        self._field_bytes = 0
        self._after_chunk_header = False
        self.upgraded = False

    @property
    def in_head(self) -> bool:
        """True while a request head has started but not finished arriving."""
        return self._in_head

    def feed(self, data: bytes) -> bytes | None:
        """Parse ``data``; return the bytes after an upgrade's head, else None.

        Raises ProtocolError on bad input.
        """
        if self._upgrade_body_left:
            return self._feed_upgrade_body(data)
        in_trailers = self._after_chunk_header
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.upgraded = True
            offset = exc.args[0] if exc.args else len(data)
            if self._upgrade_body_left:
                return self._feed_upgrade_body(data[offset:])
            return data[offset:]
        except httptools.HttpParserCallbackError as exc:
            if self._pending_error is not None:
                raise self._pending_error from None
            raise ProtocolError(400, "Bad Request") from exc.__context__
        except httptools.HttpParserInvalidURLError:
            raise ProtocolError(400, "Invalid request target") from None
        except httptools.HttpParserInvalidMethodError:
            raise ProtocolError(400, "Invalid method") from None
        except httptools.HttpParserError as exc:
            raise ProtocolError(400, _short(exc)) from None
        if self._in_head or (in_trailers and self._after_chunk_header):
            # SECURITY: llhttp hands us a header only when its line ends, and
            # httptools buffers it until then: bound what a head (or a trailer
            # section: bytes after a chunk-size line and no chunk data) may hold.
            self._head_bytes += len(data)
            if self._head_bytes > self._max_head_size:
                raise ProtocolError(431, "Request header fields too large")
        return None

    def _feed_upgrade_body(self, data: bytes) -> bytes | None:
        """The body of an upgrade request that llhttp passed over (RFC 9110 7.8 lets
        the server ignore the upgrade, and the handler may want the body): its
        Content-Length bytes go to the body stream; what follows is the tail."""
        left = self._upgrade_body_left
        part = data[:left]
        left -= len(part)
        self._upgrade_body_left = left
        stream = self._stream
        if stream is not None:
            if part:
                stream.feed(part)
            if not left:
                stream.feed_eof()
                self._stream = None
        return data[len(part) :] if not left else None

    # -- httptools callbacks -------------------------------------------------
    # PERF: these run for every request; they keep to attribute stores and no
    # more calls than llhttp makes.

    def on_message_begin(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._field_bytes = 0
        self._url = b""
        self._headers = []
        self._host = None
        self._host_count = 0
        if self._special:  # PERF: the rare fields are reset only after a head set one
            self._special = False
            self._te = b""
            self._expect = False
            self._chunked = False
            self._upgrade = False
            self._content_length = None
            self._trailers = 0
            self._connection = False

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self._max_line_size:
            self._fail(414, "Request-URI too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._in_head:
            self._on_trailer(name, value)
            return
        length = len(name)
        vlength = len(value)
        # a whole head can come in one read: count what it holds, not only what
        # is still arriving (feed()); the count of fields is checked at its end
        size = self._field_bytes + length + vlength + 4
        self._field_bytes = size
        limit = self._max_field_size
        if length > limit or vlength > limit or size > self._max_head_size:
            self._fail(431, "Request header field too large")
        self._headers.append((name, value))
        if length in _SPECIAL_LENGTHS:
            lname = name.lower()
            if lname == b"host":
                self._host = value
                self._host_count += 1
                return
            self._special = True
            if lname == b"connection":
                self._connection = True
            elif lname == b"expect":
                self._expect = value.lower() == b"100-continue"
            elif lname == b"content-length":
                self._content_length = int(value)  # llhttp checked the digits
            elif lname == b"transfer-encoding":
                self._chunked = True
                self._te = value
            elif lname == b"upgrade":
                self._upgrade = True

    def _on_trailer(self, name: bytes, value: bytes) -> None:
        """A trailer field after a chunked body (RFC 9112 7.1.2): dropped, as aiohttp
        drops them, but counted and bounded so that a body cannot hide a flood."""
        limit = self._max_field_size
        if len(name) > limit or len(value) > limit:
            self._fail(431, "Request header field too large")
        self._special = True
        self._trailers += 1
        if self._trailers > self._max_headers:
            self._fail(431, "Too many trailer fields")

    def on_headers_complete(self) -> None:
        self._in_head = False
        if len(self._headers) > self._max_headers:
            self._fail(431, "Too many request header fields")
        parser = self._parser
        keep_alive = parser.should_keep_alive()
        if keep_alive and not self._connection:
            # PERF: llhttp keeps an HTTP/1.x (x >= 1) connection alive unless told
            # otherwise; with no Connection field that settles the version without
            # get_http_version(), which formats a string (a quarter of a µs).
            version = HttpVersion11
        else:
            version = _VERSIONS.get(parser.get_http_version())  # type: ignore[assignment]
            if version is None:
                self._fail(505, "HTTP version not supported")
        if self._chunked:
            codings = self._te.strip().lower()
            if codings.rpartition(b",")[2].strip() != b"chunked":
                # RFC 9112 6.3: chunked must be the final coding, else 400. llhttp
                # says so too, but only after this callback has handed the head on.
                self._fail(400, "Transfer-Encoding must end with chunked")
            if codings != b"chunked":
                # RFC 9112 6.1: a coding this server does not implement (gzip,
                # chunked) is a 501; passing the coded bytes on would be wrong.
                self._fail(501, "Transfer-Encoding not implemented")
        if self._host_count != 1:
            if self._host_count > 1:
                # RFC 9112 3.2: more than one Host field line is a 400.
                self._fail(400, "Duplicate Host header")
            if version == (1, 1):
                # RFC 9112 3.2: an HTTP/1.1 request without Host is a 400.
                self._fail(400, "Missing Host header")
            host = None
        else:
            host = self._host.decode("utf-8", "surrogateescape")  # type: ignore[union-attr]
        raw_method = parser.get_method()
        method = _METHODS.get(raw_method) or raw_method.decode("ascii", "replace")
        # PERF: llhttp only flags an upgrade for CONNECT or an Upgrade header
        upgrade = (self._upgrade or method == "CONNECT") and parser.should_upgrade()
        if upgrade and method != "CONNECT" and (self._chunked or self._content_length):
            # llhttp skips the body of an upgrade request: take it from the bytes after
            # the head instead (see _feed_upgrade_body)
            if self._chunked:
                self._fail(400, "Upgrade request with a chunked body")
            self._upgrade_body_left = self._content_length or 0
        head = _new_head(RequestHead)  # PERF: the slots filled here, no __init__ frame
        head.method = method
        head.target = self._url.decode("utf-8", "surrogateescape")
        head.version = version
        head.raw_headers = self._headers
        # RFC 9112 6.1: HTTP/1.0 with Transfer-Encoding closes after it
        head.keep_alive = keep_alive and not (self._chunked and version == (1, 0))
        head.upgrade = upgrade
        head.chunked = self._chunked
        head.content_length = self._content_length
        head.host = host
        head.expect_continue = self._expect
        self._stream = self._listener.on_head(head)

    def on_chunk_header(self) -> None:
        self._after_chunk_header = True
        self._head_bytes = 0

    def on_body(self, body: bytes) -> None:
        self._after_chunk_header = False
        if self._stream is not None:
            self._stream.feed(body)

    def on_message_complete(self) -> None:
        self._after_chunk_header = False
        if self._stream is not None and not self._upgrade_body_left:
            self._stream.feed_eof()
            self._stream = None

    def _fail(self, status: int, message: str) -> None:
        self._pending_error = ProtocolError(status, message)
        raise self._pending_error


def _short(exc: Exception) -> str:
    text = str(exc) or "Bad Request"
    return text.replace("`", "")[:80]
