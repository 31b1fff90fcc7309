"""``StreamResponse``: a response whose body is written piece by piece.

A response never touches a transport: it renders its head as a list of
(name, value) pairs and hands head and body to the request's ResponseSink.
``StreamResponse`` sends its head at ``prepare()`` and its body piece by piece;
``Response`` (``response.py``) goes out in one ``send_response`` call.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator, Mapping, MutableMapping
from concurrent.futures import Executor
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, TypeVar

from multidict import CIMultiDict

from squall.framework.compression import (
    OFFERED,
    Compressor,
    ContentCoding,
    add_vary,
    make_compressor,
    run_compressor,
)
from squall.framework.keys import TypedKey
from squall.http import hdrs
from squall.http.connection import asks_close
from squall.http.cookies import plain_set_cookie, set_morsel
from squall.http.dates import format_http_date, http_date_now, parse_http_date
from squall.http.encoding import IDENTITY, choose_coding
from squall.http.etag import ETag
from squall.http.mediatype import parse_content_type
from squall.http.product import SERVER_SOFTWARE
from squall.http.status import REASONS as _REASONS
from squall.http.status import bodiless_status, body_forbidden, reason_for
from squall.typedefs import ResponseSink

if TYPE_CHECKING:
    from squall.framework.request import BaseRequest


_T = TypeVar("_T")
_CONTENT_TYPE = hdrs.CONTENT_TYPE
_CONTENT_LENGTH = hdrs.CONTENT_LENGTH
_SET_COOKIE = hdrs.SET_COOKIE

# RFC 9110 8.8.3: etagc = %x21 / %x23-7E / obs-text (one byte each on the wire: %x80-FF)
_ETAGC = r"[!\x23-\x7e\x80-\xff]+"
_ETAG_VALUE = re.compile(_ETAGC)
_QUOTED_ETAG = re.compile(rf'(W/)?"({_ETAGC})"')


class ResponseKey(TypedKey[_T]):
    """A typed key for the response's own mapping (``resp[key]``).

    Its name is prefixed with the module that creates it, as aiohttp's keys are,
    so that two libraries' keys of one name tell apart in a repr.
    """

    __slots__ = ()


def _check_status(status: int) -> None:
    """Refuse a status no status line can carry (the client gets a 500).

    SECURITY: outside 100-599 the status line is invalid (RFC 9112 4); aiohttp
    sends it. A 1xx is sent as aiohttp sends it, and the engine closes the
    connection after it (``HttpProtocol.start_response``): a client reads a 1xx
    as interim, so a later response on the connection would be paired with the
    wrong request.
    """
    raise ValueError(f"Status {status} cannot be sent as a response")


class StreamResponse(MutableMapping[Any, Any]):
    """A response whose body is written piece by piece after ``prepare()``."""

    _length_check = True
    # PERF: defaults on the class; an instance stores only what differs.
    _hdrs: CIMultiDict[str] | None = None
    _lazy_ctype: str | None = None
    _cookies: SimpleCookie | None = None
    # cookies set while there is no jar, by name: the Set-Cookie value and the
    # arguments (to build their Morsels if someone asks for the jar); see set_cookie
    _plain_cookies: dict[str, tuple[str, tuple[Any, ...]]] | None = None
    _state: dict[Any, Any] | None = None
    _req: BaseRequest | None = None
    _sink: ResponseSink | None = None
    _keep_alive: bool | None = None
    _chunked = False  # enable_chunked_encoding() was called
    _wire_chunked = False  # the body goes out in chunks (decided by _head_items)
    _eof_sent = False
    _body_length = 0
    _limit: int | None = None  # the declared Content-Length of a prepared response
    _compression = False  # enable_compression() was called (or see Response._set_stream)
    _compression_routing = False  # _compression set only to route a streamed body
    _compression_force: ContentCoding | None = None
    _compression_strategy: int | None = None
    _compressor: Compressor | None = None  # the body is being compressed on its way
    _coded = False  # the content coding of a whole body has been decided (Response)
    _zlib_executor_size: int | None = 4096  # aiohttp's threshold (bytes) for the executor
    _zlib_executor: Executor | None = None

    def __init__(
        self,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        # PERF: most responses never have their headers touched by the handler;
        # they stay None (with a lazily held Content-Type) until someone asks.
        if headers is not None:
            # always a copy: the response adds its own fields (Content-Length,
            # Set-Cookie...), which must not leak into a mapping the caller reuses
            self._hdrs = CIMultiDict(headers)
        if reason is None and type(status) is int:
            self._status = status
            self._reason = _REASONS.get(status, "")
        else:
            self.set_status(status, reason)

    # -- status ------------------------------------------------------------

    @property
    def status(self) -> int:
        return self._status

    @property
    def reason(self) -> str:
        return self._reason

    def set_status(self, status: int, reason: str | None = None) -> None:
        """Set the status code and (optionally) the reason phrase."""
        if self._sink is not None:
            raise RuntimeError(
                "Cannot change the response status code after the headers have been sent"
            )
        self._status = int(status)
        if reason is None:
            reason = reason_for(self._status)
        elif "\n" in reason or "\r" in reason:
            raise ValueError("Reason cannot contain \\r or \\n")
        self._reason = reason

    # -- headers -----------------------------------------------------------

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def _headers(self) -> CIMultiDict[str]:
        hdrs_ = self._hdrs
        if hdrs_ is None:
            hdrs_ = self._hdrs = CIMultiDict()
            if self._lazy_ctype is not None:
                hdrs_[_CONTENT_TYPE] = self._lazy_ctype
                self._lazy_ctype = None
        return hdrs_

    @property
    def prepared(self) -> bool:
        return self._sink is not None or self._eof_sent

    @property
    def keep_alive(self) -> bool | None:
        if self._keep_alive is None and self._req is not None:
            # once the head is out the connection has decided (as aiohttp says after prepare)
            return not self._req._sink.will_close
        return self._keep_alive

    @property
    def output_length(self) -> int:
        """Bytes written for this response so far, head included (deprecated on
        aiohttp too); 0 before ``prepare()``."""
        warnings.warn("output_length is deprecated", DeprecationWarning, stacklevel=2)
        return 0 if self._req is None else self._req._sink.bytes_sent

    def force_close(self) -> None:
        """Close the connection after this response."""
        self._keep_alive = False

    @property
    def task(self) -> Any:
        """The ``asyncio.Task`` answering the request this response was prepared for."""
        return self._req.task if self._req is not None else None

    @property
    def compression(self) -> bool:
        return self._compression

    def enable_compression(
        self, force: bool | ContentCoding | None = None, strategy: int | None = None
    ) -> None:
        """Compress the body with the best coding the client accepts, or ``force``'s.

        ``strategy`` is zlib's (``zlib.Z_FILTERED``…), for gzip and deflate.
        """
        if isinstance(force, bool):  # aiohttp < 0.17's form, deprecated there too
            force = ContentCoding.deflate if force else ContentCoding.identity
            warnings.warn(
                "Using boolean for force is deprecated #3318", DeprecationWarning, stacklevel=2
            )
        elif force is not None and not isinstance(force, ContentCoding):
            raise TypeError("force should one of None, bool or ContentEncoding")
        self._headers  # noqa: B018 - PERF: leaves Response's four-line fast path
        self._compression = True
        self._compression_routing = False
        self._compression_force = force
        self._compression_strategy = strategy

    def _choose_coding(self, request: BaseRequest) -> ContentCoding | None:
        """The coding this response goes out with, None for none (RFC 9110 12.5.3).

        A response the handler already encoded (its own Content-Encoding), or one
        whose status has no body (1xx, 204, 304), is left alone. Unless forced, the
        answer depends on the request's Accept-Encoding, which the Vary field tells
        caches. HEAD gets the coding a GET would (RFC 9110 8.6, 9.3.2: the same
        Content-Encoding and Vary, a Content-Length only if it is the coded one).
        """
        headers = self._headers
        status = self._status
        if (
            hdrs.CONTENT_ENCODING in headers
            or bodiless_status(request.method, status)
            or status == 205
        ):
            return None
        force = self._compression_force
        if force is not None:
            return None if force is ContentCoding.identity else force
        headers[hdrs.VARY] = add_vary(headers.get(hdrs.VARY), hdrs.ACCEPT_ENCODING)
        coding = choose_coding(request.headers.get(hdrs.ACCEPT_ENCODING), OFFERED)
        return None if coding == IDENTITY else ContentCoding(coding)

    def _start_compression(self, request: BaseRequest) -> None:
        """Set up the streaming compressor: the length is unknown from here on."""
        coding = self._choose_coding(request)
        if coding is None:
            return
        self._compressor = make_compressor(coding, self._compression_strategy)
        self._headers[hdrs.CONTENT_ENCODING] = coding.value
        self._headers.popall(_CONTENT_LENGTH, None)

    @property
    def chunked(self) -> bool:
        return self._chunked

    def enable_chunked_encoding(self, chunk_size: int | None = None) -> None:
        """Send the body with chunked transfer coding (HTTP/1.1 only)."""
        if _CONTENT_LENGTH in self._headers:
            raise RuntimeError("You can't enable chunked encoding when a content length is set")
        if chunk_size is not None:  # ignored, as on aiohttp
            warnings.warn("Chunk size is deprecated #1615", DeprecationWarning, stacklevel=2)
        self._chunked = True

    @property
    def body_length(self) -> int:
        return self._body_length

    @property
    def content_length(self) -> int | None:
        value = self._headers.get(_CONTENT_LENGTH)
        return int(value) if value is not None else None

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is not None:
            value = int(value)
            if self._chunked:
                raise RuntimeError("You can't set content length when chunked encoding is enable")
            self._headers[_CONTENT_LENGTH] = str(value)
        else:
            self._headers.pop(_CONTENT_LENGTH, None)

    @property
    def content_type(self) -> str:
        return parse_content_type(self._headers.get(_CONTENT_TYPE, ""))[0]

    @content_type.setter
    def content_type(self, value: str) -> None:
        params = parse_content_type(self._headers.get(_CONTENT_TYPE, ""))[1]
        self._set_content_type(str(value), params)

    @property
    def charset(self) -> str | None:
        return parse_content_type(self._headers.get(_CONTENT_TYPE, ""))[1].get("charset")

    @charset.setter
    def charset(self, value: str | None) -> None:
        ctype, params = parse_content_type(self._headers.get(_CONTENT_TYPE, ""))
        if ctype == "application/octet-stream":
            raise RuntimeError(
                "Setting charset for application/octet-stream doesn't make sense, "
                "setup content_type first"
            )
        if value is None:
            params.pop("charset", None)
        else:
            params["charset"] = str(value).lower()
        self._set_content_type(ctype, params)

    def _set_content_type(self, ctype: str, params: dict[str, str]) -> None:
        if params:
            ctype += "; " + "; ".join(f"{k}={v}" for k, v in params.items())
        self._headers[_CONTENT_TYPE] = ctype

    @property
    def last_modified(self) -> datetime | None:
        return parse_http_date(self._headers.get(hdrs.LAST_MODIFIED))

    @last_modified.setter
    def last_modified(self, value: int | float | datetime | str | None) -> None:
        if value is None:
            self._headers.pop(hdrs.LAST_MODIFIED, None)
        elif isinstance(value, int | float):
            # rounded up as aiohttp does: a file modified at 100.5 s is not
            # "unmodified since" a Last-Modified of 100 s (RFC 9110 13.1.4)
            self._headers[hdrs.LAST_MODIFIED] = format_http_date(math.ceil(value))
        elif isinstance(value, datetime):
            if value.tzinfo is None:  # a naive datetime is UTC, as on aiohttp
                value = value.replace(tzinfo=UTC)
            self._headers[hdrs.LAST_MODIFIED] = format_http_date(math.ceil(value.timestamp()))
        elif isinstance(value, str):
            self._headers[hdrs.LAST_MODIFIED] = value
        else:
            raise TypeError(f"Unsupported type for last_modified: {type(value).__name__}")

    @property
    def etag(self) -> ETag | None:
        value = self._headers.get(hdrs.ETAG)
        if not value:
            return None
        if value == "*":
            return ETag("*")
        match = _QUOTED_ETAG.fullmatch(value)
        if match is None:
            return None
        return ETag(match[2], match[1] is not None)

    @etag.setter
    def etag(self, value: ETag | str | None) -> None:
        if value is None:
            self._headers.pop(hdrs.ETAG, None)
            return
        tag: Any
        if isinstance(value, str):
            tag, weak = value, False
        else:  # an ETag, Squall's or another library's (aiohttp.ETag): read its fields
            tag, weak = getattr(value, "value", None), getattr(value, "is_weak", False)
            if not isinstance(tag, str):
                raise ValueError(
                    f"Unsupported etag type: {type(value)}. etag must be str, ETag or None"
                )
        if tag == "*":
            self._headers[hdrs.ETAG] = tag
            return
        if not _ETAG_VALUE.fullmatch(tag):
            # SECURITY: a quote, a space or a control character would end the tag early
            raise ValueError(f"Value {tag!r} is not a valid etag. Maybe it contains '\"'?")
        self._headers[hdrs.ETAG] = f'W/"{tag}"' if weak else f'"{tag}"'

    # -- cookies -----------------------------------------------------------

    @property
    def cookies(self) -> SimpleCookie:
        if self._cookies is None:
            jar = self._cookies = SimpleCookie()
            plain = self._plain_cookies
            if plain is not None:  # their Morsels, made as set_cookie would have
                self._plain_cookies = None
                for name, (_, args) in plain.items():
                    _add_morsel(jar, name, args)
        return self._cookies

    def _cookie_lines(self) -> list[str]:
        """The Set-Cookie values of the cookies set, in order. The cookies stay (as on
        aiohttp, ``response.cookies`` still holds them once the head is out)."""
        plain = self._plain_cookies
        if plain is not None:
            return [line for line, _ in plain.values()]
        jar = self._cookies
        return [morsel.OutputString() for morsel in jar.values()] if jar else []

    def _cookie_fields(self) -> list[tuple[str, str]]:
        """The head's Set-Cookie fields, also added to the headers (an access log
        reads them there)."""
        fields: list[tuple[str, str]] = []
        headers = self._headers
        for value in self._cookie_lines():
            headers.add(_SET_COOKIE, value)
            fields.append((_SET_COOKIE, value))
        return fields

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        expires: str | None = None,
        domain: str | None = None,
        max_age: int | str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        version: str | None = None,
        samesite: str | None = None,
        partitioned: bool | None = None,
    ) -> None:
        """Set a cookie on the client (a ``Set-Cookie`` header)."""
        # (accepted, not written: see set_morsel; if it ever is, plain_set_cookie
        # must leave a partitioned cookie to Morsels)
        del partitioned
        args = (value, expires, domain, max_age, path, secure, httponly, version, samesite)
        if self._cookies is None:
            plain = self._plain_cookies
            if plain is None or name not in plain:
                # PERF: a first cookie of this name with plain arguments is kept as
                # its header line, and a Morsel made only if ``cookies`` is read
                # (a Response with one cookie: 5.3 -> 2.1 µs in process)
                line = plain_set_cookie(name, *args)
                if line is not None:
                    if plain is None:
                        self._plain_cookies = {name: (line, args)}
                    else:
                        plain[name] = (line, args)
                    return
        _add_morsel(self.cookies, name, args)

    def del_cookie(
        self,
        name: str,
        *,
        domain: str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        samesite: str | None = None,
    ) -> None:
        """Ask the client to delete a cookie (an expired, empty ``Set-Cookie``)."""
        self.cookies.pop(name, None)
        self.set_cookie(
            name,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            domain=domain,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    # -- the mapping -------------------------------------------------------

    def _dict(self) -> dict[Any, Any]:
        if self._state is None:
            self._state = {}
        return self._state

    def __getitem__(self, key: Any) -> Any:
        return self._dict()[key]

    _seen_str_keys: set[str] = set()

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(key, ResponseKey) and key not in StreamResponse._seen_str_keys:
            # NOTE: imported here: exceptions.py builds on this module
            from squall.framework.exceptions import NotAppKeyWarning

            StreamResponse._seen_str_keys.add(key)
            warnings.warn(
                "It is recommended to use web.ResponseKey instances for keys.\n"
                "https://docs.aiohttp.org/en/stable/web_advanced.html#response-s-storage",
                category=NotAppKeyWarning,
                stacklevel=2,
            )
        self._dict()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._dict()[key]

    def __len__(self) -> int:
        return len(self._state) if self._state else 0

    def __iter__(self) -> Iterator[Any]:
        return iter(self._dict())

    def __hash__(self) -> int:
        return hash(id(self))

    def __eq__(self, other: object) -> bool:
        return self is other

    def __bool__(self) -> bool:
        return True

    # -- sending -----------------------------------------------------------

    def _head_items(self, request: BaseRequest, body_len: int | None) -> list[tuple[str, str]]:
        """The header lines to send: the framing decided, the defaults filled in.

        ``body_len`` is the length of a body known in full, or None for a body
        streamed after the head.
        """
        status = self._status
        if not 100 <= status < 600:
            _check_status(status)
        headers = self._headers
        method = request.method
        drop, extra, length = self._frame(method, status, request.version, body_len)
        if hdrs.CONNECTION in headers and status != 101:
            # hop-by-hop: the connection writes its own; "close" is honoured
            if asks_close(headers.getall(hdrs.CONNECTION)):
                self._keep_alive = False
            drop += ("connection",)
        if drop:  # names compared case-insensitively, as everywhere in HTTP
            items = [kv for kv in headers.items() if kv[0].lower() not in drop]
        else:
            items = list(headers.items())
        if self._cookies or self._plain_cookies:
            # aiohttp's order: after a whole body's Content-Length, before a
            # Transfer-Encoding; kept in the headers too (an access log reads them)
            if extra and extra[0][0] == _CONTENT_LENGTH:
                items.append(extra.pop(0))
            items += self._cookie_fields()
        items += extra
        if length != 0 and _CONTENT_TYPE not in headers and not body_forbidden(method, status):
            # RFC 9110 8.3: a default type only for a body that may be non-empty
            items.append(("Content-Type", "application/octet-stream"))
        if hdrs.DATE not in headers:
            items.append(("Date", http_date_now()))
        if hdrs.SERVER not in headers:
            items.append(("Server", SERVER_SOFTWARE))
        return items

    def _frame(
        self, method: str, status: int, version: tuple[int, int], body_len: int | None
    ) -> tuple[tuple[str, ...], list[tuple[str, str]], int | None]:
        """Decide how the body is delimited: (lower-cased names of the handler's
        fields to drop, fields to add, the body's length on the wire if known).

        Sets ``_wire_chunked`` when the sink must frame the body in chunks,
        ``_limit`` to a declared Content-Length, and ``_keep_alive = False`` when
        the close is what ends the body. The rules, in order (RFC 9112 6.1-6.3):

        1. A 1xx, 204 or 304, or a 2xx to CONNECT, has no body and carries neither
           Content-Length nor Transfer-Encoding (RFC 9110 8.6, 9.3.6, 15.3.5, 15.4.5).
           A 205 has no body either, said with ``Content-Length: 0`` (RFC 9110
           15.3.6; aiohttp sends the handler's body).
        2. Transfer-Encoding is the server's to write: a handler's copy is dropped,
           and it never goes to an HTTP/1.0 client (RFC 9112 6.1).
        3. HEAD: the Content-Length a GET would carry, if known and not 0 (as
           aiohttp: an empty body is not declared); nothing is chunked since
           nothing follows the head.
        4. Chunked when asked for (``enable_chunked_encoding()``) on HTTP/1.1; a
           Content-Length must not go with it (RFC 9112 6.1).
        5. Else a declared Content-Length frames the body; a whole body must have
           exactly that length (issue 17, item 9: more would be read as the next
           response, less would leave the client waiting).
        6. Else a whole body gets its own length.
        7. Else (a stream) chunked on HTTP/1.1, delimited by the close on HTTP/1.0.
        """
        headers = self._headers
        declared = headers.get(_CONTENT_LENGTH)
        drop: tuple[str, ...] = ()
        if hdrs.TRANSFER_ENCODING in headers:
            drop = ("transfer-encoding",)  # rule 2
        extra: list[tuple[str, str]] = []
        chunked = False
        length = body_len
        if bodiless_status(method, status):  # rule 1, in the headers too (as on aiohttp)
            headers.popall(_CONTENT_LENGTH, None)
            headers.popall(hdrs.TRANSFER_ENCODING, None)
            length = 0
        elif status == 205:  # rule 1
            headers.popall(hdrs.TRANSFER_ENCODING, None)
            headers[_CONTENT_LENGTH] = "0"
            length = self._limit = 0
        elif self._chunked and version >= (1, 1):  # rules 3 and 4
            if declared is not None:
                drop += ("content-length",)
            if method != "HEAD":
                chunked = True
                extra.append(("Transfer-Encoding", "chunked"))
            length = None
        elif declared is not None:  # rule 5
            if not (declared.isascii() and declared.isdigit()):
                raise ValueError(f"Invalid Content-Length header: {declared!r}")
            length = int(declared)
            if body_len is not None and length != body_len and method != "HEAD":
                # SECURITY: refused before a byte is written; the client gets a 500
                raise ValueError(
                    f"Content-Length header ({length}) does not match the body ({body_len} bytes)"
                )
            self._limit = length
        elif body_len is not None:  # rules 3 and 6
            if body_len or method != "HEAD":  # an empty one says nothing to HEAD, as aiohttp
                extra.append(("Content-Length", str(body_len)))
        elif method != "HEAD":  # rule 7
            if version >= (1, 1):
                chunked = True
                extra.append(("Transfer-Encoding", "chunked"))
            else:
                self._keep_alive = False  # the end of the body is the close
        self._wire_chunked = chunked
        return drop, extra, length

    async def prepare(self, request: BaseRequest) -> StreamResponse | None:
        """Send the status line and headers; the body follows with ``write()``."""
        if self._eof_sent:
            return None
        if self._sink is not None:
            return self
        await request._prepare_hook(self)
        self._start(request)
        return self

    def _start(self, request: BaseRequest) -> None:
        """Send the head, once the prepare hooks have run."""
        self._req = request
        if self._compression and not self._coded and not self._compression_routing:
            self._start_compression(request)
        items = self._head_items(request, None)
        sink = request._sink
        sink.start_response(
            request.version, self._status, self._reason, items, self._wire_chunked, self._keep_alive
        )
        self._sink = sink
        if body_forbidden(request.method, self._status) or self._status == 205:
            self._length_check = False  # HEAD, 1xx, 204, 205, 304: no body bytes at all
        # else SECURITY: with a declared length (``_limit``) bytes past it would be
        # read as the start of the next response on this connection: write() cuts
        # them (aiohttp truncates too), and write_eof() refuses a body cut short.

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send part of the body; waits while the client is slow to read."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        if self._eof_sent:
            raise RuntimeError("Cannot call write() after write_eof()")
        sink = self._sink
        if sink is None:
            raise RuntimeError("Cannot call write() before prepare()")
        if data and self._length_check:
            compressor = self._compressor
            if compressor is not None:
                data = await run_compressor(
                    compressor.compress, bytes(data), self._zlib_executor_size, self._zlib_executor
                )
                if not data:
                    return  # the compressor holds it for now
            limit = self._limit
            if limit is not None:
                left = limit - self._body_length
                if left <= 0:
                    return
                data = data[:left]
            self._body_length += len(data)
            sink.send_body(bytes(data))
            await sink.drain()  # a slow reader: wait below the transport's high-water mark

    async def drain(self) -> None:
        """Wait until the client has taken the buffered output (deprecated: ``write()``
        waits by itself)."""
        warnings.warn(
            "drain method is deprecated, use await resp.write()", DeprecationWarning, stacklevel=2
        )
        if self._sink is not None:
            await self._sink.drain()

    async def write_eof(self, data: bytes = b"") -> None:
        """Finish the body (and the response)."""
        if self._eof_sent:
            return
        if self._sink is None:
            raise RuntimeError("Response has not been started")
        if data:
            await self.write(data)
        compressor = self._compressor
        if compressor is not None:
            self._compressor = None
            tail = compressor.flush()
            if tail and self._length_check:
                self._body_length += len(tail)
                self._sink.send_body(tail)
        limit = self._limit
        if limit is not None and self._body_length < limit and self._length_check:
            # SECURITY: the client would take the next response for the rest of
            # this body; the server drops the connection after this error.
            raise RuntimeError(
                f"Response body ended after {self._body_length} of the "
                f"{limit} bytes its Content-Length declared"
            )
        self._sink.end_response()
        self._eof_sent = True

    async def _finish(self, request: BaseRequest) -> None:
        """Complete the response after the handler returned it."""
        if self._sink is None:
            await self.prepare(request)
        await self.write_eof()

    def __repr__(self) -> str:
        if self._eof_sent:
            info = "eof"
        elif self._req is not None:
            info = f"{self._req.method} {self._req.path} "
        else:
            info = "not prepared"
        return f"<{self.__class__.__name__} {self.reason} {info}>"


def _add_morsel(jar: SimpleCookie, name: str, args: tuple[Any, ...]) -> None:
    """``set_morsel`` with ``set_cookie``'s arguments as it keeps them."""
    value, expires, domain, max_age, path, secure, httponly, version, samesite = args
    set_morsel(
        jar,
        name,
        value,
        expires=expires,
        domain=domain,
        max_age=max_age,
        path=path,
        secure=secure,
        httponly=httponly,
        version=version,
        samesite=samesite,
    )
