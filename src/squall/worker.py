"""Gunicorn workers: ``gunicorn mod:app -k squall.worker.GunicornWebWorker``.

Gunicorn's arbiter binds the listening sockets, forks the workers and replaces
the ones that die or stop calling ``notify()``; each worker here runs one event
loop with an ``AppRunner`` and a ``SockSite`` per inherited socket, as aiohttp's
workers do. ``mod:app`` names an ``Application`` or an ``async def`` returning
one (or an ``AppRunner``).

Signals in a worker: SIGTERM, SIGINT and SIGQUIT stop it gracefully (the
runner's shutdown, with gunicorn's ``graceful_timeout``); SIGUSR1 reopens the
log files; SIGABRT (the arbiter's timeout) exits at once.

Gunicorn is not a dependency of Squall: importing this module without it
installed raises ImportError.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import signal
import ssl
import sys
from types import FrameType
from typing import Any

try:
    from gunicorn.config import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
        AccessLogFormat,
    )
    from gunicorn.workers import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
        base,
    )
except ImportError as exc:  # pragma: no cover - tested in a subprocess without gunicorn
    raise ImportError(
        "squall.worker needs gunicorn, which is not installed: pip install gunicorn"
    ) from exc

from squall.framework.accesslog import AccessLogger
from squall.framework.app import Application
from squall.runner import AppRunner, SockSite

__all__ = ("GunicornUVLoopWebWorker", "GunicornWebWorker")

_GUNICORN_STYLE = re.compile(r"%\([^)]+\)")


def translate_log_format(source: str, *, gunicorn_default: str, squall_default: str) -> str:
    """The access-log format to give the runner for gunicorn's ``access_log_format``.

    Gunicorn's default becomes Squall's (aiohttp's) default; a format in
    gunicorn's ``%(name)s`` style cannot be honoured and is refused; anything
    else is taken as aiohttp's format language.
    """
    if source == gunicorn_default:
        return squall_default
    if _GUNICORN_STYLE.search(source):
        raise ValueError(
            "gunicorn's %(name)s access log options are not supported: write the format "
            'in aiohttp\'s language (%a %t "%r" %s %b ...), see docs/deployment.md'
        )
    return source


class GunicornWebWorker(base.Worker):  # type: ignore[misc]
    """Serves an aiohttp-style application in a gunicorn worker process."""

    # aiohttp's names, so a subclass written for aiohttp's worker keeps working
    DEFAULT_AIOHTTP_LOG_FORMAT = AccessLogger.LOG_FORMAT
    DEFAULT_GUNICORN_LOG_FORMAT = AccessLogFormat.default

    # set by gunicorn's base.Worker (untyped), named here for the type checker
    alive: bool
    booted: bool
    cfg: Any
    log: Any
    max_requests: int
    ppid: int
    sockets: list[Any]
    wsgi: Any
    loop: asyncio.AbstractEventLoop

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_code = 0
        self._wake: asyncio.Future[None] | None = None
        self._served = 0  # responses prepared, counted only when max_requests is set

    # -- the process -----------------------------------------------------------------------

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.new_event_loop()

    def init_process(self) -> None:
        # a fresh loop after the fork; gunicorn's init_process then calls run()
        self.loop = self._new_loop()
        asyncio.set_event_loop(self.loop)
        super().init_process()

    def run(self) -> None:
        # gunicorn set booted before run(), but the real start (the app factory,
        # on_startup, the sites) happens in _run: a failure there must read as a
        # boot error to the arbiter (it halts instead of respawning for ever)
        self.booted = False
        try:
            self.loop.run_until_complete(self._run())
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
        sys.exit(self.exit_code)

    async def _run(self) -> None:
        runner = await self._make_runner()
        await runner.setup()
        ssl_context = self._create_ssl_context(self.cfg) if self.cfg.is_ssl else None
        for listener in self.sockets:
            # gunicorn wraps each socket; the event loop wants the socket itself
            sock = getattr(listener, "sock", listener)
            await SockSite(runner, sock, ssl_context=ssl_context).start()
        self.booted = True
        try:
            await self._serve()
        finally:
            await runner.cleanup()

    async def _make_runner(self) -> AppRunner:
        target = self.wsgi
        if not isinstance(target, Application):
            if not inspect.iscoroutinefunction(target):
                raise RuntimeError(
                    "the app should be a squall Application or an async function "
                    f"returning one, got {target!r}"
                )
            target = await target()
            if isinstance(target, AppRunner):
                return target
            if not isinstance(target, Application):
                raise RuntimeError(f"the app factory returned {target!r}, not an Application")
        if self.max_requests and self.max_requests != sys.maxsize:
            if target.on_response_prepare.frozen:
                self.log.warning("max_requests is ignored: the application is frozen")
            else:
                target.on_response_prepare.append(self._count_response)
        return AppRunner(
            target,
            keepalive_timeout=self.cfg.keepalive,
            access_log=self.log.access_log if self.cfg.accesslog else None,
            access_log_format=self._get_valid_log_format(self.cfg.access_log_format),
            shutdown_timeout=self.cfg.graceful_timeout / 100 * 95,
        )

    async def _count_response(self, request: Any, response: Any) -> None:
        self._served += 1

    async def _serve(self) -> None:
        """Tell the arbiter we live, about once a second, until told to stop."""
        pid = os.getpid()
        while self.alive:
            self.notify()
            if self._served > self.max_requests:
                self.alive = False
                self.log.info("Max requests, shutting down: %s", self)
            elif pid == os.getpid() and self.ppid != os.getppid():
                self.alive = False
                self.log.info("Parent changed, shutting down: %s", self)
            else:
                self._wake = self.loop.create_future()
                handle = self.loop.call_later(1.0, self._wake_up)
                try:
                    await self._wake
                finally:
                    handle.cancel()
                    self._wake = None

    def _wake_up(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    # -- signals ---------------------------------------------------------------------------

    def init_signals(self) -> None:
        # through the loop: the handlers run between callbacks, never inside one
        add = self.loop.add_signal_handler
        add(signal.SIGQUIT, self.handle_quit, signal.SIGQUIT, None)
        add(signal.SIGTERM, self.handle_exit, signal.SIGTERM, None)
        add(signal.SIGINT, self.handle_quit, signal.SIGINT, None)
        add(signal.SIGWINCH, self.handle_winch, signal.SIGWINCH, None)
        add(signal.SIGUSR1, self.handle_usr1, signal.SIGUSR1, None)
        add(signal.SIGABRT, self.handle_abort, signal.SIGABRT, None)
        # a request in progress is not disturbed by these (no EINTR)
        signal.siginterrupt(signal.SIGTERM, False)
        signal.siginterrupt(signal.SIGUSR1, False)
        # the arbiter's SIGCHLD handler must not reap the application's subprocesses
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.alive = False
        self._wake_up()

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        # gunicorn's own worker exits at once on SIGQUIT/SIGINT; as aiohttp's, this
        # one stops gracefully (running requests are answered)
        self.alive = False
        self.cfg.worker_int(self)
        self._wake_up()

    def handle_abort(self, sig: int, frame: FrameType | None) -> None:
        self.alive = False
        self.exit_code = 1
        self.cfg.worker_abort(self)
        sys.exit(1)

    # -- configuration ---------------------------------------------------------------------

    @staticmethod
    def _create_ssl_context(cfg: Any) -> ssl.SSLContext:
        """The server's TLS context from gunicorn's settings (``certfile``,
        ``keyfile``, ``cert_reqs``, ``ca_certs``, ``ciphers``), passed through
        gunicorn's ``ssl_context`` hook when it has one."""

        def default() -> ssl.SSLContext:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=cfg.ca_certs)
            ctx.load_cert_chain(cfg.certfile, cfg.keyfile)
            ctx.verify_mode = cfg.cert_reqs
            if cfg.ciphers:
                ctx.set_ciphers(cfg.ciphers)
            ctx.set_alpn_protocols(["http/1.1"])  # no h2 here, whatever gunicorn offers
            return ctx

        hook = getattr(cfg, "ssl_context", None)
        made = hook(cfg, default) if callable(hook) else default()
        if not isinstance(made, ssl.SSLContext):
            raise TypeError(f"gunicorn's ssl_context hook returned {made!r}")
        return made

    def _get_valid_log_format(self, source_format: str) -> str:
        return translate_log_format(
            source_format,
            gunicorn_default=self.DEFAULT_GUNICORN_LOG_FORMAT,
            squall_default=self.DEFAULT_AIOHTTP_LOG_FORMAT,
        )


class GunicornUVLoopWebWorker(GunicornWebWorker):
    """The same worker on a uvloop event loop."""

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
