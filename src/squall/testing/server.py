"""``TestServer``: an application served for real on 127.0.0.1, on a free port."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from yarl import URL

from squall.framework.app import Application
from squall.framework.lowlevel import Server
from squall.framework.response import StreamResponse
from squall.runner import AppRunner, BaseRunner, ServerRunner, TCPSite

if TYPE_CHECKING:
    from ssl import SSLContext


def unused_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BaseTestServer:
    """Starts a runner and a TCP site; ``make_url`` builds URLs to it."""

    __test__ = False

    def __init__(
        self,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.scheme = scheme or "http"
        self._explicit_scheme = bool(scheme)
        self.host = host
        self._port = port or 0
        self._kwargs = kwargs
        self.runner: BaseRunner | None = None
        self._site: TCPSite | None = None
        self._ssl: SSLContext | None = None
        self._root: URL | None = None
        self._closed = False

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        raise NotImplementedError

    async def start_server(self, **kwargs: Any) -> None:
        """Start serving (once); ``ssl=`` an SSLContext serves HTTPS, as on aiohttp."""
        if self.runner is not None:
            return
        kwargs = {**self._kwargs, **kwargs}
        self._ssl = kwargs.pop("ssl", None)
        if self._ssl is not None and self.scheme == "http" and not self._explicit_scheme:
            self.scheme = "https"
        self.runner = await self._make_runner(**kwargs)
        await self.runner.setup()
        self._site = TCPSite(self.runner, self.host, self._port, ssl_context=self._ssl)
        await self._site.start()
        self._port = self._site.port
        self._root = URL.build(scheme=self.scheme, host=self.host, port=self._port)

    @property
    def handler(self) -> Any:
        """The runner's server (aiohttp keeps this name for backward compatibility)."""
        assert self.runner is not None and self.runner.server is not None
        return self.runner.server

    @property
    def port(self) -> int:
        return self._port

    @property
    def started(self) -> bool:
        return self.runner is not None

    @property
    def closed(self) -> bool:
        return self._closed

    def make_url(self, path: str) -> URL:
        """The absolute URL of ``path`` on this server."""
        assert self._root is not None, "start the server first"
        url = URL(path)
        assert not url.absolute, "make_url takes a path, not an absolute URL"
        return self._root.join(url)

    async def close(self) -> None:
        """Stop the server and run the application's cleanup."""
        if self.runner is not None and not self._closed:
            await self.runner.cleanup()
        self._closed = True

    async def __aenter__(self) -> BaseTestServer:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class TestServer(BaseTestServer):
    """Serve an Application; keyword arguments go to its runner (limits, timeouts)."""

    def __init__(
        self,
        app: Application,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.app = app
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        kwargs.setdefault("shutdown_timeout", 2.0)
        return AppRunner(self.app, **kwargs)


class RawTestServer(BaseTestServer):
    """Serve one low-level handler (``web.Server``) for every method and path.

    Keyword arguments go to the ``web.Server`` (limits, timeouts, access log),
    ``shutdown_timeout`` and ``handle_signals`` to its ``ServerRunner``.
    """

    def __init__(
        self,
        handler: Callable[..., Awaitable[StreamResponse]],
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self._handler = handler
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        runner_kwargs = {
            "shutdown_timeout": kwargs.pop("shutdown_timeout", 2.0),
            "handle_signals": kwargs.pop("handle_signals", False),
        }
        return ServerRunner(Server(self._handler, **kwargs), **runner_kwargs)
