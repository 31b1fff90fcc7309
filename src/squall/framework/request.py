"""The request: built from a parsed head, a body source and a response sink.

Nothing is parsed until asked for: headers, query, cookies, URL and content
type are computed on first access and cached on the instance (``reify``).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import warnings
from collections import ChainMap
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from datetime import datetime
from tempfile import SpooledTemporaryFile
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from squall.framework.decoded_body import DecodedBody
from squall.framework.exceptions import (
    HTTPBadRequest,
    HTTPRequestEntityTooLarge,
    HTTPRequestRangeNotSatisfiable,
    HTTPUnsupportedMediaType,
    NotAppKeyWarning,
)
from squall.framework.keys import TypedKey
from squall.framework.multipart import (
    CharsetError,
    FileField,
    InvalidBodyError,
    MultipartReader,
    TextDecodeError,
)
from squall.framework.reify import reify
from squall.framework.routing.matchinfo import UrlMappingMatchInfo
from squall.framework.streams import StreamReader
from squall.http import hdrs
from squall.http.cookies import parse_cookie_header
from squall.http.dates import parse_http_date
from squall.http.etag import ETag, parse_etag_list
from squall.http.forwarded import parse_forwarded
from squall.http.mediatype import parse_content_type
from squall.http.ranges import parse_byte_range
from squall.multipart import MultipartError
from squall.multipart.codecs import content_decoder, transfer_decoder
from squall.typedefs import BodySource, ClientDisconnectedError, RequestHead, ResponseSink

if TYPE_CHECKING:
    from squall.framework.app import Application
    from squall.framework.response import StreamResponse
    from squall.framework.routing.resources import AbstractRoute

_T = TypeVar("_T")
_JSON_TYPE = re.compile(r"^(?:application/|[\w.-]+/[\w.+-]+?\+)json$")
# post()'s file parts stay in memory up to this size, then go to a temporary file
_FILE_SPOOL_SIZE = 256 * 1024
_FILE_CHUNK = 64 * 1024


class RawRequestMessage(NamedTuple):
    """The parsed head as aiohttp's deprecated ``request.message`` gives it."""

    method: str
    path: str
    version: tuple[int, int]
    headers: CIMultiDictProxy[str]
    raw_headers: tuple[tuple[bytes, bytes], ...]
    should_close: bool
    compression: str | None
    upgrade: bool
    chunked: bool
    url: URL


_CODINGS = frozenset({"gzip", "deflate", "br", "zstd"})


class RequestKey(TypedKey[_T]):
    """A typed key for the request's own mapping (``request[key]``).

    As aiohttp's: the name is prefixed with the module that makes the key, keys
    sort by it (before string keys), and the repr shows it with the value type.
    """

    __slots__ = ()


class JSONBodyError(HTTPBadRequest, json.JSONDecodeError):
    """A body that is not valid JSON: a 400 if uncaught, a JSONDecodeError if caught.

    NOTE: aiohttp lets ``json.JSONDecodeError`` escape the handler, which makes a
    client's typo a 500 and logs a traceback. This is still a JSONDecodeError
    (and a ValueError) for handlers that catch it.
    """

    def __init__(self, err: json.JSONDecodeError) -> None:
        HTTPBadRequest.__init__(self, text=f"Invalid JSON body: {err.msg}")
        self.msg = err.msg
        self.doc = err.doc
        self.pos = err.pos
        self.lineno = err.lineno
        self.colno = err.colno


class RangeError(HTTPRequestRangeNotSatisfiable, ValueError):
    """A Range header that is not one valid byte range: a 416 if uncaught.

    NOTE: aiohttp raises a plain ValueError from ``request.http_range``, so a
    client's bad header is a 500 there; this is still a ValueError for handlers
    that catch it, and its ``str()`` is aiohttp's message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(text=f"416: {message}")
        self.message = message

    def __str__(self) -> str:
        return self.message


def _decode_text(data: bytes, charset: str | None, what: str) -> str:
    """``data`` decoded with ``charset`` (utf-8 when None); a 400 (a ValueError,
    as aiohttp's UnicodeDecodeError) for bytes invalid in it or a charset that is
    no text codec.

    SECURITY: the charset is the client's: beside unknown names (LookupError) the
    codec lookup raises UnicodeEncodeError for a raw non-ASCII byte ('\\udcff'),
    ValueError for a NUL, and the 'undefined' codec a UnicodeError on any input.
    """
    try:
        return data.decode(charset or "utf-8")
    except UnicodeDecodeError as err:
        raise TextDecodeError(f"{what} is not valid text", err) from None
    except (LookupError, ValueError):  # UnicodeError, UnicodeEncodeError included
        raise CharsetError("Unsupported charset") from None


def _bad_target() -> HTTPBadRequest:
    """The 400 for a request-target no form of RFC 9112 3.2 allows; the connection
    closes after it, as after the parser's own 400s."""
    exc = HTTPBadRequest(text="Invalid request target")
    exc.force_close()
    return exc


class BaseRequest(MutableMapping[Any, Any]):
    """An HTTP request, as aiohttp's ``web.BaseRequest``."""

    _has_prepare_hooks = False
    # a middleware's own prepare hook for this request, run after the apps'
    # on_response_prepare (squall.sessions saves a handler-prepared stream's session)
    _on_prepare: Callable[[Any, StreamResponse], Awaitable[None]] | None = None
    # PERF: defaults on the class; an instance stores only what it uses.
    _read_bytes: bytes | None = None
    _route: AbstractRoute | None = None  # a fixed-path route, its match info not built yet
    _origin: BaseRequest | None = None  # the request this one is a clone() of
    _auto_decompress = True  # a low-level web.Server(auto_decompress=False) says False

    @reify
    def _match_info(self) -> UrlMappingMatchInfo | None:
        """Built on first use when routing found a fixed path (most handlers never ask)."""
        route = self._route
        if route is None or self._app is None:
            return None
        info = UrlMappingMatchInfo({}, route)
        info._bind(self._app)
        return info

    _post: MultiDictProxy[Any] | None = None
    # the methods whose body post() reads (aiohttp's; a subclass may change them)
    POST_METHODS = {
        hdrs.METH_PATCH,
        hdrs.METH_POST,
        hdrs.METH_PUT,
        hdrs.METH_TRACE,
        hdrs.METH_DELETE,
    }

    @reify
    def _client_max_fields(self) -> int:
        """The app's ``client_max_fields`` (aiohttp 3.14's Application argument), 1000."""
        return int(getattr(self._app, "_client_max_fields", 1000))

    def _max_parts(self, extra: int) -> int:
        """The multipart decoder's bound on parts: ``client_max_fields`` and ``extra``;
        none when the fields are not bounded (0 or less: aiohttp's "no limit")."""
        max_fields = self._client_max_fields
        return max_fields + extra if max_fields > 0 else sys.maxsize

    @reify
    def _state(self) -> dict[Any, Any]:
        return {}

    def __init__(
        self,
        head: RequestHead,
        body: BodySource,
        sink: ResponseSink,
        app: Application | None = None,
        client_max_size: int = 1024**2,
    ) -> None:
        self._head = head
        self._body = body
        self._sink = sink
        self._app = app
        self._client_max_size = client_max_size

    # -- the request line ----------------------------------------------------

    @property
    def method(self) -> str:
        return self._head.method

    @property
    def version(self) -> tuple[int, int]:
        return self._head.version

    @property
    def raw_path(self) -> str:
        """The request-target as sent: percent-encoded path and query."""
        return self._head.target

    @reify
    def rel_url(self) -> URL:
        """The request-target as a relative URL (path and query).

        Raise a 400 for a target that is none of RFC 9112 3.2's forms. A CONNECT
        request's target (authority-form, or any other) has no path: no route
        matches it, so it is a 404 as on aiohttp, and no handler sees a path
        without a leading "/". The fragment (``#...``) is kept out of path and query.
        """
        head = self._head
        target = head.target
        if head.method == hdrs.METH_CONNECT:
            # RFC 9112 3.2.3: authority-form only; an origin-form CONNECT ("/x")
            # gets no path either, so no route, not even "*", runs for it
            return URL.build()
        if target[:1] != "/":
            if target == "*":  # asterisk-form (RFC 9112 3.2.4): OPTIONS only
                if head.method != hdrs.METH_OPTIONS:
                    raise _bad_target()
                return URL.build(path="*", encoded=True)
            absolute = self._absolute_url
            if absolute is None:
                raise _bad_target()
            return absolute.relative()
        fragment = ""
        if "#" in target:  # PERF: rare; the common target pays one scan
            # RFC 9110 4.2.4: a fragment is not the server's, yet aiohttp keeps it in
            # rel_url, path_qs and url, out of path and query: so do we
            target, _, fragment = target.partition("#")
        path, _, query = target.partition("?")
        try:
            return URL.build(path=path, query_string=query, fragment=fragment, encoded=True)
        except ValueError:
            raise HTTPBadRequest(text="Invalid request target") from None

    @reify
    def _match_path(self) -> str:
        """The path routes match against: decoded, except for %2F and %25.

        PERF: ``Application._handle`` takes a plain target's path as it is and
        comes here only when something needs decoding.
        """
        return self.rel_url.path_safe

    @reify
    def path(self) -> str:
        """The decoded path, without the query."""
        return self.rel_url.path

    @reify
    def path_qs(self) -> str:
        return str(self.rel_url)

    @reify
    def query_string(self) -> str:
        return self.rel_url.query_string

    @reify
    def query(self) -> MultiDictProxy[str]:
        """The query's parameters; repeated keys are kept."""
        return self.rel_url.query

    # -- headers -------------------------------------------------------------

    @reify
    def headers(self) -> CIMultiDictProxy[str]:
        return CIMultiDictProxy(
            CIMultiDict(
                (n.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape"))
                for n, v in self._head.raw_headers
            )
        )

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return tuple(self._head.raw_headers)

    @reify
    def _absolute_url(self) -> URL | None:
        """The request-target in absolute-form (RFC 9112 3.2.2), with our scheme;
        None for the other forms; a 400 when it is not an absolute URL."""
        target = self._head.target
        if target[:1] == "/" or target == "*" or self._head.method == hdrs.METH_CONNECT:
            return None
        try:
            url = URL(target)
            if not url.absolute:  # "*0", "http:///x": a scheme, or not even that
                raise ValueError(target)
            url = url.with_scheme(self.scheme)
            host = self.__dict__.get("host")  # clone(host=...) replaces the authority's
            if host is not None:
                url = _with_host(url, host)
            # yarl checks a host lazily: make it fail here, not in a handler's str(url)
            str(url.relative())
            str(url)
        except ValueError:  # UnicodeError (IDNA) included
            raise _bad_target() from None
        return url

    @reify
    def host(self) -> str:
        """The Host header, or the local socket address when there is none."""
        absolute = self._absolute_url
        if absolute is not None:  # RFC 9112 3.2.2: the target's authority wins
            try:
                return absolute.host or ""
            except ValueError:
                # yarl decodes an IDNA label lazily; "xn--a" is not one. The name
                # as sent is still the authority (aiohttp gives no answer at all).
                return absolute.raw_host or ""
        host = self._head.host
        if host is not None:
            return host
        # no Host (HTTP/1.0): the local address the request came to, without the
        # port, IPv6 bracketed; a Unix socket's path; "" when unknown (aiohttp 3.14)
        sockname = self._sink.get_extra_info("sockname")
        if isinstance(sockname, tuple | list) and sockname:
            addr = str(sockname[0])
            return f"[{addr}]" if ":" in addr else addr
        return str(sockname) if sockname else ""

    @reify
    def scheme(self) -> str:
        """'https' when the connection is TLS, else 'http' (proxy headers are not trusted)."""
        return "https" if self._sink.get_extra_info("sslcontext") else "http"

    @property
    def secure(self) -> bool:
        return self.scheme == "https"

    @reify
    def remote(self) -> str | None:
        """The peer's address (IP, or "" for a Unix socket)."""
        peer = self._sink.get_extra_info("peername")
        if isinstance(peer, list | tuple):
            return str(peer[0])
        return str(peer) if peer is not None else None

    @reify
    def url(self) -> URL:
        """The absolute URL: scheme, host (the Host header), path and query.

        A Host header yarl cannot read is a 400 here rather than a ValueError
        later in ``str(request.url)``.
        """
        if self._absolute_url is not None:
            return self._absolute_url
        try:
            url = URL.build(scheme=self.scheme, authority=self.host).join(self.rel_url)
            str(url)  # yarl reads the authority lazily ("[:/", "a\uff3b")
        except ValueError:  # UnicodeError (IDNA) included
            raise HTTPBadRequest(text="Invalid Host header") from None
        return url

    @reify
    def cookies(self) -> Mapping[str, str]:
        return MappingProxyType(parse_cookie_header(self.headers.get(hdrs.COOKIE, "")))

    @reify
    def _content_type(self) -> tuple[str, dict[str, str]]:
        return parse_content_type(self.headers.get(hdrs.CONTENT_TYPE, ""))

    @property
    def content_type(self) -> str:
        return self._content_type[0]

    @property
    def charset(self) -> str | None:
        return self._content_type[1].get("charset")

    @property
    def content_length(self) -> int | None:
        return self._head.content_length

    @property
    def keep_alive(self) -> bool:
        """True when the connection can serve another request after this one."""
        return self._head.keep_alive and not self._sink.closing and self._body.is_complete()

    # -- conditional and range requests (RFC 9110 13, 14) ---------------------

    @reify
    def if_modified_since(self) -> datetime | None:
        """If-Modified-Since as an aware UTC datetime; None if absent or malformed."""
        return parse_http_date(self.headers.get(hdrs.IF_MODIFIED_SINCE))

    @reify
    def if_unmodified_since(self) -> datetime | None:
        """If-Unmodified-Since as an aware UTC datetime; None if absent or malformed."""
        return parse_http_date(self.headers.get(hdrs.IF_UNMODIFIED_SINCE))

    @reify
    def if_range(self) -> datetime | None:
        """If-Range as an aware UTC datetime; None if absent, malformed or an ETag."""
        return parse_http_date(self.headers.get(hdrs.IF_RANGE))

    @reify
    def if_match(self) -> tuple[ETag, ...] | None:
        """If-Match as a tuple of ETags (``(ETag("*"),)`` for ``*``); None if absent."""
        return parse_etag_list(self.headers.get(hdrs.IF_MATCH))

    @reify
    def if_none_match(self) -> tuple[ETag, ...] | None:
        """If-None-Match as a tuple of ETags (``(ETag("*"),)`` for ``*``); None if absent."""
        return parse_etag_list(self.headers.get(hdrs.IF_NONE_MATCH))

    @reify
    def http_range(self) -> slice:
        """The Range header as a slice (``slice(None, None, 1)`` when absent).

        A value that is not one byte range raises :class:`RangeError`, a
        ValueError as on aiohttp, and a 416 if the handler lets it through.
        """
        try:
            return parse_byte_range(self.headers.get(hdrs.RANGE))
        except ValueError as exc:
            raise RangeError(str(exc)) from None

    @reify
    def forwarded(self) -> tuple[Mapping[str, str], ...]:
        """The Forwarded headers (RFC 7239) parsed: one mapping per proxy, first first.

        SECURITY: what a client sent, unchecked; trust only what your own proxy added.
        """
        return parse_forwarded(self.headers.getall(hdrs.FORWARDED, ()))

    # -- connection ----------------------------------------------------------

    @reify
    def writer(self) -> RawWriter:
        """Raw writes to the connection, for an expect handler written the aiohttp way
        (``await request.writer.write(b"HTTP/1.1 100 Continue\\r\\n\\r\\n")``);
        responses go through ``StreamResponse``, never through this."""
        return RawWriter(self._sink)

    @property
    def transport(self) -> Any:
        return self._sink.transport

    @property
    def protocol(self) -> ResponseSink:
        """The connection (it has a ``transport`` attribute, as aiohttp's does)."""
        return self._sink

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._sink.get_extra_info(name, default)

    @reify
    def _message(self) -> RawRequestMessage:
        head = self._head
        coding = (self._head_value(b"content-encoding") or "").strip().lower()
        url = self._absolute_url or self.rel_url
        return RawRequestMessage(
            head.method,
            head.target,
            self.version,
            self.headers,
            self.raw_headers,
            not head.keep_alive,
            coding if coding in _CODINGS else None,
            bool(head.upgrade),
            bool(head.chunked),
            url,
        )

    @property
    def message(self) -> RawRequestMessage:
        """The parsed head (deprecated in aiohttp; use the request's attributes)."""
        warnings.warn("Request.message is deprecated", DeprecationWarning, stacklevel=2)
        return self._message

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running event loop (deprecated in aiohttp: use ``asyncio.get_running_loop()``)."""
        warnings.warn("request.loop property is deprecated", DeprecationWarning, stacklevel=2)
        try:
            return asyncio.get_running_loop()
        except RuntimeError:  # asked outside the loop (a unit test's mocked request)
            return asyncio.get_event_loop()

    @property
    def task(self) -> Any:
        """The ``asyncio.Task`` running the handler (for ``add_done_callback``)."""
        return self._sink.task

    # -- routing and app -----------------------------------------------------

    @property
    def match_info(self) -> UrlMappingMatchInfo:
        info = self._match_info
        if info is None:  # the low-level server's request: no routing (aiohttp has none)
            raise AttributeError("a request of the low-level server has no match_info")
        return info

    @property
    def app(self) -> Application:
        """The application that owns the matched route (the innermost sub-app)."""
        info = self._match_info
        if info is not None and info.apps:
            return info.current_app
        if self._app is None:  # the low-level server's request (aiohttp has no .app)
            raise AttributeError("a request of the low-level server has no app")
        return self._app

    @property
    def config_dict(self) -> Mapping[Any, Any]:
        """The mappings of ``request.app`` and the apps around it, nearest first.

        Inside a parent's middleware ``request.app`` is the parent, so a sub-app's
        state is not seen there (as on aiohttp, which also caches the first answer
        for the rest of the request; Squall answers for the app of the moment)."""
        info = self._match_info
        apps = info.apps if info is not None else ()
        if len(apps) < 2:
            return MappingProxyType(ChainMap(self.app))
        current = self.app
        outer = apps[: apps.index(current) + 1] if current in apps else apps
        return MappingProxyType(ChainMap(*reversed(outer)))

    # -- body ----------------------------------------------------------------

    @property
    def client_max_size(self) -> int:
        return self._client_max_size

    @property
    def client_max_fields(self) -> int:
        """The most fields ``post()`` takes (0: no bound); more is a 413."""
        return self._client_max_fields

    @property
    def body_exists(self) -> bool:
        """True when the request carries a body (Content-Length > 0 or chunked)."""
        head = self._head
        return head.chunked or bool(head.content_length)

    @property
    def has_body(self) -> bool:
        warnings.warn("Deprecated, use .can_read_body #2005", DeprecationWarning, stacklevel=2)
        return self.can_read_body

    @property
    def can_read_body(self) -> bool:
        """True while there is body left to read."""
        return not self._body.at_eof()

    @reify
    def _source(self) -> BodySource:
        """The body as handlers read it: decompressed when it has a Content-Encoding
        (a 415 for a coding we cannot decode) unless the app's ``handler_args`` (or
        its runner's keywords) say ``auto_decompress=False``, with the route's
        minimum data rate.
        A clone reads its original's: the body as the wire's head framed and coded
        it, whatever headers the clone was given (as on aiohttp)."""
        if self._origin is not None:
            return self._origin._source
        route = self._body_route
        if route is not None and route._min_body_rate is not None:
            # NOTE: the server's BodyStream takes a per-request rate; other sources
            # (a mocked body, an empty one) have no clock to measure one with
            set_rate = getattr(self._body, "set_min_rate", None)
            if set_rate is not None:
                set_rate(route._min_body_rate)
        if not self._head.coded:  # PERF: the parser saw no Content-Encoding field
            return self._body
        coding = self._head_value(b"content-encoding")
        if coding is None:
            return self._body
        app = self._app
        if not self._auto_decompress or (
            app is not None and not app.handler_args.get("auto_decompress", app._auto_decompress)
        ):
            # Application(handler_args={"auto_decompress": False}), else the runner's;
            # for a low-level web.Server, its own keyword
            return self._body
        try:
            decompressor = content_decoder(coding)
        except MultipartError as exc:
            raise HTTPUnsupportedMediaType(text=str(exc)) from None
        return self._body if decompressor is None else DecodedBody(self._body, decompressor)

    def _head_value(self, name: bytes) -> str | None:
        """One header's value straight from the head (PERF: no headers mapping)."""
        for key, value in self._head.raw_headers:
            if len(key) == len(name) and key.lower() == name:
                return value.decode("latin-1")
        return None

    @property
    def _body_route(self) -> AbstractRoute | None:
        route = self._route
        if route is None and self._app is not None:
            # a custom router's match info need not have a route (aiohttp's has)
            route = getattr(self._match_info, "route", None)
        return route

    @property
    def _body_limit(self) -> int:
        """The route's ``max_body`` when it has one, else ``client_max_size`` (0: none)."""
        route = self._body_route
        limit = None if route is None else route._max_body
        return self._client_max_size if limit is None else limit

    @reify
    def content(self) -> StreamReader:
        """The body as a stream (no size limit: read it your way)."""
        app = self._app
        if app is not None and "read_bufsize" in app.handler_args:
            # only reported by get_read_buffer_limits(), as aiohttp's would be
            return StreamReader(self._source, app.handler_args["read_bufsize"])
        return StreamReader(self._source)

    async def read(self) -> bytes:
        """Read the whole body, enforcing ``client_max_size`` (or the route's
        ``max_body``) as it arrives, decompressed bytes counted."""
        if self._read_bytes is None:
            # PERF: the route and the source looked up here once, not through
            # _body_limit and the _source reify (0.5 us of a 1 KiB echo)
            route = self._route  # set by the app for a fixed path
            if route is None:
                route = self._body_route
            limit = None if route is None else route._max_body
            max_size = self._client_max_size if limit is None else limit
            declared = self._head.content_length
            if max_size and declared is not None and declared > max_size:
                raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=declared)
            if self._head.coded or (route is not None and route._min_body_rate is not None):
                source = self._source
            else:
                source = self._body  # what _source would be
            if declared is not None and source is self._body:
                # PERF: the parser ends a body at its Content-Length, checked above:
                # one read, not a readany() per chunk and one more for the end
                data = await source.read()
                if max_size and len(data) > max_size:  # a body source of another kind
                    raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=len(data))
                self._read_bytes = data
                return data
            parts = []
            size = 0
            while chunk := await source.readany():
                size += len(chunk)
                if max_size and size > max_size:
                    raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=size)
                parts.append(chunk)
            self._read_bytes = b"".join(parts)
        return self._read_bytes

    async def text(self) -> str:
        """The body decoded with the request's charset (utf-8 by default)."""
        return _decode_text(await self.read(), self.charset, "Request body")

    async def json(self, *, loads: Any = json.loads, content_type: str | None = None) -> Any:
        """The body parsed as JSON; a 400 for another media type or invalid JSON."""
        body = await self.text()
        if content_type and not _expected_type(self.content_type, content_type):
            raise HTTPBadRequest(
                text=f"Attempt to decode JSON with unexpected mimetype: {self.content_type}"
            )
        try:
            return loads(body)
        except json.JSONDecodeError as err:
            raise JSONBodyError(err) from None
        except RecursionError:
            # SECURITY: "[" * 1200 exhausts the decoder's stack; that is a client's
            # bad body like any other, not a server error
            raise JSONBodyError(json.JSONDecodeError("Nested too deeply", body, 0)) from None
        except ValueError:
            # SECURITY: "9" * 5000 passes the interpreter's limit on an integer's
            # digits (CVE-2020-10735) and json raises a plain ValueError; another
            # ``loads`` may raise its own. A client's bad body either way.
            raise JSONBodyError(json.JSONDecodeError("Value out of range", body, 0)) from None

    async def multipart(self) -> MultipartReader:
        """The body as a stream of parts (aiohttp's ``MultipartReader``).

        Not bounded by ``client_max_size`` as a whole (as on aiohttp: a part's
        ``read()`` is); a route's ``max_body`` bounds it. Reading counts as reading
        the body: ``Expect: 100-continue`` is answered on the first part.
        """
        route = self._body_route
        limit = None if route is None else route._max_body
        return MultipartReader(
            self.headers,
            self._source,
            client_max_size=self._body_limit or sys.maxsize,
            max_size=limit or 0,
            max_parts=self._max_parts(1),  # one more for a _charset_ field
        )

    async def post(self) -> MultiDictProxy[Any]:
        """The form in the body: url-encoded, or multipart with file parts as
        :class:`FileField`; an empty mapping for other bodies and methods."""
        if self._post is not None:
            return self._post
        content_type = self.content_type
        if self.method not in self.POST_METHODS or content_type not in (
            "",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            self._post = MultiDictProxy(MultiDict())
            return self._post
        if self._read_bytes is None and self._body.at_eof():  # no body, none left
            self._post = MultiDictProxy(MultiDict())
            return self._post
        if content_type == "multipart/form-data":
            self._post = MultiDictProxy(await self._multipart_form())
            return self._post
        charset = self.charset or "utf-8"
        text = _decode_text(await self.read(), charset, "Form body")
        max_fields = self._client_max_fields
        try:
            pairs = parse_qsl(
                text.rstrip(),
                keep_blank_values=True,
                encoding=charset,
                max_num_fields=max_fields if max_fields > 0 else None,
            )
        except LookupError:  # a codec that decodes but cannot unquote
            raise InvalidBodyError("Unsupported charset") from None
        except ValueError as exc:
            if "Max number of fields" in str(exc):
                raise _too_many_fields(max_fields) from None
            raise InvalidBodyError("Unsupported charset") from None
        self._post = MultiDictProxy(MultiDict(pairs))
        return self._post

    async def _multipart_form(self) -> MultiDict[Any]:
        """``post()`` for multipart/form-data: the whole body bounded by
        ``client_max_size`` (or the route's ``max_body``) as it arrives, files spooled."""
        max_size = self._body_limit
        declared = self._head.content_length
        if max_size and declared is not None and declared > max_size:
            raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=declared)
        reader = MultipartReader(
            self.headers,
            self._source,
            client_max_size=max_size or sys.maxsize,
            max_size=max_size,
            max_parts=self._max_parts(2),  # post() says "too many" first
        )
        max_fields = self._client_max_fields
        out: MultiDict[Any] = MultiDict()
        while (part := await reader.next()) is not None:
            if 0 < max_fields <= len(out):
                raise _too_many_fields(max_fields)
            if isinstance(part, MultipartReader):
                raise InvalidBodyError("Nested multipart is not supported by post()")
            name = part.name
            if name is None:
                raise InvalidBodyError("Multipart field missing name")
            field_ct = part.headers.get(hdrs.CONTENT_TYPE)
            filename = part.filename
            if filename:
                out.add(name, await _spool(part, name, filename, field_ct))
                continue
            value = await part._read(decode=True)
            if field_ct is None or field_ct.startswith("text/"):
                out.add(name, _decode_text(value, part.get_charset("utf-8"), "Form field"))
            else:
                out.add(name, bytearray(value))  # as aiohttp's
        return out

    async def release(self) -> None:
        """Read and drop the rest of the body."""
        while await self._body.readany():
            pass

    # -- responses -----------------------------------------------------------

    async def _prepare_hook(self, response: StreamResponse) -> None:
        info = self._match_info
        if info is None:
            return
        for app in info.apps:
            await app.on_response_prepare.send(self, response)
        hook = self._on_prepare
        if hook is not None:
            await hook(self, response)

    def clone(
        self,
        *,
        method: str | None = None,
        rel_url: str | URL | None = None,
        headers: Mapping[str, str] | None = None,
        scheme: str | None = None,
        host: str | None = None,
        remote: str | None = None,
        client_max_size: int | None = None,
        client_max_fields: int | None = None,
    ) -> BaseRequest:
        """A copy with some attributes replaced (proxies use it: ``aiohttp-remotes``).

        The copy has its own mapping (``request[key]``), filled with this one's
        items; a request whose body was read cannot be cloned (RuntimeError), as
        on aiohttp.
        """
        if self._read_bytes:
            raise RuntimeError("Cannot clone request after reading its content")
        head = _ClonedHead(self._head)
        if method is not None:
            head.method = method
        if rel_url is not None:
            head.target = str(URL(rel_url))
        if headers is not None:
            new_headers = CIMultiDict(headers)
            head.raw_headers = [
                (k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape"))
                for k, v in new_headers.items()
            ]
            head.host = new_headers.get(hdrs.HOST)
        new = self.__class__(
            head,
            self._body,
            self._sink,
            self._app,
            client_max_size=self._client_max_size if client_max_size is None else client_max_size,
        )
        new._match_info = self._match_info
        new._has_prepare_hooks = self._has_prepare_hooks
        new._on_prepare = self._on_prepare  # a middleware's hook (sessions) goes along
        if "_state" in self.__dict__:
            new._state = self._state.copy()
        new._origin = self
        new._client_max_fields = (
            self._client_max_fields if client_max_fields is None else client_max_fields
        )
        if scheme is not None:
            new.__dict__["scheme"] = scheme
        if host is not None:
            new.__dict__["host"] = host
        if remote is not None:
            new.__dict__["remote"] = remote
        return new

    # -- the mapping -------------------------------------------------------

    def __getitem__(self, key: Any) -> Any:
        return self._state[key]

    # PERF: concrete, not MutableMapping's mixins (a try/except over __getitem__
    # each): request.get() is how middlewares and sessions look for their state

    def get(self, key: Any, default: Any = None) -> Any:
        return self._state.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._state

    _seen_str_keys: set[str] = set()

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(key, RequestKey) and key not in BaseRequest._seen_str_keys:
            BaseRequest._seen_str_keys.add(key)
            warnings.warn(
                "It is recommended to use web.RequestKey instances for keys.\n"
                "https://docs.aiohttp.org/en/stable/web_advanced.html#request-s-storage",
                category=NotAppKeyWarning,
                stacklevel=2,
            )
        self._state[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._state[key]

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._state)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        # the decoded path in ASCII (non-ASCII as \U escapes), as aiohttp's
        try:
            path = self.path
        except HTTPBadRequest:  # a target with no path: a repr never raises
            path = self.raw_path
        path = path.encode("ascii", "backslashreplace").decode("ascii")
        return f"<{self.__class__.__name__} {self.method} {path} >"


async def _spool(part: Any, name: str, filename: str, content_type: str | None) -> FileField:
    """A file part into a spooled temporary file, decoded as read.

    NOTE: writes happen on the loop: a write of 64 KiB to the page cache costs
    microseconds, less than an executor hop (aiohttp hops once the file is on disk).
    """
    tmp = SpooledTemporaryFile(max_size=_FILE_SPOOL_SIZE)  # noqa: SIM115 (returned open)
    try:
        decoder = transfer_decoder(part.headers.get("Content-Transfer-Encoding"))
        while chunk := await part.read_chunk(_FILE_CHUNK):
            tmp.write(decoder.decode(chunk))
        tmp.write(decoder.flush())
    except MultipartError as exc:
        tmp.close()
        raise InvalidBodyError(str(exc)) from None
    except BaseException:
        tmp.close()  # a limit tripped or the client left: nothing is kept
        raise
    tmp.seek(0)
    return FileField(
        name,
        filename,
        tmp,  # type: ignore[arg-type]
        content_type or "application/octet-stream",
        part.headers,
    )


def _with_host(url: URL, host: str) -> URL:
    """``url`` with the host a ``clone(host=...)`` gave: a name keeps the port (as
    aiohttp's ``with_host``), a ``name:port`` replaces both (aiohttp: ValueError)."""
    try:
        return url.with_host(host)
    except ValueError:
        return URL.build(scheme=url.scheme, authority=host).join(url.relative())


def _too_many_fields(max_fields: int) -> HTTPRequestEntityTooLarge:
    return HTTPRequestEntityTooLarge(
        max_fields, text=f"Maximum number of form fields {max_fields} exceeded."
    )


class RawWriter:
    """The part of aiohttp's ``request.writer`` that expect handlers use: bytes
    straight to the transport (after every answer already batched before them)."""

    def __init__(self, sink: ResponseSink) -> None:
        self._sink = sink
        self.output_size = 0  # aiohttp's expect handler resets it after the 100

    async def write(self, data: bytes) -> None:
        transport = self._sink.transport
        if transport is None:
            raise ClientDisconnectedError("Connection lost")
        transport.write(data)
        self.output_size += len(data)

    async def drain(self) -> None:
        await self._sink.drain()


class _ClonedHead:
    """A mutable copy of a request head, for ``clone()``."""

    def __init__(self, head: RequestHead) -> None:
        self.method = head.method
        self.target = head.target
        self.version = head.version
        self.raw_headers: Any = head.raw_headers
        self.keep_alive = head.keep_alive
        self.upgrade = head.upgrade
        self.chunked = head.chunked
        self.content_length = head.content_length
        self.host = head.host
        self.expect_continue = head.expect_continue
        self.expect = head.expect
        self.coded = head.coded  # the body is the original's, decoded as it is


class Request(BaseRequest):
    """The request handlers receive (aiohttp's ``web.Request``)."""


def _expected_type(actual: str, expected: str) -> bool:
    if expected == "application/json":
        return _JSON_TYPE.match(actual) is not None
    return expected in actual
