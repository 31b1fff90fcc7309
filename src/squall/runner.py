"""The composition root: runners and ``run_app`` (the sites are in ``squall.sites``).

The only module that joins ``server`` (connections) and ``framework``
(applications). A runner builds the server around a handler (``AppRunner``: an
application's ``_handle``; ``ServerRunner``: a low-level ``web.Server``'s), sites
bind sockets to it, ``run_app`` does it all and waits for a signal.

Shutdown, in aiohttp's order (``BaseRunner.cleanup``):
1. the sites stop listening (no new connection is accepted);
2. idle keep-alive connections close; busy ones will close after their answer;
3. ``on_shutdown`` runs;
4. running handlers get up to ``shutdown_timeout`` seconds to finish;
5. what is still open is dropped and its handler cancelled;
6. ``on_cleanup`` runs (``cleanup_ctx`` unwinds).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import fields
from functools import partial
from typing import TYPE_CHECKING, Any

from squall.framework.accesslog import AbstractAccessLogger, AccessLogger, log_refused
from squall.framework.app import Application
from squall.framework.lowlevel import Server
from squall.framework.websocket import close_websockets
from squall.server import Server as HttpServer
from squall.server import ServerConfig
from squall.server.protocol import HttpProtocol
from squall.sites import BaseSite, NamedPipeSite, SockSite, TCPSite, UnixSite

if TYPE_CHECKING:
    from ssl import SSLContext

access_logger = logging.getLogger("squall.access")
_CONFIG_FIELDS = {f.name for f in fields(ServerConfig)}

# aiohttp's name for the per-connection protocol: here the server's own (one per
# connection, the request's ``protocol``); built by the runner's server, not by hand.
RequestHandler = HttpProtocol


class GracefulExit(SystemExit):
    """Raised by the signal handlers of ``run_app`` to stop it cleanly."""

    code = 1


def _raise_graceful_exit() -> None:
    raise GracefulExit()


# -- the keyword arguments of a runner (aiohttp's handler_args) ------------------------

_ACCESS_LOG_ARGS = frozenset({"access_log", "access_log_class", "access_log_format"})
# read by the application's requests (AppRunner._make_server hands them over)
_APP_ARGS = frozenset({"auto_decompress"})
# aiohttp's per-connection handler arguments that Squall takes and has no use for;
# see docs/compat.md
_IGNORED_HANDLER_ARGS = frozenset(
    {
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
    unknown = kwargs.keys() - _CONFIG_FIELDS - _IGNORED_HANDLER_ARGS - _ACCESS_LOG_ARGS - _APP_ARGS
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TypeError(f"unexpected keyword argument(s) for the server: {names}")


def _server_config(kwargs: dict[str, Any]) -> ServerConfig:
    """The server's limits and timeouts out of the runner's keyword arguments
    (aiohttp's handler_args)."""
    _check_handler_args(kwargs)
    return ServerConfig(**{k: v for k, v in kwargs.items() if k in _CONFIG_FIELDS})


def _access_logger(kwargs: dict[str, Any]) -> AbstractAccessLogger | None:
    """The access logger that ``access_log_class``, ``access_log`` and
    ``access_log_format`` describe, or None when there is nothing to log.

    ``access_log=None`` turns the log off. Whether the logger is ``enabled`` is
    the runner's business (``_AccessWatch``), not the request path's.
    """
    cls = kwargs.get("access_log_class", AccessLogger)
    if not _is_access_logger_class(cls):
        raise TypeError(
            f"access_log_class must be subclass of squall.web.AbstractAccessLogger, got {cls}"
        )
    log = kwargs.get("access_log", access_logger)
    if not log:
        return None
    logger: AbstractAccessLogger = cls(
        log, kwargs.get("access_log_format", AccessLogger.LOG_FORMAT)
    )
    return logger


def _is_access_logger_class(cls: Any) -> bool:
    """A subclass of our ``AbstractAccessLogger``, or a class shaped as one: ``log``
    and ``enabled``, as a subclass of aiohttp's ``aiohttp.abc.AbstractAccessLogger``
    has (an application that kept that import keeps working; Squall cannot name it)."""
    if not isinstance(cls, type):
        return False
    if issubclass(cls, AbstractAccessLogger):
        return True
    return callable(getattr(cls, "log", None)) and hasattr(cls, "enabled")


class _AccessWatch:
    """Installs the access logger on its target while ``enabled`` says so.

    PERF: the request path only tests ``_access_logger is None``; ``enabled`` (a
    logging level lookup) is asked here once a second instead of per request, so
    a disabled log costs nothing and a level changed at run time (or in an
    ``on_startup`` hook) takes effect within a second. aiohttp asks it per
    connection.
    """

    EVERY = 1.0

    def __init__(
        self, access: AbstractAccessLogger, target: Application | Server, server: HttpServer
    ) -> None:
        self._access = access
        self._target = target
        self._server = server
        self._refused = partial(log_refused, access)  # what the server answers by itself
        self._handle: asyncio.TimerHandle | None = None
        self.check()

    def check(self) -> None:
        access = self._access
        try:
            enabled = access.enabled
        except Exception:
            logging.getLogger("squall.server").exception("Error in logging")
            enabled = False
        self._target._access_logger = access if enabled else None
        self._server.on_error_response = self._refused if enabled else None
        loop = asyncio.get_running_loop()
        self._handle = loop.call_later(self.EVERY, self.check)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


# -- runners ---------------------------------------------------------------------------


class BaseRunner(ABC):
    """Owns a server and its sites: ``await setup()``, add sites, ``await cleanup()``."""

    def __init__(
        self, *, handle_signals: bool = False, shutdown_timeout: float = 60.0, **kwargs: Any
    ) -> None:
        _check_handler_args(kwargs)
        self._handle_signals = handle_signals
        self._shutdown_timeout = shutdown_timeout
        self._kwargs = kwargs
        self._server: HttpServer | Server | None = None
        self._sites: list[BaseSite] = []
        self._access_watch: _AccessWatch | None = None

    @property
    def server(self) -> HttpServer | Server | None:
        """The protocol factory the sites serve (None before ``setup``)."""
        return self._server

    @property
    def addresses(self) -> list[Any]:
        """The bound addresses of the started sites (``getsockname()`` of each socket)."""
        return [
            sock.getsockname()
            for site in self._sites
            if site._server is not None
            for sock in (getattr(site._server, "sockets", None) or ())
        ]

    @property
    def sites(self) -> set[BaseSite]:
        return set(self._sites)

    async def setup(self) -> None:
        """Start the server (for ``AppRunner``: run ``on_startup``); sites come after."""
        loop = asyncio.get_running_loop()
        if self._handle_signals:
            try:
                loop.add_signal_handler(signal.SIGINT, _raise_graceful_exit)
                loop.add_signal_handler(signal.SIGTERM, _raise_graceful_exit)
            except NotImplementedError:  # pragma: no cover - not on Linux
                pass
        self._server = await self._make_server()

    @abstractmethod
    async def shutdown(self) -> None:
        """Run the shutdown hooks (``on_shutdown``)."""

    @abstractmethod
    async def _make_server(self) -> HttpServer | Server: ...

    @abstractmethod
    async def _cleanup_server(self) -> None: ...

    async def cleanup(self) -> None:
        """Stop the sites and shut down gracefully (see the module's docstring)."""
        for site in list(self._sites):
            await site.stop()
        server = self._server
        if server is not None:
            # let connections accepted just before the sites stopped reach the server
            await asyncio.sleep(0)
            server.pre_shutdown()
            await self.shutdown()
            # open WebSockets (no longer the server's connections after their 101)
            # get a 1001 close and up to shutdown_timeout for their handlers
            await close_websockets(self._websocket_owner(), timeout=self._shutdown_timeout)
            await server.shutdown(self._shutdown_timeout)
        if self._access_watch is not None:
            self._access_watch.stop()
            self._access_watch = None
        await self._cleanup_server()
        self._server = None
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            try:
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)
            except NotImplementedError:  # pragma: no cover
                pass

    def _websocket_owner(self) -> Application | None:
        """The app whose WebSockets close at shutdown (None: a low-level server's)."""
        return None

    def _reg_site(self, site: BaseSite) -> None:
        if site in self._sites:
            raise RuntimeError(f"Site {site} is already registered in runner {self}")
        self._sites.append(site)

    def _check_site(self, site: BaseSite) -> None:
        if site not in self._sites:
            raise RuntimeError(f"Site {site} is not registered in runner {self}")

    def _unreg_site(self, site: BaseSite) -> None:
        self._check_site(site)
        self._sites.remove(site)


