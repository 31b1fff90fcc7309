"""``TestServer``: an application served for real on 127.0.0.1, on a free port."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from yarl import URL

from squall.framework.app import Application
from squall.framework.lowlevel import Server
from squall.framework.response import StreamResponse
from squall.runner import AppRunner, BaseRunner, ServerRunner, SockSite

if TYPE_CHECKING:
    from ssl import SSLContext


def unused_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_port_socket(host: str, port: int, family: socket.AddressFamily) -> socket.socket:
    """A TCP socket bound to ``(host, port)`` (SO_REUSEADDR set), not yet listening."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # NOTE: Windows gives SO_REUSEADDR another meaning (port stealing); skip it there
        if hasattr(socket, "SO_REUSEADDR") and not hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def get_unused_port_socket(
    host: str, family: socket.AddressFamily = socket.AF_INET
) -> socket.socket:
    """A TCP socket bound to a free port of ``host``: no race between finding and binding."""
    return get_port_socket(host, 0, family)


SocketFactory = Callable[[str, int, socket.AddressFamily], socket.socket]


class BaseTestServer:
    """Starts a runner and serves it on a socket from ``socket_factory``.

    ``make_url`` builds URLs to it; ``host`` and ``port`` are the bound address once
    started (``port`` is None again after ``close()``, as on aiohttp).
    """

    __test__ = False

    def __init__(
        self,
        *,
        scheme: str = "",
        loop: asyncio.AbstractEventLoop | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        skip_url_asserts: bool = False,
        socket_factory: SocketFactory = get_port_socket,
        **kwargs: Any,
    ) -> None:
        # NOTE: ``loop`` is accepted for aiohttp's signature; the running loop is used
        self.scheme = scheme
        self.host = host
        self.port: int | None = port
        self.skip_url_asserts = skip_url_asserts
        self.socket_factory = socket_factory
        self._kwargs = kwargs
        self.runner: BaseRunner | None = None
        self._site: SockSite | None = None
        self._ssl: SSLContext | None = None
        self._root: URL | None = None
        self._closed = False

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        raise NotImplementedError

    async def start_server(
        self, loop: asyncio.AbstractEventLoop | None = None, **kwargs: Any
    ) -> None:
        """Start serving (once); ``ssl=`` an SSLContext serves HTTPS, as on aiohttp."""
        if self.runner is not None:
            return
        kwargs = {**self._kwargs, **kwargs}
        self._ssl = kwargs.pop("ssl", None)
        self.runner = await self._make_runner(**kwargs)
        await self.runner.setup()
        try:
            version = ipaddress.ip_address(self.host).version
        except ValueError:  # a name such as "localhost"
            version = 4
        family = socket.AF_INET6 if version == 6 else socket.AF_INET
        url_host = f"[{self.host}]" if version == 6 else self.host  # a name stays a name
        sock = self.socket_factory(self.host, self.port or 0, family)
        self.host, self.port = sock.getsockname()[:2]
        self._site = SockSite(self.runner, sock, ssl_context=self._ssl)
        await self._site.start()
        if not self.scheme:
            self.scheme = "https" if self._ssl is not None else "http"
        self._root = URL(f"{self.scheme}://{url_host}:{self.port}")

    @property
    def handler(self) -> Any:
        """The runner's server (aiohttp keeps this name for backward compatibility)."""
        assert self.runner is not None and self.runner.server is not None
        return self.runner.server

    @property
    def started(self) -> bool:
        return self.runner is not None

    @property
    def closed(self) -> bool:
        return self._closed

    def make_url(self, path: str | URL) -> URL:
        """The absolute URL of ``path`` on this server.

        With ``skip_url_asserts`` the path is appended as text, unchecked (so a
        test can send a target that is not a plain path).
        """
        assert self._root is not None, "start the server first"
        if self.skip_url_asserts:
            return URL(str(self._root) + str(path))
        url = URL(path)
        assert not url.absolute, "make_url takes a path, not an absolute URL"
        return self._root.join(url)

    async def close(self) -> None:
        """Stop the server and run the application's cleanup (idempotent)."""
        if self.runner is not None and not self._closed:
            await self.runner.cleanup()
            self._root = None
            self.port = None
            self._closed = True

    def __enter__(self) -> None:
        raise TypeError("Use async with instead")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Never reached: ``__enter__`` raises."""

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
