"""Sites: the listening sockets a runner serves on (``TCPSite``, ``UnixSite``,
``SockSite``, ``NamedPipeSite``), as aiohttp's ``web_runner`` has them.

A site needs a runner that has been set up (``runner.server`` is the protocol
factory); it registers itself with the runner when it starts, so the runner's
``cleanup()`` stops it first. ``squall.runner`` re-exports every name here.
"""

from __future__ import annotations

import asyncio
import os
import socket
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from yarl import URL

if TYPE_CHECKING:
    from ssl import SSLContext


class RunnerLike(Protocol):
    """What a site needs of its runner (``squall.runner.BaseRunner`` is one)."""

    _shutdown_timeout: float

    @property
    def server(self) -> Callable[[], Any] | None:
        """The protocol factory (None before ``setup()``)."""

    def _reg_site(self, site: BaseSite) -> None: ...

    def _check_site(self, site: BaseSite) -> None: ...

    def _unreg_site(self, site: BaseSite) -> None: ...


class BaseSite(ABC):
    """A listening socket attached to a started runner."""

    def __init__(
        self,
        runner: RunnerLike,
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        if runner.server is None:
            raise RuntimeError("Call runner.setup() before making a site")
        if shutdown_timeout != 60.0:
            warnings.warn(
                "shutdown_timeout should be set on BaseRunner", DeprecationWarning, stacklevel=3
            )
            runner._shutdown_timeout = shutdown_timeout
        self._runner = runner
        self._ssl_context = ssl_context
        self._backlog = backlog
        self._server: asyncio.AbstractServer | None = None

    @property
    @abstractmethod
    def name(self) -> str:
        """The site's URL (``http://host:port``, ``https://…`` under TLS)."""

    @property
    def _scheme(self) -> str:
        return "https" if self._ssl_context else "http"

    @property
    def _factory(self) -> Callable[[], Any]:
        server = self._runner.server
        if server is None:
            raise RuntimeError("Call runner.setup() before starting a site")
        return server

    async def start(self) -> None:
        """Start listening."""
        self._runner._reg_site(self)

    async def stop(self) -> None:
        """Stop listening (connections already open are the runner's to close)."""
        self._runner._check_site(self)
        if self._server is not None:  # it may never have started
            self._server.close()
        self._runner._unreg_site(self)


class TCPSite(BaseSite):
    """Listen on a TCP host and port (``port=0`` picks a free one; no host: all)."""

    def __init__(
        self,
        runner: RunnerLike,
        host: str | None = None,
        port: int | None = None,
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: SSLContext | None = None,
        backlog: int = 128,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._host = host
        if port is None:
            port = 8443 if ssl_context else 8080
        self._port = port
        self._bound_port: int | None = None
        self._reuse_address = reuse_address
        self._reuse_port = reuse_port

    @property
    def port(self) -> int:
        """The bound port once started (the real one when asked for port 0)."""
        return self._port if self._bound_port is None else self._bound_port

    @property
    def name(self) -> str:
        host = self._host or "0.0.0.0"
        return str(URL.build(scheme=self._scheme, host=host, port=self.port))

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            self._factory,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        self._server = server
        self._bound_port = server.sockets[0].getsockname()[1] if server.sockets else self._port


class UnixSite(BaseSite):
    """Listen on a Unix domain socket path."""

    def __init__(
        self,
        runner: RunnerLike,
        path: str | os.PathLike[str],
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._path = path

    @property
    def name(self) -> str:
        return f"{self._scheme}://unix:{self._path}:"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(
            self._factory, self._path, ssl=self._ssl_context, backlog=self._backlog
        )


class NamedPipeSite(BaseSite):
    """Listen on a Windows named pipe (a proactor event loop only, as on aiohttp)."""

    def __init__(self, runner: RunnerLike, path: str, *, shutdown_timeout: float = 60.0) -> None:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        proactor = getattr(asyncio, "ProactorEventLoop", None)
        if proactor is None or not isinstance(loop, proactor):
            raise RuntimeError("Named Pipes only available in proactor loop under windows")
        super().__init__(runner, shutdown_timeout=shutdown_timeout)  # pragma: no cover
        self._path = path  # pragma: no cover

    @property
    def name(self) -> str:  # pragma: no cover - Windows only
        return self._path

    async def start(self) -> None:  # pragma: no cover - Windows only
        await super().start()
        loop = asyncio.get_running_loop()
        servers = await loop.start_serving_pipe(self._factory, self._path)  # type: ignore[attr-defined]
        self._server = servers[0]


class SockSite(BaseSite):
    """Serve on a socket that is already bound (and possibly shared between processes)."""

    def __init__(
        self,
        runner: RunnerLike,
        sock: socket.socket,
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._sock = sock
        if hasattr(socket, "AF_UNIX") and sock.family == socket.AF_UNIX:
            self._name = f"{self._scheme}://unix:{sock.getsockname()}:"
        else:
            host, port = sock.getsockname()[:2]
            self._name = str(URL.build(scheme=self._scheme, host=host, port=port))

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._factory, sock=self._sock, ssl=self._ssl_context, backlog=self._backlog
        )


__all__ = ["BaseSite", "NamedPipeSite", "SockSite", "TCPSite", "UnixSite"]
