"""``ClientSession``: the part of aiohttp's client session that test suites use.

Requests go to absolute URLs through httpx; the arguments are aiohttp's (``data``,
``json``, ``params``, ``headers``, ``cookies``, ``allow_redirects``, ``auth``,
``timeout``, ``raise_for_status``, ``skip_auto_headers``, ``expect100``,
``auto_decompress``; httpx's ``files`` and ``content`` are accepted too) and so are
the bodies they make: a dict is a urlencoded form (multipart when a value is a file
or bytes, each file part named as aiohttp names it), ``str`` is
``text/plain; charset=utf-8``, ``bytes`` is ``application/octet-stream``, a file
object is read from where it stands (typed by its name), and ``json=`` is
serialised with ``json.dumps`` as aiohttp does. aiohttp's own ``FormData``,
``MultipartWriter`` and other payloads are sent through their public face (called,
``write()``, ``headers``, ``size``), without importing aiohttp.

The session takes aiohttp's ``version`` (an ``HTTP/1.0`` session, or an
``expect100`` request, goes over a connection of its own: ``wire.py``),
``connector`` (its ``limit``, ``limit_per_host``, ``force_close`` and a
``UnixConnector``'s ``path`` shape httpx's pool; the session closes it, unless
``connector_owner=False``) and ``auto_decompress``.

Each response's body is pumped into its ``StreamReader`` by a task of its own, so a
connection goes back to the pool as soon as its body has arrived, whether the test
reads it or not (as with aiohttp), and an endless body can be read piece by piece.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import inspect
import io
import json as jsonlib
import mimetypes
import uuid
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Mapping,
)
from http.cookies import Morsel
from pathlib import PurePath
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from squall.testing.cookiejar import CookieJar
from squall.testing.errors import (
    ClientConnectionError,
    ClientPayloadError,
    ServerDisconnectedError,
    WSServerHandshakeError,
)
from squall.testing.handshake import UNSUPPORTED, Handshake
from squall.testing.response import ClientResponse, HttpVersion, RequestInfo
from squall.testing.stream import StreamReader
from squall.testing.websocket import ClientWebSocketResponse, WSRequestContextManager
from squall.testing.wire import VERSION, Transport

_DEFAULT_TIMEOUT = 30.0  # a hang guard, not a test's expectation

# aiohttp request options a test client cannot honour: refused by name, not ignored
_UNSUPPORTED = [
    "chunked",
    "compress",
    "max_redirects",
    "proxy",
    "proxy_auth",
    "proxy_headers",
    "read_until_eof",
    "server_hostname",
    "ssl",
    "verify_ssl",
    "fingerprint",
    "ssl_context",
    "trace_request_ctx",
    "read_bufsize",
    "max_line_size",
    "max_field_size",
    "middlewares",
]

RaiseForStatus = bool | Callable[[ClientResponse], Awaitable[None]]


class ClientSession:
    """Requests to absolute URLs with aiohttp's arguments, and a cookie jar."""

    def __init__(
        self,
        *,
        cookie_jar: CookieJar | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        cookies: Mapping[str, str] | None = None,
        auth: Any = None,
        raise_for_status: RaiseForStatus = False,
        timeout: Any = _DEFAULT_TIMEOUT,
        json_serialize: Callable[[Any], str] = jsonlib.dumps,
        skip_auto_headers: Iterable[str] = (),
        version: Any = (1, 1),
        connector: Any = None,
        connector_owner: bool = True,
        auto_decompress: bool = True,
    ) -> None:
        if cookie_jar is not None and not isinstance(cookie_jar, CookieJar):
            raise TypeError("cookie_jar must be a squall.testing.CookieJar")
        self._headers = _header_items(headers)
        self._auth = auth
        self._version = _version(version)
        self._connector = connector if connector_owner else None
        self._auto_decompress = auto_decompress
        self._httpx = httpx.AsyncClient(
            headers=self._headers,
            auth=_auth(auth),
            timeout=_timeout(timeout),
            transport=Transport(_pool(connector)),
        )
        given = {name.lower() for name, _ in self._headers}
        defaults = self._httpx.headers
        if "accept-encoding" not in given:
            # aiohttp's offer: a server choosing a coding by it chooses as for aiohttp
            defaults["Accept-Encoding"] = _accept_encoding()
        if "connection" not in given:
            # aiohttp sends none on HTTP/1.1 (keep-alive is the default), and
            # "close" when its connector is to close every connection
            del defaults["Connection"]
            if getattr(connector, "force_close", False):
                defaults["Connection"] = "close"
        self.cookie_jar = cookie_jar if cookie_jar is not None else CookieJar()
        self.cookie_jar._adopt(self._httpx.cookies)
        if cookies:
            self.cookie_jar.update_cookies(cookies)
        self._raise_for_status = raise_for_status
        self._json_serialize = json_serialize
        self._skip_auto_headers = tuple(skip_auto_headers)
        self._pumps: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def httpx_client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` underneath."""
        return self._httpx

    @property
    def closed(self) -> bool:
        return self._closed

    def request(self, method: str, url: URL | str, **kwargs: Any) -> RequestContextManager:
        """Send a request; await the result, or use it in ``async with``."""
        return RequestContextManager(self._request(method, url, **kwargs))

    def get(self, url: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("GET", url, **kwargs)

    def post(self, url: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("POST", url, **kwargs)

    def put(self, url: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("DELETE", url, **kwargs)

    def options(self, url: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("OPTIONS", url, **kwargs)

    def head(
        self, url: URL | str, *, allow_redirects: bool = False, **kwargs: Any
    ) -> RequestContextManager:
        return self.request("HEAD", url, allow_redirects=allow_redirects, **kwargs)

    def ws_connect(self, url: URL | str, **kwargs: Any) -> WSRequestContextManager:
        """Open a WebSocket to ``url`` with aiohttp's ``ws_connect`` arguments
        (``squall.testing.handshake``); await it, or use it in ``async with``."""
        return WSRequestContextManager(self._ws_connect(URL(url), **kwargs))

    async def _ws_connect(
        self, url: URL, *, auth: Any = None, **kwargs: Any
    ) -> ClientWebSocketResponse:
        for name in kwargs.keys() & UNSUPPORTED:
            raise TypeError(f"{name!r} is an aiohttp option the test client does not support")
        if self._closed:
            raise RuntimeError("Session is closed")
        handshake = Handshake(url, auth=auth if auth is not None else self._auth, **kwargs)
        jar_url = handshake.http_url
        jar = self.cookie_jar
        cookie = "; ".join(f"{k}={m.value}" for k, m in jar.filter_cookies(jar_url).items())
        try:
            ws, _, headers = await handshake.open(self._headers, cookie, self._httpx.timeout.read)
        except WSServerHandshakeError as exc:
            jar.update_cookies_from_headers(_set_cookies(exc.headers), jar_url)
            raise
        jar.update_cookies_from_headers(_set_cookies(headers), jar_url)
        return ws

    async def _request(
        self,
        method: str,
        url: URL | str,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        cookies: Mapping[str, str | Morsel[str]] | None = None,
        skip_auto_headers: Iterable[str] = (),
        auth: Any = None,
        allow_redirects: bool = True,
        raise_for_status: RaiseForStatus | None = None,
        timeout: Any = None,
        expect100: bool = False,
        auto_decompress: bool | None = None,
        files: Any = None,
        content: Any = None,
        **unsupported: Any,
    ) -> ClientResponse:
        if unsupported:
            name = next(iter(unsupported))
            why = "is an aiohttp option the test client does not support"
            if name not in _UNSUPPORTED:
                why = "is not an option of aiohttp's ClientSession.request"
            raise TypeError(f"{name!r} {why}")
        if self._closed:
            raise RuntimeError("Session is closed")
        if data is not None and json is not None:
            raise ValueError("data and json parameters can not be used at the same time")
        header_list = _header_items(headers)
        body = await _Body.make(data, json, self._json_serialize)
        if files is not None or content is not None:
            # NOTE: httpx's own arguments, kept for suites written against httpx
            if content is not None and (files is not None or body.content is not None):
                raise ValueError("content cannot be combined with data, json or files")
            body = _Body(content=content, fields=dict(data) if data else None, files=files)
        skipped = {h.lower() for h in (*self._skip_auto_headers, *skip_auto_headers)}
        present = {name.lower() for name, _ in header_list}
        if body.content_type and "content-type" not in present | skipped:
            header_list.append(("Content-Type", body.content_type))
        for name, value in body.headers:
            if name.lower() not in present | skipped:
                header_list.append((name, value))
        if expect100 and "expect" not in present:
            # NOTE: the transport holds the body back until the server's 100 (wire.py)
            header_list.append(("Expect", "100-continue"))
        if params is not None:
            # yarl merges like aiohttp: the path's own query first, then ``params``
            url = URL(url).extend_query(params)
        request = self._httpx.build_request(
            method,
            str(url),
            headers=header_list,
            content=body.content,
            data=body.fields,
            files=body.files,
            timeout=_timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            extensions={VERSION: self._version},
        )
        for name in skipped - present:
            request.headers.pop(name, None)
        if cookies:
            _add_cookies(request, cookies)
        try:
            response = await self._httpx.send(
                request,
                stream=True,
                follow_redirects=allow_redirects,
                auth=_auth(auth) if auth is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            raise TimeoutError(str(exc)) from exc
        except httpx.RemoteProtocolError as exc:
            raise ServerDisconnectedError(str(exc)) from exc
        except httpx.TransportError as exc:
            raise ClientConnectionError(str(exc)) from exc
        decompress = self._auto_decompress if auto_decompress is None else auto_decompress
        resp = self._wrap(response, decompress)
        check = self._raise_for_status if raise_for_status is None else raise_for_status
        if check is True:
            resp.raise_for_status()
        elif callable(check):
            await check(resp)
        return resp

    def _wrap(self, response: httpx.Response, decompress: bool = True) -> ClientResponse:
        """A ClientResponse whose body a new pump task feeds (as sent unless ``decompress``)."""
        history = tuple(self._wrap_read(r) for r in response.history)
        content = StreamReader()
        pump = asyncio.get_running_loop().create_task(_pump(response, content, decompress))
        self._pumps.add(pump)
        pump.add_done_callback(self._pumps.discard)
        return _client_response(response, content, history, pump.cancel)

    def _wrap_read(self, response: httpx.Response) -> ClientResponse:
        """A ClientResponse of a response httpx has already read (a redirect)."""
        content = StreamReader()
        content._buffer += response.content
        content._feed_eof()
        return _client_response(response, content, (), None)

    async def close(self) -> None:
        """Stop every body still arriving and close the connections."""
        if self._closed:
            return
        self._closed = True
        pumps = list(self._pumps)
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        await self._httpx.aclose()
        if self._connector is not None:
            # NOTE: an aiohttp connector given to the session is the session's to close
            closed = self._connector.close()
            if inspect.isawaitable(closed):
                await closed

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class RequestContextManager(Coroutine[Any, Any, ClientResponse]):
    """A request in flight: awaitable, an async context manager that releases, and a
    coroutine (``asyncio.create_task(client.get(...))``), as aiohttp's."""

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse]) -> None:
        self._coro = coro
        self._resp: ClientResponse | None = None

    def send(self, value: Any) -> Any:
        return self._coro.send(value)

    def throw(self, *args: Any) -> Any:
        return self._coro.throw(*args)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._coro.__await__()

    def __iter__(self) -> Generator[Any, None, ClientResponse]:
        return self.__await__()

    async def __aenter__(self) -> ClientResponse:
        self._resp = await self._coro
        return self._resp

    async def __aexit__(self, *exc: object) -> None:
        if self._resp is not None:
            self._resp.release()


class _Body:
    """A request body as aiohttp would make it from ``data=`` or ``json=``."""

    def __init__(
        self,
        content: Any = None,
        content_type: str | None = None,
        fields: dict[str, Any] | None = None,
        files: list[tuple[str, Any]] | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.content = content
        self.content_type = content_type
        self.fields = fields
        self.files = files
        self.headers = list(headers)  # more headers, each sent unless the request has it

    @classmethod
    async def make(cls, data: Any, json: Any, serialize: Callable[[Any], str]) -> _Body:
        """``of``, and the bodies it needs to await: aiohttp's ``FormData``, its
        payloads (``MultipartWriter``...) and file objects."""
        if json is None and data is not None:
            if callable(data) and hasattr(data, "_gen_form_data"):
                data = data()  # aiohttp's FormData makes its payload so
            if inspect.iscoroutinefunction(getattr(data, "write", None)) and hasattr(
                data, "headers"
            ):
                return await cls._payload(data)
            if isinstance(data, io.IOBase):
                return await cls._file(data)
            items = _form_items(data)
            if items is not None and any(_is_file(v) for _, v in items):
                return await cls._form_data(items)
        return cls.of(data, json, serialize)

    @classmethod
    async def _form_data(cls, items: list[tuple[str, Any]]) -> _Body:
        """A form with files, as aiohttp's ``FormData`` encodes it: a part per field,
        text fields ``text/plain; charset=utf-8``, each file (or bytes value) with a
        ``filename`` (its file's name, else the field's) and a Content-Type guessed
        from it."""
        boundary = uuid.uuid4().hex
        out: list[bytes] = []
        for name, value in items:
            filename: str | None = None
            if _is_file(value):
                if isinstance(value, bytes | bytearray):
                    filename, data, ctype = name, bytes(value), "application/octet-stream"
                else:
                    filename = _file_name(value, name)
                    data, ctype = _typed(await _read(value), value)
            else:
                data, ctype = str(value).encode("utf-8"), "text/plain; charset=utf-8"
            disposition = f'form-data; name="{_quoted(name)}"'
            if filename is not None:
                disposition += f'; filename="{quote(filename, "")}"'
            out.append(
                f"--{boundary}\r\nContent-Type: {ctype}\r\n"
                f"Content-Disposition: {disposition}\r\n\r\n".encode()
            )
            out.extend((bytes(data), b"\r\n"))
        out.append(f"--{boundary}--\r\n".encode())
        return cls(b"".join(out), f"multipart/form-data; boundary={boundary}")

    @classmethod
    async def _payload(cls, payload: Any) -> _Body:
        """An aiohttp payload, through its public face: ``write(writer)`` gives the
        bytes, ``headers`` the Content-Type (a multipart boundary...), ``size`` the
        length (``None``: sent chunked, as aiohttp does)."""
        chunks: list[bytes] = []

        class _Writer:
            async def write(self, chunk: bytes) -> None:
                chunks.append(bytes(chunk))

        try:
            await payload.write(_Writer())
        finally:
            close = getattr(payload, "close", None)
            if inspect.iscoroutinefunction(close):
                await close()
        whole = b"".join(chunks)
        framing = {"content-length", "transfer-encoding"}
        headers = [(str(k), str(v)) for k, v in payload.headers.items() if k.lower() not in framing]
        content: Any = whole if payload.size is not None else _once(whole)
        return cls(content, headers=headers)

    @classmethod
    async def _file(cls, file: io.IOBase) -> _Body:
        """A file object, read from where it is (and left open), as aiohttp sends it:
        a Content-Type guessed from its name, text as UTF-8."""
        data, ctype = _typed(await _read(file), file)
        return cls(data, ctype)

    @classmethod
    def of(cls, data: Any, json: Any, serialize: Callable[[Any], str]) -> _Body:
        if json is not None:
            return cls(serialize(json).encode("utf-8"), "application/json")
        if data is None:
            return cls()
        if isinstance(data, bytes | bytearray | memoryview):
            return cls(bytes(data), "application/octet-stream")
        if isinstance(data, str):
            return cls(data.encode("utf-8"), "text/plain; charset=utf-8")
        items = _form_items(data)
        if items is not None:
            return cls(urlencode(items, doseq=True).encode(), "application/x-www-form-urlencoded")
        # an iterable or an async iterable of bytes: streamed as it is
        return cls(data, "application/octet-stream")


def _form_items(data: Any) -> list[tuple[str, Any]] | None:
    """A form's fields: a mapping's items, a list of pairs and of files (a file alone
    is a field named after it, as in aiohttp's ``FormData``); ``None`` for another body."""
    if isinstance(data, Mapping):
        return list(data.items())
    if not isinstance(data, list | tuple) or not all(
        _is_file(item) or (isinstance(item, tuple | list) and len(item) == 2) for item in data
    ):
        return None
    return [
        (_file_name(item, "unknown"), item) if _is_file(item) else (item[0], item[1])
        for item in data
    ]


def _is_file(value: Any) -> bool:
    """A form value sent as a file part: a file object, or bytes (aiohttp names it
    after its field)."""
    return hasattr(value, "read") or isinstance(value, bytes | bytearray)


def _file_name(file: Any, default: str) -> str:
    """The base name of ``file``'s ``name``, else ``default`` (aiohttp's guess)."""
    name = getattr(file, "name", None)
    if isinstance(name, str) and name and not (name[0] == "<" and name[-1] == ">"):
        return PurePath(name).name
    return default


def _typed(data: bytes | str, file: Any) -> tuple[bytes, str]:
    """A file's content and Content-Type as aiohttp sends them: text as UTF-8
    ``text/plain``, bytes typed by the file's own name (else octet-stream)."""
    if isinstance(data, str):
        return data.encode("utf-8"), "text/plain; charset=utf-8"
    name = _file_name(file, "")
    return bytes(data), (name and mimetypes.guess_type(name)[0]) or "application/octet-stream"


async def _read(file: Any) -> Any:
    """The rest of a file object, read off the event loop."""
    return await asyncio.to_thread(file.read)


def _quoted(value: str) -> str:
    """``value`` inside a quoted-string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


async def _once(data: bytes) -> AsyncIterator[bytes]:
    """``data`` as a stream of unknown length (httpx sends it chunked)."""
    yield data


async def _pump(response: httpx.Response, content: StreamReader, decompress: bool = True) -> None:
    """Move the body from httpx into ``content`` until it ends, fails or is released
    (decoded as its Content-Encoding says, unless not ``decompress``)."""
    chunks = response.aiter_bytes() if decompress else response.aiter_raw()
    try:
        async for chunk in chunks:
            await content._feed(chunk)
    except httpx.TimeoutException as exc:
        content._set_exception(TimeoutError(str(exc)))
    except httpx.HTTPError as exc:
        # NOTE: any httpx failure mid-body (reset, bad framing, bad gzip) is the
        # payload's: the reader sees it as aiohttp's ClientPayloadError
        content._set_exception(ClientPayloadError(str(exc)))
    except BaseException:
        content._set_exception(ClientConnectionError("Connection closed"))
        raise
    else:
        content._feed_eof()
    finally:
        await response.aclose()


def _client_response(
    response: httpx.Response,
    content: StreamReader,
    history: tuple[ClientResponse, ...],
    on_release: Callable[[], Any] | None,
) -> ClientResponse:
    request = response.request
    major, _, minor = response.http_version.partition("/")[2].partition(".")
    url = URL(str(response.url))
    info = RequestInfo(
        url=url,
        method=request.method,
        headers=_proxy(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        ),
        real_url=url,
    )
    return ClientResponse(
        status=response.status_code,
        reason=response.reason_phrase,
        version=HttpVersion(int(major or 1), int(minor or 1)),
        raw_headers=list(response.headers.raw),
        url=url,
        request_info=info,
        history=history,
        content=content,
        on_release=on_release,
    )


def _proxy(items: list[tuple[str, str]]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(items))


def _header_items(
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None,
) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name), str(value)) for name, value in items]


def _set_cookies(headers: Mapping[str, str] | None) -> list[str]:
    """The Set-Cookie values of a handshake's answer (a multidict: every one)."""
    return [v for k, v in (headers or {}).items() if k.lower() == "set-cookie"]


def _add_cookies(request: httpx.Request, cookies: Mapping[str, str | Morsel[str]]) -> None:
    """Send ``cookies`` with this request only, beside the jar's."""
    pairs = [f"{k}={v.value if isinstance(v, Morsel) else v}" for k, v in cookies.items()]
    existing = request.headers.get("Cookie")
    request.headers["Cookie"] = "; ".join([existing, *pairs] if existing else pairs)


def _auth(auth: Any) -> httpx.Auth | None:
    """aiohttp's ``BasicAuth(login, password)`` (or a ``(login, password)`` pair)."""
    if auth is None:
        return None
    login = getattr(auth, "login", None)
    if login is not None:
        return httpx.BasicAuth(login, getattr(auth, "password", ""))
    if isinstance(auth, tuple) and len(auth) == 2:
        return httpx.BasicAuth(auth[0], auth[1])
    raise TypeError("auth must be a BasicAuth(login, password) or a (login, password) pair")


@functools.cache
def _accept_encoding() -> str:
    """aiohttp's default Accept-Encoding where httpx decodes the same codings:
    gzip and deflate, br with a brotli module, zstd with Python's (3.14) or its
    backport (aiohttp's) and zstandard (httpx's)."""
    codings = ["gzip", "deflate"]
    if _importable("brotli") or _importable("brotlicffi"):
        codings.append("br")
    if _importable("zstandard") and (
        _importable("compression.zstd") or _importable("backports.zstd")
    ):
        codings.append("zstd")
    return ", ".join(codings)


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a parent package is missing
        return False


def _version(version: Any) -> tuple[int, int]:
    """aiohttp's ``HttpVersion(1, 0)``, a ``(1, 0)`` pair or ``"1.0"``."""
    if isinstance(version, str):
        major, _, minor = version.partition(".")
        try:
            return int(major), int(minor)
        except ValueError:
            raise ValueError(f"Can not parse http version number: {version}") from None
    major, minor = version
    return int(major), int(minor)


def _pool(connector: Any) -> httpx.AsyncHTTPTransport:
    """httpx's pool, shaped as an aiohttp connector asks: ``limit`` connections
    (``limit_per_host``: one host here), none kept with ``force_close``, a Unix socket
    for a ``UnixConnector``'s ``path``."""
    if connector is None:
        return httpx.AsyncHTTPTransport()
    limits = [
        n for n in (getattr(connector, "limit", 0), getattr(connector, "limit_per_host", 0)) if n
    ]
    keep = 0 if getattr(connector, "force_close", False) else 20
    uds = getattr(connector, "path", None)
    return httpx.AsyncHTTPTransport(
        limits=httpx.Limits(
            max_connections=min(limits) if limits else None,
            max_keepalive_connections=keep,
        ),
        uds=uds if isinstance(uds, str) else None,
    )


def _timeout(timeout: Any) -> httpx.Timeout:
    """A number of seconds, ``None`` for none, or aiohttp's ``ClientTimeout``."""
    if timeout is None or isinstance(timeout, int | float):
        return httpx.Timeout(timeout)
    total = getattr(timeout, "total", None)
    read = getattr(timeout, "sock_read", None)
    connect = getattr(timeout, "sock_connect", None) or getattr(timeout, "connect", None)
    return httpx.Timeout(total, read=read or total, connect=connect or total)
