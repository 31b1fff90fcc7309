"""``TestClient``: requests to a test server by path, with aiohttp's TestClient API.

``await client.get('/')`` (or ``async with client.get('/') as resp``) returns a
``ClientResponse`` with ``status``, ``headers``, ``cookies``, ``await resp.text()``,
``read()``, ``json()`` and a streaming ``content``; ``client.session`` holds the
cookie jar. httpx carries the requests, so the ``test`` extra must be installed.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Generic, NoReturn, TypeVar, cast

from yarl import URL

from squall.framework.app import Application
from squall.framework.request import BaseRequest
from squall.testing.server import BaseTestServer

try:
    import httpx  # noqa: F401  (the session needs it: fail here with the remedy)
except ImportError as exc:  # pragma: no cover - exercised in tests/test_packaging.py
    raise ModuleNotFoundError(
        "squall's TestClient needs httpx, which the 'test' extra installs: "
        "pip install 'squall[test]'",
        name="httpx",
    ) from exc

from squall.testing.cookiejar import CookieJar
from squall.testing.errors import (
    ClientConnectionError,
    ClientError,
    ClientPayloadError,
    ClientResponseError,
    ContentTypeError,
    ServerDisconnectedError,
    WSServerHandshakeError,
)
from squall.testing.response import ClientResponse
from squall.testing.session import ClientSession, RequestContextManager
from squall.testing.websocket import (
    ClientWebSocketResponse,
    ClientWSTimeout,
    WSRequestContextManager,
)

__all__ = [
    "ClientConnectionError",
    "ClientError",
    "ClientPayloadError",
    "ClientResponse",
    "ClientResponseError",
    "ClientSession",
    "ClientWSTimeout",
    "ClientWebSocketResponse",
    "ContentTypeError",
    "CookieJar",
    "ServerDisconnectedError",
    "TestClient",
    "WSServerHandshakeError",
]


_RequestT = TypeVar("_RequestT", bound=BaseRequest)
_AppT = TypeVar("_AppT", bound="Application | None")


class TestClient(Generic[_RequestT, _AppT]):
    """Make requests to a test server by path: ``await client.get('/')``.

    Keyword arguments are aiohttp's ``ClientSession`` ones that make sense here:
    ``cookie_jar``, ``headers``, ``cookies``, ``auth``, ``raise_for_status``,
    ``timeout``, ``json_serialize``, ``skip_auto_headers``, ``version``,
    ``connector``, ``connector_owner``, ``auto_decompress``. The type parameters are
    aiohttp's (``TestClient[web.Request, web.Application]``), for annotations.
    """

    __test__ = False

    def __init__(
        self,
        server: BaseTestServer,
        *,
        cookie_jar: CookieJar | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None:
        # NOTE: ``loop`` is accepted for aiohttp's signature; the running loop is used
        if not isinstance(server, BaseTestServer):
            raise TypeError(f"server must be TestServer instance, found type: {type(server)!r}")
        self._server = server
        self._session = ClientSession(cookie_jar=cookie_jar, **kwargs)
        self._websockets: list[ClientWebSocketResponse] = []
        self._closed = False

    async def start_server(self) -> None:
        await self._server.start_server()

    @property
    def server(self) -> BaseTestServer:
        return self._server

    @property
    def app(self) -> _AppT:
        """The application under test (``None`` for a RawTestServer)."""
        app = getattr(self._server, "app", None)
        return cast(_AppT, app if isinstance(app, Application) else None)

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int | None:
        return self._server.port

    @property
    def session(self) -> ClientSession:
        """The session underneath: ``client.session.cookie_jar``; takes absolute URLs."""
        return self._session

    def make_url(self, path: URL | str) -> URL:
        return self._server.make_url(str(path))

    def request(self, method: str, path: URL | str, **kwargs: Any) -> RequestContextManager:
        """Send ``method`` to ``path`` on the server, with aiohttp's request arguments.

        Redirects are followed for every method, HEAD included (aiohttp's TestClient
        does so too; only ``session.head`` defaults to ``allow_redirects=False``).
        """
        return self._session.request(method, self.make_url(path), **kwargs)

    def get(self, path: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("GET", path, **kwargs)

    def post(self, path: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("POST", path, **kwargs)

    def put(self, path: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("DELETE", path, **kwargs)

    def options(self, path: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("OPTIONS", path, **kwargs)

    def head(self, path: URL | str, **kwargs: Any) -> RequestContextManager:
        return self.request("HEAD", path, **kwargs)

    def ws_connect(self, path: URL | str, **kwargs: Any) -> WSRequestContextManager:
        """Open a WebSocket to ``path`` on the server, with aiohttp's ``ws_connect``
        arguments; ``close()`` closes the ones still open."""
        return WSRequestContextManager(self._ws_connect(path, **kwargs))

    async def _ws_connect(self, path: URL | str, **kwargs: Any) -> ClientWebSocketResponse:
        ws = await self._session.ws_connect(self.make_url(path), **kwargs)
        self._websockets.append(ws)
        return ws

    async def close(self) -> None:
        """Close the session and the server (once; later calls do nothing)."""
        if not self._closed:
            self._closed = True
            for ws in self._websockets:
                await ws.close()
            self._websockets.clear()
            await self._session.close()
            await self._server.close()

    def __enter__(self) -> NoReturn:
        raise TypeError("Use async with instead")

    def __exit__(self, *exc: object) -> None:
        pass  # pragma: no cover - pairs with __enter__, which always raises

    async def __aenter__(self) -> TestClient[_RequestT, _AppT]:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