class AppRunner(BaseRunner):
    """Runs an Application: ``await runner.setup()``, add sites, ``await runner.cleanup()``.

    Keyword arguments: ``handle_signals``, ``shutdown_timeout``, the access log
    (``access_log_class``, ``access_log_format``, ``access_log``) and the
    connection's limits and timeouts; the app's ``handler_args`` override them.
    """

    def __init__(
        self,
        app: Application,
        *,
        handle_signals: bool = False,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        **kwargs: Any,
    ) -> None:
        super().__init__(handle_signals=handle_signals, **kwargs)
        if not isinstance(app, Application):
            raise TypeError(f"The first argument should be web.Application instance, got {app!r}")
        self._kwargs["access_log_class"] = access_log_class
        self._app = app

    @property
    def app(self) -> Application:
        return self._app

    async def _make_server(self) -> HttpServer:
        app = self._app
        kwargs = {**self._kwargs, **app.handler_args}  # aiohttp's precedence
        # checked before on_startup: a typo fails before any hook ran
        config = _server_config(kwargs)
        access = _access_logger(kwargs)
        if "auto_decompress" in kwargs:  # Request._source reads it (aiohttp's parser does)
            app._auto_decompress = bool(kwargs["auto_decompress"])
        app.on_startup.freeze()
        await app.startup()
        app.freeze()
        server = HttpServer(app._handle, config)
        if access is not None:  # asked after on_startup, where logging may be set up
            self._access_watch = _AccessWatch(access, app, server)
        return server

    async def shutdown(self) -> None:
        await self._app.shutdown()

    def _websocket_owner(self) -> Application | None:
        return self._app

    async def _cleanup_server(self) -> None:
        await self._app.cleanup()


class ServerRunner(BaseRunner):
    """Runs a low-level ``web.Server`` (one handler for every request, no Application).

    The server's own keyword arguments (limits, timeouts, access log) win over
    the runner's.
    """

    def __init__(self, web_server: Server, *, handle_signals: bool = False, **kwargs: Any) -> None:
        if not isinstance(web_server, Server):
            raise TypeError(f"The first argument should be web.Server instance, got {web_server!r}")
        super().__init__(handle_signals=handle_signals, **kwargs)
        _check_handler_args(web_server._kwargs)
        self._web_server = web_server

    async def _make_server(self) -> Server:
        web_server = self._web_server
        kwargs = {**self._kwargs, **web_server._kwargs}
        if web_server.handler_cancellation:
            kwargs["handler_cancellation"] = True
        config = _server_config(kwargs)
        access = _access_logger(kwargs)
        server = HttpServer(web_server._handle, config)
        if access is not None:
            self._access_watch = _AccessWatch(access, web_server, server)
        web_server._attach(server)
        return web_server

    async def shutdown(self) -> None:
        pass  # a low-level server has no on_shutdown

    async def _cleanup_server(self) -> None:
        self._web_server._attach(None)


# -- run_app ---------------------------------------------------------------------------


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


def _make_sites(
    runner: BaseRunner,
    *,
    host: str | Iterable[str] | None,
    port: int | None,
    path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None,
    sock: socket.socket | Iterable[socket.socket] | None,
    ssl_context: SSLContext | None,
    backlog: int,
    reuse_address: bool | None,
    reuse_port: bool | None,
) -> list[BaseSite]:
    """run_app's sites, as aiohttp picks them: a TCP site per host (all interfaces
    when no host, path or sock is given, or a port is), a Unix site per path, a
    socket site per socket."""
    sites: list[BaseSite] = []
    if host is not None:
        for h in [host] if isinstance(host, str) else host:
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
        for p in [path] if isinstance(path, str | os.PathLike) else path:
            sites.append(UnixSite(runner, p, ssl_context=ssl_context, backlog=backlog))
    if sock is not None:
        for s in [sock] if isinstance(sock, socket.socket) else sock:
            sites.append(SockSite(runner, s, ssl_context=ssl_context, backlog=backlog))
    return sites


async def _run_app(
    app: Application | Awaitable[Application],
    *,
    print: Callable[..., None] | None,
    sites: dict[str, Any],
    runner_kwargs: dict[str, Any],
) -> None:
    if not isinstance(app, Application):
        app = await app
    runner = AppRunner(app, **runner_kwargs)
    await runner.setup()
    try:
        for site in _make_sites(runner, **sites):
            await site.start()
        if print is not None:
            names = ", ".join(sorted(site.name for site in runner.sites))
            print(f"======== Running on {names} ========\n(Press CTRL+C to quit)")
        while True:  # until a signal (GracefulExit) or a cancel
            await asyncio.sleep(3600)
    finally:
        await runner.cleanup()


def run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None = None,
    port: int | None = None,
    path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
    sock: socket.socket | Iterable[socket.socket] | None = None,
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = 75.0,
    ssl_context: SSLContext | None = None,
    print: Callable[..., None] | None = print,
    backlog: int = 128,
    access_log_class: type[AbstractAccessLogger] = AccessLogger,
    access_log_format: str = AccessLogger.LOG_FORMAT,
    access_log: logging.Logger | None = access_logger,
    handle_signals: bool = True,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    handler_cancellation: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
    use_uvloop: bool | None = None,
    workers: int | None = 1,
    **kwargs: Any,
) -> None:
    """Serve ``app`` (or the application an awaitable returns) until SIGINT or
    SIGTERM, then shut down gracefully (see the module's docstring).

    ``use_uvloop``: None uses uvloop when it is installed, False never does.
    ``workers``: more than 1 (None: one per CPU) serves from that many processes on the same port
    (see ``squall.prefork``).
    """
    if workers != 1 or workers is True:  # True == 1: refused by run_workers
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
        "access_log_class": access_log_class,
        "access_log_format": access_log_format,
        "access_log": access_log,
        **kwargs,
    }
    _check_handler_args(runner_kwargs)
    runner_kwargs.update(handle_signals=handle_signals, shutdown_timeout=shutdown_timeout)
    sites = {
        "host": host,
        "port": port,
        "path": path,
        "sock": sock,
        "ssl_context": ssl_context,
        "backlog": backlog,
        "reuse_address": reuse_address,
        "reuse_port": reuse_port,
    }
    if loop is None:
        loop = _new_loop(use_uvloop)
    asyncio.set_event_loop(loop)
    # as aiohttp: in debug mode the default access logger shows at DEBUG on stderr
    if loop.get_debug() and access_log and access_log.name == "squall.access":
        if access_log.level == logging.NOTSET:
            access_log.setLevel(logging.DEBUG)
        if not access_log.hasHandlers():
            access_log.addHandler(logging.StreamHandler())
    main_task = loop.create_task(
        _run_app(app, print=print, sites=sites, runner_kwargs=runner_kwargs)
    )
    try:
        loop.run_until_complete(main_task)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main_task.done():  # a signal: shut down gracefully now
                main_task.cancel()
                try:
                    loop.run_until_complete(main_task)
                except (asyncio.CancelledError, GracefulExit, KeyboardInterrupt):
                    pass
        finally:
            _cancel_tasks(asyncio.all_tasks(loop), loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
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
            # NOTE: aiohttp's words (asyncio.run's too), which exception handlers may match
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during asyncio.run() shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )


__all__ = [
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "GracefulExit",
    "NamedPipeSite",
    "RequestHandler",
    "ServerRunner",
    "SockSite",
    "TCPSite",
    "UnixSite",
    "access_logger",
    "run_app",
]
