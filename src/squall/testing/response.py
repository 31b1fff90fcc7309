"""``ClientResponse``: what a test client's request returns, with aiohttp's reading API.

The status and headers are there when the request returns; the body keeps arriving
in ``resp.content`` (a ``StreamReader``) while the test runs, as with aiohttp, so a
test can read the first event of an endless stream. ``read()``, ``text()`` and
``json()`` read the whole body once and keep it.
"""

from __future__ import annotations

import codecs
import json as jsonlib
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from squall.http.mediatype import parse_content_type
from squall.testing.errors import ClientConnectionError, ClientResponseError, ContentTypeError
from squall.testing.stream import StreamReader

# aiohttp's test: application/json and application/<anything>+json are JSON
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+?\+)?json")


class HttpVersion(NamedTuple):
    major: int
    minor: int


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """The request a response answers (aiohttp's ``resp.request_info``)."""

    url: URL
    method: str
    headers: CIMultiDictProxy[str]
    real_url: URL


class ClientResponse:
    """A response whose head has arrived; the body is read from ``content``."""

    def __init__(
        self,
        *,
        status: int,
        reason: str,
        version: HttpVersion,
        raw_headers: list[tuple[bytes, bytes]],
        url: URL,
        request_info: RequestInfo,
        history: tuple[ClientResponse, ...],
        content: StreamReader,
        on_release: Callable[[], None] | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.version = version
        self.raw_headers = tuple(raw_headers)
        self.headers = CIMultiDictProxy(
            CIMultiDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers)
        )
        self.url = url
        self.real_url = url
        self.method = request_info.method
        self.request_info = request_info
        self.history = history
        self.content = content
        self._on_release = on_release
        self._body: bytes | None = None
        self._released = False
        self.cookies: SimpleCookie = SimpleCookie()
        for value in self.headers.getall("Set-Cookie", ()):
            self.cookies.load(value)

    @property
    def ok(self) -> bool:
        """True when the status is under 400."""
        return self.status < 400

    @property
    def content_type(self) -> str:
        return parse_content_type(self.headers.get("Content-Type", "application/octet-stream"))[0]

    @property
    def charset(self) -> str | None:
        return parse_content_type(self.headers.get("Content-Type", ""))[1].get("charset")

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    @property
    def closed(self) -> bool:
        return self._released

    def get_encoding(self) -> str:
        """The body's charset: the Content-Type's, else UTF-8 (JSON's own default too)."""
        if self.charset:
            try:
                return codecs.lookup(self.charset).name
            except LookupError:
                pass
        return "utf-8"

    async def read(self) -> bytes:
        """The whole body (read once, then kept)."""
        if self._body is None:
            if self._released:
                raise ClientConnectionError("Connection closed")
            self._body = await self.content.read()
        return self._body

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        body = await self.read()
        return body.decode(encoding or self.get_encoding(), errors=errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = jsonlib.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """The body decoded as JSON; ``None`` for an empty body."""
        body = await self.read()
        if content_type:
            ctype = self.headers.get("Content-Type", "").lower()
            expected = (
                _JSON_TYPE.match(ctype) is not None
                if content_type == "application/json"
                else content_type in ctype
            )
            if not expected:
                raise ContentTypeError(
                    self.status,
                    f"Attempt to decode JSON with unexpected mimetype: {ctype}",
                    self.headers,
                )
        stripped = body.strip()
        if not stripped:
            return None
        return loads(stripped.decode(encoding or self.get_encoding()))

    def raise_for_status(self) -> None:
        if not self.ok:
            raise ClientResponseError(self.status, self.reason, self.headers)

    def release(self) -> _Done:
        """Stop receiving the body (what was not read is dropped); awaitable, as aiohttp's."""
        if not self._released:
            self._released = True
            if self._on_release is not None:
                self._on_release()
        return _Done()

    def close(self) -> None:
        self.release()

    async def wait_for_close(self) -> None:
        await self.content.wait_eof()
        self.release()

    async def __aenter__(self) -> ClientResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<ClientResponse({self.url}) [{self.status} {self.reason}]>"


class _Done:
    """An awaitable that is already done: lets ``await resp.release()`` work."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield
