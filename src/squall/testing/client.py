"""``TestClient``: httpx underneath, aiohttp's client-response API on top.

Tests written against aiohttp's ``TestClient`` read ``resp.status``,
``await resp.text()``, ``await resp.json()`` and ``resp.headers``, and use
``async with client.get(...) as resp``; both work here.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Awaitable, Callable, Generator, Mapping
from http.cookies import SimpleCookie
from types import TracebackType
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from squall.framework.app import Application
from squall.http.mediatype import parse_content_type
from squall.testing.server import BaseTestServer

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised in tests/test_packaging.py
    raise ModuleNotFoundError(
        "squall's TestClient needs httpx, which the 'test' extra installs: "
        "pip install 'squall[test]'",
        name="httpx",
    ) from exc


class ContentTypeError(ValueError):
    """``resp.json()`` on a response that is not JSON (aiohttp's name)."""


class ClientResponseError(Exception):
    """``raise_for_status()`` on a 4xx or 5xx response."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}, message={message!r}")
        self.status = status
        self.message = message


class ClientResponse:
    """A finished response, read into memory."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.reason = response.reason_phrase
        self.version = tuple(int(p) for p in response.http_version.split("/")[-1].split("."))
        self.headers = CIMultiDictProxy(CIMultiDict(response.headers.multi_items()))
        self.url = URL(str(response.url))
        self.method = response.request.method
        self.history = tuple(ClientResponse(r) for r in response.history)
        cookies: SimpleCookie = SimpleCookie()
        for value in response.headers.get_list("set-cookie"):
            cookies.load(value)
        self.cookies = cookies

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def content_type(self) -> str:
        return parse_content_type(self.headers.get("Content-Type", ""))[0]

    @property
    def charset(self) -> str | None:
        return parse_content_type(self.headers.get("Content-Type", ""))[1].get("charset")

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None else None

    async def read(self) -> bytes:
        return self._response.content

    async def text(self, encoding: str | None = None) -> str:
        return self._response.content.decode(encoding or self.charset or "utf-8")

    async def json(
        self,
        *,
        loads: Callable[[str], Any] = jsonlib.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        if content_type and content_type not in self.content_type:
            raise ContentTypeError(
                f"Attempt to decode JSON with unexpected mimetype: {self.content_type}"
            )
        text = await self.text()
        if not text.strip():
            return None
        return loads(text)

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise ClientResponseError(self.status, self.reason)

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass

    async def __aenter__(self) -> ClientResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    def __repr__(self) -> str:
        return f"<ClientResponse({self.url}) [{self.status} {self.reason}]>"


class _RequestContextManager:
    """Both awaitable and an async context manager, as aiohttp's request calls are."""

    def __init__(self, coro: Awaitable[ClientResponse]) -> None:
        self._coro = coro
        self._resp: ClientResponse | None = None

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._coro.__await__()

    async def __aenter__(self) -> ClientResponse:
        self._resp = await self._coro
        return self._resp

    async def __aexit__(self, *exc: object) -> None:
        pass


class TestClient:
    """Make requests to a TestServer by path: ``await client.get('/')``."""

    __test__ = False

    def __init__(self, server: BaseTestServer, **kwargs: Any) -> None:
        if not isinstance(server, BaseTestServer):
            raise TypeError(f"server must be a TestServer instance, found type: {type(server)!r}")
        self._server = server
        kwargs.setdefault("timeout", 30.0)
        self._session = httpx.AsyncClient(**kwargs)
        self._closed = False

    async def start_server(self) -> None:
        await self._server.start_server()

    @property
    def server(self) -> BaseTestServer:
        return self._server

    @property
    def app(self) -> Application | None:
        return getattr(self._server, "app", None)

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def session(self) -> httpx.AsyncClient:
        """The underlying ``httpx.AsyncClient``."""
        return self._session

    def make_url(self, path: str) -> URL:
        return self._server.make_url(path)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        data: Any = None,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        allow_redirects: bool = True,
        timeout: Any = None,
        **kwargs: Any,
    ) -> ClientResponse:
        url = str(self.make_url(path))
        extra: dict[str, Any] = {}
        if isinstance(data, bytes | bytearray | str):
            extra["content"] = data
        elif data is not None:
            extra["data"] = data
        if json is not None:
            extra["json"] = json
        if timeout is not None:
            extra["timeout"] = timeout
        if cookies:
            for name, value in cookies.items():
                self._session.cookies.set(name, value)
        response = await self._session.request(
            method,
            url,
            params=params,
            headers=dict(headers) if headers is not None else None,
            follow_redirects=allow_redirects,
            **extra,
            **kwargs,
        )
        return ClientResponse(response)

    def request(self, method: str, path: str, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> _RequestContextManager:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> _RequestContextManager:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> _RequestContextManager:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> _RequestContextManager:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> _RequestContextManager:
        return self.request("DELETE", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> _RequestContextManager:
        return self.request("OPTIONS", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> _RequestContextManager:
        return self.request(
            "HEAD", path, allow_redirects=kwargs.pop("allow_redirects", False), **kwargs
        )

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._session.aclose()
            await self._server.close()

    async def __aenter__(self) -> TestClient:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
