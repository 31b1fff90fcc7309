"""``make_mocked_request`` and ``make_mocked_coro``: unit tests without a server.

No socket, no loop work: the head is built from the arguments, the body is the
given bytes, and whatever a response writes lands in ``request.protocol.output``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any
from unittest.mock import Mock

from multidict import CIMultiDict

from squall.framework.app import Application
from squall.framework.exceptions import HTTPNotFound
from squall.framework.request import Request
from squall.framework.routing.matchinfo import UrlMappingMatchInfo
from squall.framework.routing.resources import SystemRoute


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


class MockedSink:
    """Records what responses write: ``output`` holds the bytes of each call."""

    def __init__(self, *, closing: bool = False, peername: Any = ("127.0.0.1", 12345)) -> None:
        self.output: list[tuple[str, Any]] = []
        self.closing = closing
        self.will_close = closing
        self.bytes_sent = 0
        self.transport = None
        self.task: Any = None
        self._extra = {"peername": peername, "sockname": ("127.0.0.1", 8080)}

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
    ) -> None:
        headers = [("Content-Type", content_type)] if content_type else []
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
        return self._extra.get(name, default)

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
    payload: bytes = b"",
    client_max_size: int = 1024**2,
    **_ignored: Any,
) -> Request:
    """A Request for ``method`` and ``path`` (with query), as aiohttp's helper makes.

    ``payload`` is the body; ``match_info`` the route values; responses written
    for it are recorded in ``request.protocol.output``.
    """
    hdrs: CIMultiDict[str] = CIMultiDict(headers or {})
    if version >= (1, 1) and "Host" not in hdrs:
        hdrs["Host"] = "localhost"
    keep_alive = not closing and (version >= (1, 1) or hdrs.get("Connection") == "keep-alive")
    head = _Head(method.upper(), path, version, hdrs, keep_alive, len(payload))
    if app is None:
        app = Application()
    request = Request(head, _Body(payload), MockedSink(closing=closing), app, client_max_size)
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
