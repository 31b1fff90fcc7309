"""The composition root: runners, sites and ``run_app``.

The only module that joins ``server`` (connections) and ``framework``
(applications). ``AppRunner`` starts an application and builds the server
around its ``_handle``; sites bind sockets; ``run_app`` does it all and waits
for a signal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import fields
from typing import Any

from squall.framework.app import Application
from squall.server import Server, ServerConfig

access_logger = logging.getLogger("squall.access")
_CONFIG_FIELDS = {f.name for f in fields(ServerConfig)}


class GracefulExit(SystemExit):
    """Raised by the signal handlers of ``run_app`` to stop it cleanly."""

    code = 1


def _raise_graceful_exit() -> None:
    raise GracefulExit()


# aiohttp's per-connection handler arguments that Squall takes and has no use for
# (yet: the access log is its own work); see docs/compat.md
_IGNORED_HANDLER_ARGS = frozenset(
    {
        "access_log",
        "access_log_class",
        "access_log_format",
        "auto_decompress",
        "debug",
        "logger",
        "loop",
        "read_bufsize",
        "tcp_keepalive",
        "timeout_ceil_threshold",
    }
)


def _check_handler_args(kwargs: dict[str, Any]) -> None:
    """Refuse a keyword argument that neither Squall nor aiohttp knows: a typo
    must not be silently dropped."""
    unknown = kwargs.keys() - _CONFIG_FIELDS - _IGNORED_HANDLER_ARGS
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TypeError(f"unexpected keyword argument(s) for the server: {names}")


def _server_config(kwargs: dict[str, Any]) -> ServerConfig:
    """The server's limits and timeouts out of the runner's keyword arguments
    (aiohttp's handler_args)."""
    _check_handler_args(kwargs)
    return ServerConfig(**{k: v for k, v in kwargs.items() if k in _CONFIG_FIELDS})


class BaseRunner:
    """Owns a Server and its sites."""

    def __init__(
        self, *, handle_signals: bool = False, shutdown_timeout: float = 60.0, **kwargs: Any
    ) -> None:
        _check_handler_args(kwargs)
        self._handle_signals = handle_signals
        self._shutdown_timeout = shutdown_timeout
        self._kwargs = kwargs
        self._server: Server | None = None
        self._sites: list[BaseSite] = []

    @property
    def server(self) -> Server | None:
        return self._server

    @property
    def sites(self) -> set[BaseSite]:
        return set(self._sites)

    @property
    def addresses(self) -> list[Any]:
        return [
            sock.getsockname()
            for site in self._sites
            if site._server is not None
            for sock in (site._server.sockets or ())
        ]

    async def setup(self) -> None:
        loop = asyncio.get_running_loop()
        if self._handle_signals:
            try:
                loop.add_signal_handler(signal.SIGINT, _raise_graceful_exit)
                loop.add_signal_handler(signal.SIGTERM, _raise_graceful_exit)
            except NotImplementedError:  # pragma: no cover - not on Linux
                pass
        self._server = await self._make_server()

    async def _make_server(self) -> Server:
        raise NotImplementedError

    async def _cleanup_server(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def cleanup(self) -> None:
        """Stop the sites, let running requests finish, then run cleanup hooks."""
        for site in list(self._sites):
            await site.stop()
        if self._server is not None:
            self._server.pre_shutdown()  # before on_shutdown, as aiohttp orders it
        await self.shutdown()
        if self._server is not None:
            await self._server.shutdown(self._shutdown_timeout)
        await self._cleanup_server()
        self._server = None
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            try:
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)
            except NotImplementedError:  # pragma: no cover
                pass

    def _reg_site(self, site: BaseSite) -> None:
        if site in self._sites:
            raise RuntimeError(f"Site {site} is already registered in runner {self}")
        self._sites.append(site)

    def _unreg_site(self, site: BaseSite) -> None:
        if site in self._sites:
            self._sites.remove(site)


class AppRunner(BaseRunner):
    """Runs an Application: ``await runner.setup()``, add sites, ``await runner.cleanup()``."""

    def __init__(self, app: Application, *, handle_signals: bool = False, **kwargs: Any) -> None:
        if not isinstance(app, Application):
            raise TypeError(f"The first argument should be web.Application instance, got {app!r}")
        super().__init__(handle_signals=handle_signals, **kwargs)
        self._app = app

    @property
    def app(self) -> Application:
        return self._app

    async def _make_server(self) -> Server:
        app = self._app
        app.on_startup.freeze()
        await app.startup()
        app.freeze()
        kwargs = {**app.handler_args, **self._kwargs}
        return Server(app._handle, _server_config(kwargs))

    async def shutdown(self) -> None:
        await self._app.shutdown()

    async def _cleanup_server(self) -> None:
        await self._app.cleanup()


class BaseSite:
    """A listening socket attached to a runner."""

    def __init__(
        self,
        runner: BaseRunner,
        *,
        shutdown_timeout: float = 60.0,  # aiohttp's, unused there too: the runner's counts
        ssl_context: Any = None,
        backlog: int = 128,
    ) -> None:
        if runner.server is None:
            raise RuntimeError("Call runner.setup() before making a site")
        self._runner = runner
        self._backlog = backlog
        self._server: asyncio.Server | None = None

    @property
    def name(self) -> str:
        raise NotImplementedError

    async def _create(self, factory: Callable[[], asyncio.Protocol]) -> asyncio.Server:
        raise NotImplementedError

    async def start(self) -> None:
        self._runner._reg_site(self)
        server = self._runner.server
        assert server is not None
        self._server = await self._create(server)

    async def stop(self) -> None:
        self._runner._unreg_site(self)
        if self._server is not None:
            self._server.close()
            self._server = None


class TCPSite(BaseSite):
    """Listen on a TCP host and port (``port=0`` picks a free one)."""

    def __init__(
        self,
        runner: BaseRunner,
        host: str | None = None,
        port: int | None = None,
        *,
        shutdown_timeout: float = 60.0,  # as on BaseSite
        ssl_context: Any = None,
        backlog: int = 128,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._host = host
        if port is None:
            port = 8443 if ssl_context else 8080
        self._port = port
        self._ssl = ssl_context
        self._reuse_address = reuse_address
        self._reuse_port = reuse_port

    @property
    def port(self) -> int:
        """The bound port (the real one when asked for port 0)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl else "http"
        host = "0.0.0.0" if not self._host else self._host
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}"

    async def _create(self, factory: Callable[[], asyncio.Protocol]) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(
            factory,
            self._host,
            self._port,
            ssl=self._ssl,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )


class UnixSite(BaseSite):
    """Listen on a Unix domain socket path."""

    def __init__(
        self, runner: BaseRunner, path: str, *, ssl_context: Any = None, backlog: int = 128
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._path = path
        self._ssl = ssl_context

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://unix:{self._path}:"

    async def _create(self, factory: Callable[[], asyncio.Protocol]) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_unix_server(
            factory, self._path, ssl=self._ssl, backlog=self._backlog
        )


class SockSite(BaseSite):
    """Serve on a socket that is already bound (and possibly shared between processes)."""

    def __init__(
        self,
        runner: BaseRunner,
        sock: socket.socket,
        *,
        ssl_context: Any = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._sock = sock
        self._ssl = ssl_context
        if sock.family == socket.AF_UNIX:
            self._name = f"http://unix:{sock.getsockname()}:"
        else:
            host, port = sock.getsockname()[:2]
            self._name = f"http://{host}:{port}"

    @property
    def name(self) -> str:
        return self._name

    async def _create(self, factory: Callable[[], asyncio.Protocol]) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(
            factory, sock=self._sock, ssl=self._ssl, backlog=self._backlog
        )


def _new_loop(use_uvloop: bool | None) -> asyncio.AbstractEventLoop:
    if use_uvloop is not False and sys.platform != "win32":
        try:
            import uvloop
        except ImportError:
            if use_uvloop:
                raise
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


async def _run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None,
    port: int | None,
    path: str | Iterable[str] | None,
    sock: socket.socket | Iterable[socket.socket] | None,
    ssl_context: Any,
    print: Callable[..., None] | None,
    backlog: int,
    reuse_address: bool | None,
    reuse_port: bool | None,
    shutdown_timeout: float,
    handle_signals: bool,
    runner_kwargs: dict[str, Any],
) -> None:
    if not isinstance(app, Application):
        app = await app
    runner = AppRunner(
        app, handle_signals=handle_signals, shutdown_timeout=shutdown_timeout, **runner_kwargs
    )
    await runner.setup()
    sites: list[BaseSite] = []
    try:
        if host is not None:
            hosts = [host] if isinstance(host, str) else list(host)
            for h in hosts:
                sites.append(
                    TCPSite(
                        runner,
                        h,
                        port,
                        ssl_context=ssl_context,
                        backlog=backlog,
                        reuse_address=reuse_address,
                        reuse_port=reuse_port,
                    )
                )
        elif (path is None and sock is None) or port is not None:
            sites.append(
                TCPSite(
                    runner,
                    port=port,
                    ssl_context=ssl_context,
                    backlog=backlog,
                    reuse_address=reuse_address,
                    reuse_port=reuse_port,
                )
            )
        if path is not None:
            for p in [path] if isinstance(path, str | os.PathLike) else list(path):
                sites.append(UnixSite(runner, str(p), ssl_context=ssl_context, backlog=backlog))
        if sock is not None:
            for s in [sock] if isinstance(sock, socket.socket) else list(sock):
                sites.append(SockSite(runner, s, ssl_context=ssl_context, backlog=backlog))
        for site in sites:
            await site.start()
        if print is not None:
            names = sorted(site.name for site in runner.sites)
            print(
                "======== Running on {} ========\n(Press CTRL+C to quit)".format(", ".join(names))
            )
        while True:
            await asyncio.sleep(3600)
    finally:
        await runner.cleanup()


def run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None = None,
    port: int | None = None,
    path: str | Iterable[str] | None = None,
    sock: socket.socket | Iterable[socket.socket] | None = None,
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = 75.0,
    ssl_context: Any = None,
    print: Callable[..., None] | None = print,
    backlog: int = 128,
    access_log_class: Any = None,
    access_log_format: str | None = None,
    access_log: logging.Logger | None = access_logger,
    handle_signals: bool = True,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    handler_cancellation: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
    use_uvloop: bool | None = None,
    workers: int = 1,
    **kwargs: Any,
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, then shut down gracefully.

    ``use_uvloop``: None uses uvloop when it is installed, False never does.
    ``workers``: more than 1 serves from that many processes on the same port
    (see ``squall.prefork``).
    """
    if workers != 1:
        from squall.prefork import run_workers

        run_workers(
            workers,
            app,
            {
                "host": host,
                "port": port,
                "path": path,
                "sock": sock,
                "shutdown_timeout": shutdown_timeout,
                "keepalive_timeout": keepalive_timeout,
                "ssl_context": ssl_context,
                "print": print,
                "backlog": backlog,
                "access_log_class": access_log_class,
                "access_log_format": access_log_format,
                "access_log": access_log,
                "handle_signals": handle_signals,
                "reuse_address": reuse_address,
                "reuse_port": reuse_port,
                "handler_cancellation": handler_cancellation,
                "use_uvloop": use_uvloop,
                **kwargs,
            },
        )
        return
    runner_kwargs = {
        "keepalive_timeout": keepalive_timeout,
        "handler_cancellation": handler_cancellation,
        **kwargs,
    }
    _check_handler_args(runner_kwargs)
    if loop is None:
        loop = _new_loop(use_uvloop)
    asyncio.set_event_loop(loop)
    if loop.get_debug() and access_log and access_log.name == "squall.access":
        if access_log.level == logging.NOTSET:
            access_log.setLevel(logging.DEBUG)
        if not access_log.hasHandlers():
            access_log.addHandler(logging.StreamHandler())
    main_task = loop.create_task(
        _run_app(
            app,
            host=host,
            port=port,
            path=path,
            sock=sock,
            ssl_context=ssl_context,
            print=print,
            backlog=backlog,
            reuse_address=reuse_address,
            reuse_port=reuse_port,
            shutdown_timeout=shutdown_timeout,
            handle_signals=handle_signals,
            runner_kwargs=runner_kwargs,
        )
    )
    try:
        loop.run_until_complete(main_task)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            main_task.cancel()
            try:
                loop.run_until_complete(main_task)
            except (asyncio.CancelledError, GracefulExit, KeyboardInterrupt):
                pass
            _cancel_tasks(asyncio.all_tasks(loop), loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_tasks(tasks: set[asyncio.Task[Any]], loop: asyncio.AbstractEventLoop) -> None:
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if task.cancelled():
            continue
        if task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during run_app shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )
