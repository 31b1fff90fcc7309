"""``make_mocked_request`` and ``make_mocked_coro``: unit tests without a server.

No socket, no loop work: the head is built from the arguments, the body is the
given bytes (or stream), and whatever a response writes lands in
``request.protocol.output``. The connection looks as aiohttp's helper makes it: a
``Mock`` transport whose ``get_extra_info`` knows ``sockname`` (127.0.0.1:80) and
``sslcontext`` only, so ``request.remote`` is None and ``request.host`` 127.0.0.1
unless a Host header is given.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from unittest.mock import Mock

from multidict import CIMultiDict

from squall.framework.app import Application
from squall.framework.exceptions import HTTPNotFound, NotAppKeyWarning
from squall.framework.request import Request
from squall.framework.routing.matchinfo import UrlMappingMatchInfo
from squall.framework.routing.resources import SystemRoute

if TYPE_CHECKING:
    from ssl import SSLContext


class _Head:
    """A request head from plain values (satisfies ``typedefs.RequestHead``)."""

    def __init__(
        self,
        method: str,
        target: str,
        version: tuple[int, int],
        headers: CIMultiDict[str],
        keep_alive: bool,
        body_length: int,
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.raw_headers = [
            (k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape"))
            for k, v in headers.items()
        ]
        self.keep_alive = keep_alive
        self.upgrade = "upgrade" in headers.get("Connection", "").lower()
        self.chunked = headers.get("Transfer-Encoding", "").lower() == "chunked"
        length = headers.get("Content-Length")
        self.content_length = int(length) if length is not None else (body_length or None)
        self.host = headers.get("Host")
        self.expect_continue = headers.get("Expect", "").lower() == "100-continue"
        self.expect = bool(headers.get("Expect", "").strip())
        self.coded = "Content-Encoding" in headers


class _Body:
    """A body that is all there already."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.received = len(data)

    def is_complete(self) -> bool:
        return True

    def at_eof(self) -> bool:
        return not self._data

    async def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = len(self._data)
        data, self._data = self._data[:n], self._data[n:]
        return data

    async def readany(self) -> bytes:
        return await self.read()


class _StreamBody:
    """A body read from a stream the test gave (a ``StreamReader`` or any object
    with ``read``/``readany``/``at_eof``)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.received = 0

    def is_complete(self) -> bool:
        return bool(self._stream.at_eof())

    def at_eof(self) -> bool:
        return bool(self._stream.at_eof())

    async def read(self, n: int = -1) -> bytes:
        data = bytes(await self._stream.read(n))
        self.received += len(data)
        return data

    async def readany(self) -> bytes:
        data = bytes(await self._stream.readany())
        self.received += len(data)
        return data


with warnings.catch_warnings():
    # NOTE: subclassing Application warns (DeprecationWarning); this one is ours
    warnings.simplefilter("ignore", DeprecationWarning)

    class _StandInApplication(Application):
        """The app of a mocked request made without one: it takes plain string keys
        without a NotAppKeyWarning, as aiohttp's stand-in (a mock) does."""

        def __setitem__(self, key: Any, value: Any) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotAppKeyWarning)
                super().__setitem__(key, value)


def _mocked_transport(sslcontext: SSLContext | None) -> Mock:
    """A transport as aiohttp's helper mocks it: only ``sockname`` and ``sslcontext``."""
    transport = Mock()

    def get_extra_info(name: str, default: Any = None) -> Any:
        if name == "sslcontext":
            return sslcontext
        return ("127.0.0.1", 80) if name == "sockname" else default

    transport.get_extra_info.side_effect = get_extra_info
    return transport


