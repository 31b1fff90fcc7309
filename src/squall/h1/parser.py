"""Request parsing: llhttp (through httptools) plus the checks llhttp leaves to us.

llhttp already rejects what RFC 9112 says a server MUST reject in framing:
Content-Length together with Transfer-Encoding (on any lines), duplicate
Content-Length, bad chunk sizes, obs-fold, control characters, bare LF line
ends, an empty Transfer-Encoding, any coding after ``chunked``. This adapter
adds the limits (request-target length, header field size, header count, total
head size, the same for trailers), the version check, the Host rules and the
Transfer-Encoding rules llhttp applies too late (after the head has been handed
on) or not at all, and turns the callbacks into calls on a listener.

Invariants:
- A listener never sees a head that failed a check: every check runs before
  ``on_head`` is called.
- After a ProtocolError the parser is dead; the caller closes the connection.
- Memory per connection is bounded while a head or a trailer section is
  incomplete: each field is sized as it ends (``max_field_size``, and all of
  them ``max_head_size``), after any read they are at most ``max_headers``, and
  the bytes of a field still arriving are at most ``max_head_size`` plus one
  ``feed`` chunk.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NoReturn, Protocol

import httptools

from squall.h1.errors import ProtocolError
from squall.http.version import HttpVersion10, HttpVersion11


class RequestHead:
    """One request's head, as parsed; satisfies ``squall.typedefs.RequestHead``."""

    __slots__ = (
        "chunked",
        "coded",
        "content_length",
        "expect",
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
        expect: bool = False,
        coded: bool = False,
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
        self.expect = expect or expect_continue  # an Expect field was sent
        self.coded = coded  # a Content-Encoding field was sent

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
# lengths of host, expect, upgrade, connection, content-length, content-encoding,
# transfer-encoding
_SPECIAL_LENGTHS = frozenset((4, 6, 7, 10, 14, 16, 17))
_VERSIONS = {"1.1": HttpVersion11, "1.0": HttpVersion10}
_H2_PREFACE = "Pause on PRI/Upgrade"  # llhttp's HPE_PAUSED_H2_UPGRADE
# RFC 9110 7.2 / RFC 3986 3.2.2-3.2.3: uri-host [ ":" port ]; uri-host an IP-literal
# (checked again by ipaddress) or a reg-name (an IPv4 address is one too).
# IPvFuture and RFC 6874 zone ids are refused: no client sends them in Host.
_HOST = re.compile(
    rb"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)"
    rb"(?::(?P<port>[0-9]*))?"
)
# PERF: Host values checked and decoded once per process (a server is mostly
# asked for a handful). SECURITY: bounded in number and length; when full it
# starts over, so a client sending many names only costs the check again.
_HOSTS: dict[bytes, str] = {}
_HOSTS_MAX = 256
_HOST_CACHED_LENGTH = 255  # RFC 1035 2.3.4: a longer domain name is not one
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
        "_coded",
        "_connection",
        "_content_length",
        "_expect",
        "_expect_field",
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
        "_trailer_bytes",
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
        self._expect_field = False
        self._chunked = False
        self._coded = False
        self._content_length: int | None = None
        self._stream: BodyFeed | None = None
        self._upgrade = False
        self._trailers = 0
        self._trailer_bytes = 0
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
        # PERF: a try block costs nothing until something is raised (Python 3.11)
        try:
            if self._upgrade_body_left:
                return self._feed_upgrade_body(data)
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
                text = _short(exc)
                if text == _H2_PREFACE:
                    # llhttp stops at HTTP/2's connection preface (RFC 9113 3.4):
                    # a version this server does not speak
                    raise ProtocolError(505, "HTTP version not supported") from None
                raise ProtocolError(400, text) from None
            if self._in_head or self._after_chunk_header:
                # SECURITY: llhttp hands us a field only when its line ends, and
                # httptools buffers it until then: bound what a head, or a trailer
                # section (after a chunk-size line, before any chunk data), may hold
                # while it arrives. Only reads that were wholly inside one are
                # counted: a read where it began also holds the bytes before it (the
                # body of the request before, chunks of this body), and the part
                # after is at most one read.
                counted = self._head_bytes
                if counted < 0:  # began in this read (on_message_begin, on_chunk_header)
                    self._head_bytes = 0
                else:
                    counted += len(data)
                    self._head_bytes = counted
                    if counted > self._max_head_size:
                        raise ProtocolError(431, "Request header fields too large")
                if self._in_head and len(self._headers) > self._max_headers:
                    # SECURITY: a head that never ends must not collect fields until
                    # head_timeout: after any read it holds at most max_headers.
                    # PERF: checked here and when the head ends, not per field.
                    raise ProtocolError(431, "Too many request header fields")
            return None
        except ProtocolError as exc:
            # RFC 9110 9.3.2: the refusal of a HEAD request is a head alone; the
            # method is this request's once its target has begun (on_url)
            exc.head_only = self._url != b"" and self._parser.get_method() == b"HEAD"
            raise

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
        self._head_bytes = -1  # began in this read (see feed)
        self._field_bytes = 0
        self._url = b""
        self._headers = []
        self._host = None
        self._host_count = 0
        if self._special:  # PERF: the rare fields are reset only after a head set one
            self._special = False
            self._te = b""
            self._expect = False
            self._expect_field = False
            self._chunked = False
            self._coded = False
            self._upgrade = False
            self._content_length = None
            self._trailers = 0
            self._trailer_bytes = 0
            self._connection = False

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self._max_line_size:
            self._fail(414, "Request-URI too long")

    def on_header(self, name: bytes, raw: bytes) -> None:
        if not self._in_head:
            self._on_trailer(name, raw)
            return
        length = len(name)
        vlength = len(raw)
        # SECURITY: a whole head can come in one read: size each field as it
        # ends, not only the bytes still arriving (feed()). The count of fields
        # is checked after each read and when the head ends.
        size = self._field_bytes + length + vlength + 4
        self._field_bytes = size
        limit = self._max_field_size
        if length > limit or vlength > limit or size > self._max_head_size:
            self._fail(431, "Request header field too large")
        # RFC 9110 5.5: OWS around a field value is not part of it; llhttp drops
        # the leading OWS only. PERF: rstrip returns the same object when there
        # is nothing to strip, cheaper than testing the last byte first.
        value = raw.rstrip(b" \t")
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
                # the first non-empty line counts, as headers.get() reads it; an
                # empty one expects nothing (RFC 9110 10.1.1), as aiohttp ignores it
                if value and not self._expect_field:
                    self._expect = value.lower() == b"100-continue"
                    self._expect_field = True
            elif lname == b"content-length":
                self._content_length = int(value)  # llhttp checked the digits
            elif lname == b"transfer-encoding":
                # RFC 9110 5.3: field lines of one name combine, in order, into
                # one list (``gzip`` then ``chunked`` is ``gzip, chunked``). The
                # raw value: llhttp takes ``chunked<TAB>`` for another coding.
                self._te = self._te + b"," + raw if self._chunked else raw
                self._chunked = True
            elif lname == b"upgrade":
                self._upgrade = True
            elif lname == b"content-encoding":
                self._coded = True  # PERF: the request reads the field only then

    def _on_trailer(self, name: bytes, value: bytes) -> None:
        """A trailer field after a chunked body (RFC 9112 7.1.2): dropped, as aiohttp
        drops them, but counted and bounded like head fields so that a body cannot
        hide a flood."""
        limit = self._max_field_size
        length = len(name)
        vlength = len(value)
        self._special = True
        self._trailer_bytes += length + vlength + 4
        if length > limit or vlength > limit or self._trailer_bytes > self._max_head_size:
            self._fail(431, "Request trailer field too large")
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
        if self._chunked and self._te != b"chunked":
            refusal = transfer_coding_refusal(self._te)
            if refusal is not None:
                self._fail(*refusal)
        if self._host_count != 1:
            if self._host_count > 1:
                # RFC 9112 3.2: more than one Host field line is a 400.
                self._fail(400, "Duplicate Host header")
            if version == (1, 1):
                # RFC 9112 3.2: an HTTP/1.1 request without Host is a 400.
                self._fail(400, "Missing Host header")
            host = None
        else:
            host = _HOSTS.get(self._host)  # type: ignore[arg-type]
            if host is None:
                host = _check_host(self._host)  # type: ignore[arg-type]
                if host is None:
                    # RFC 9112 3.2: a Host field with an invalid value is a 400
                    self._fail(400, "Invalid Host header")
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
        head.expect = self._expect_field
        head.coded = self._coded
        self._stream = self._listener.on_head(head)

    def on_chunk_header(self) -> None:
        # a chunk-size line has ended: chunk data or, after the last chunk, a
        # trailer section follows; llhttp does not say which (see feed)
        self._after_chunk_header = True
        self._head_bytes = -1

    def on_body(self, body: bytes) -> None:
        self._after_chunk_header = False
        if self._stream is not None:
            self._stream.feed(body)

    def on_message_complete(self) -> None:
        self._after_chunk_header = False
        if self._stream is not None and not self._upgrade_body_left:
            self._stream.feed_eof()
            self._stream = None

    def _fail(self, status: int, message: str) -> NoReturn:
        self._pending_error = ProtocolError(status, message)
        raise self._pending_error


def _check_host(raw: bytes) -> str | None:
    """``raw`` decoded if it is a valid Host value (and remembered), else None."""
    match = _HOST.fullmatch(raw)
    if match is None:
        return None
    ip6, port = match.group("ip6", "port")
    if port and int(port) > 65535:
        return None
    if ip6 is not None:
        try:
            ipaddress.IPv6Address(ip6.decode("ascii"))
        except ValueError:
            return None
    host = raw.decode("ascii")
    if len(raw) <= _HOST_CACHED_LENGTH:
        if len(_HOSTS) >= _HOSTS_MAX:
            _HOSTS.clear()
        _HOSTS[raw] = host
    return host


def transfer_coding_refusal(value: bytes) -> tuple[int, str] | None:
    """Why a request's Transfer-Encoding (its field lines joined with commas) is
    refused, as (status, message); None when it is ``chunked`` alone, the one
    coding this server decodes.

    RFC 9112 walked in order, each rule over the whole list:
    - 6.1 and RFC 9110 5.6.1: a list of transfer codings, split on commas. An
      empty element is refused, though 5.6.1 lets a recipient skip it: llhttp
      and an intermediary may disagree on what ``, chunked`` frames.
    - 6.3 rule 4: when chunked is not the final coding the body length cannot be
      known: 400. llhttp says so too, but only after the head has been handed on.
    - 6.1: chunked is applied at most once (llhttp refuses a second one too).
    - 6.1: a coding the server does not implement (``gzip, chunked``) SHOULD get
      501; passing the still-coded bytes on as the body would be wrong.
    Only spaces count as whitespace around a coding: llhttp takes ``chunked``
    followed by a tab for an unknown coding, and the two must agree.
    """
    codings = [coding.strip(b" ").lower() for coding in value.split(b",")]
    if b"" in codings:
        return 400, "Malformed Transfer-Encoding"
    if codings[-1] != b"chunked":
        return 400, "Transfer-Encoding must end with chunked"
    if codings.count(b"chunked") > 1:
        return 400, "Transfer-Encoding applies chunked twice"
    if len(codings) > 1:
        return 501, "Transfer-Encoding not implemented"
    return None


def _short(exc: Exception) -> str:
    text = str(exc) or "Bad Request"
    return text.replace("`", "")[:80]