class MockedSink:
    """Records what responses write: ``output`` holds the bytes of each call.

    ``get_extra_info`` asks ``transport`` (a test's own, or the mocked one).
    """

    def __init__(self, *, closing: bool = False, transport: Any = None) -> None:
        self.output: list[tuple[str, Any]] = []
        self.closing = closing
        self.will_close = closing
        self.peer_closed = False
        self.bytes_sent = 0
        self.transport = _mocked_transport(None) if transport is None else transport
        self.task: Any = None

    def _record(self, kind: str, value: Any, size: int) -> None:
        self.output.append((kind, value))
        self.bytes_sent += size

    def sent_directly(self, size: int) -> None:
        self._record("sent_directly", size, size)

    def send_response(
        self, version: Any, status: int, reason: str, headers: Any, body: bytes, keep_alive: Any
    ) -> None:
        self._record("response", (status, reason, list(headers), body), len(body) + 1)

    def send_simple(
        self,
        version: Any,
        status: int,
        reason: str,
        content_type: Any,
        body: bytes,
        head_only: bool,
        keep_alive: Any,
        extra: Any = (),
        cookies: Any = (),
    ) -> None:
        headers = [("Content-Type", content_type)] if content_type else []
        headers += [*extra, *cookies]
        self._record(
            "response", (status, reason, headers, b"" if head_only else body), len(body) + 1
        )

    def start_response(
        self, version: Any, status: int, reason: str, headers: Any, chunked: bool, keep_alive: Any
    ) -> None:
        self._record("head", (status, reason, list(headers)), 1)

    def send_body(self, data: bytes) -> None:
        self._record("body", data, len(data))

    def end_response(self) -> None:
        self._record("eof", None, 0)

    async def drain(self) -> None:
        return None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        value = self.transport.get_extra_info(name)
        return default if value is None else value

    def skip_continue(self) -> None:
        self.output.append(("skip_continue", None))

    def hand_over(self, protocol: Any) -> None:
        raise RuntimeError("A mocked request has no connection to hand over")


def make_mocked_request(
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    *,
    match_info: Mapping[str, str] | None = None,
    version: tuple[int, int] = (1, 1),
    closing: bool = False,
    app: Application | None = None,
    writer: Any = None,
    protocol: Any = None,
    transport: Any = None,
    payload: Any = b"",
    sslcontext: SSLContext | None = None,
    client_max_size: int = 1024**2,
    client_max_fields: int = 1000,
    loop: Any = None,
) -> Request:
    """A Request for ``method`` and ``path`` (with query), as aiohttp's helper makes.

    ``payload`` is the body: bytes, or a stream (``request.content`` is then that
    very stream); ``match_info`` the route values; ``transport`` answers
    ``request.transport`` and ``get_extra_info`` (peername, sockname…), else a
    mocked one does, with ``sslcontext`` making the request https. Responses
    written for it are recorded in ``request.protocol.output``. ``writer``,
    ``protocol``, ``client_max_fields`` and ``loop`` are accepted for aiohttp's
    signature and not used.
    """
    hdrs: CIMultiDict[str] = CIMultiDict(headers or {})
    keep_alive = not closing and (version >= (1, 1) or hdrs.get("Connection") == "keep-alive")
    body: _Body | _StreamBody
    if isinstance(payload, bytes | bytearray | memoryview):
        body = _Body(bytes(payload))
        body_length = len(body._data)
    else:
        body = _StreamBody(payload)
        body_length = 0
    head = _Head(method.upper(), path, version, hdrs, keep_alive, body_length)
    if transport is None:
        transport = _mocked_transport(sslcontext)
    if app is None:
        app = _StandInApplication()
        # NOTE: aiohttp's stand-in has a frozen, empty on_response_prepare, so a
        # response can be prepared for the request (a non-frozen signal refuses)
        app.on_response_prepare.freeze()
    sink = MockedSink(closing=closing, transport=transport)
    request = Request(head, body, sink, app, client_max_size)
    if isinstance(body, _StreamBody):
        # NOTE: ``content`` is a reify: the instance attribute is what it serves
        request.__dict__["content"] = payload
    info = UrlMappingMatchInfo(dict(match_info or {}), SystemRoute(HTTPNotFound()))
    info._bind(app)
    request._match_info = info
    return request


_UNSET: Any = object()


def make_mocked_coro(return_value: Any = _UNSET, raise_exception: Any = _UNSET) -> Mock:
    """A ``Mock`` that, called, returns a coroutine giving ``return_value`` or raising.

    The mock records its calls (``assert_called_once_with``…) like any other; an
    awaitable ``return_value`` is awaited and its result dropped, as aiohttp's does.
    """

    async def mock_coro(*args: Any, **kwargs: Any) -> Any:
        if raise_exception is not _UNSET:
            raise raise_exception
        if inspect.isawaitable(return_value):
            await return_value
            return None
        return None if return_value is _UNSET else return_value

    return Mock(wraps=mock_coro)
