"""``Application``: routes, state, signals, and the request path through them.

The application is the server's ConnectionHandler: ``_handle`` builds the
Request, routes it, runs middlewares and the handler, and sends the response.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial, total_ordering, update_wrapper
from time import perf_counter
from typing import Any, TypeVar, cast, overload

from squall.framework.accesslog import AbstractAccessLogger
from squall.framework.exceptions import (
    HTTPException,
    NotAppKeyWarning,
)
from squall.framework.keys import TypedKey
from squall.framework.request import BaseRequest, Request
from squall.framework.response import FirstChunkError, Response, StreamResponse
from squall.framework.routing.abstract import AbstractRouter
from squall.framework.routing.defs import AbstractRouteDef
from squall.framework.routing.dispatcher import UrlDispatcher
from squall.framework.routing.resources import (
    Domain,
    MaskDomain,
    MatchedSubAppResource,
    PrefixedSubAppResource,
    SystemRoute,
)
from squall.framework.signals import FrozenList, Signal
from squall.http.status import reason_for
from squall.typedefs import (
    BodySource,
    BodyTimeoutError,
    ClientDisconnectedError,
    MalformedBodyError,
    RequestHead,
    ResponseSink,
)

_T = TypeVar("_T")
web_logger = logging.getLogger("squall.web")
server_logger = logging.getLogger("squall.server")

Handler = Callable[[Request], Awaitable[StreamResponse]]


@total_ordering
class AppKey(TypedKey[_T]):
    """A typed key for application state: ``app[db_key]`` has the key's type.

    Keys sort by the name of the module that made them and their own, before
    string keys (aiohttp's order).
    """

    __slots__ = ()


class CleanupError(RuntimeError):
    """One or more ``cleanup_ctx`` teardowns failed."""

    @property
    def exceptions(self) -> list[BaseException]:
        return cast(list[BaseException], self.args[1])


def middleware(func: _T) -> _T:
    """Mark a ``async def mw(request, handler)`` middleware (aiohttp's new style)."""
    func.__middleware_version__ = 1  # type: ignore[attr-defined]
    return func


class CleanupContext(FrozenList):
    """``app.cleanup_ctx``: async generators (or context managers) run around the app's life."""

    def __init__(self) -> None:
        super().__init__()
        self._exits: list[AbstractAsyncContextManager[Any]] = []

    async def _on_startup(self, app: Application) -> None:
        for cb in self:
            ctx = cb(app)
            if not isinstance(ctx, AbstractAsyncContextManager):
                ctx = asynccontextmanager(cb)(app)  # an async generator function
            await ctx.__aenter__()
            self._exits.append(ctx)

    async def _on_cleanup(self, app: Application) -> None:
        errors: list[BaseException] = []
        for ctx in reversed(self._exits):
            try:
                await ctx.__aexit__(None, None, None)
            # collected and raised together below; a teardown that raised CancelledError
            # must not skip the others (aiohttp collects it too)
            except (Exception, asyncio.CancelledError) as exc:
                errors.append(exc)
        self._exits.clear()
        if errors:
            if len(errors) == 1:
                raise errors[0]
            raise CleanupError("Multiple errors on cleanup stage", errors)


class Application(MutableMapping[Any, Any]):
    """A web application: routes, state, middlewares and lifecycle signals."""

    # the runner's ``auto_decompress=`` keyword; the app's handler_args win (Request._source)
    _auto_decompress = True

    def __init__(
        self,
        *,
        logger: logging.Logger = web_logger,
        router: AbstractRouter | None = None,
        middlewares: Any = (),
        handler_args: dict[str, Any] | None = None,
        client_max_size: int = 1024**2,
        client_max_fields: int = 1000,
        loop: Any = None,
        debug: Any = ...,
    ) -> None:
        if router is not None:
            warnings.warn("router argument is deprecated", DeprecationWarning, stacklevel=2)
            # NOTE: any object with resolve() will do, an aiohttp.abc.AbstractRouter too
            if not callable(getattr(router, "resolve", None)):
                raise TypeError(f"router must be an AbstractRouter, got {router!r}")
        if loop is not None:
            warnings.warn("loop argument is deprecated", DeprecationWarning, stacklevel=2)
        if debug is not ...:
            warnings.warn("debug argument is deprecated", DeprecationWarning, stacklevel=2)
        self._loop: asyncio.AbstractEventLoop | None = loop
        # typed as the dispatcher: a router of one's own is only asked to resolve()
        self._router = cast(UrlDispatcher, router) if router is not None else UrlDispatcher()
        if getattr(self._router, "_own_resolve", True):
            # PERF: only a router of one's own pays for an awaited resolve() per request
            self._handle = self._handle_resolved  # type: ignore[method-assign]
        self._state: dict[Any, Any] = {}
        self._frozen = False
        self._pre_frozen = False
        self.logger = logger
        self._middlewares = FrozenList(middlewares)
        self._subapps: list[Application] = []
        self._handler_args = handler_args or {}
        self._client_max_size = client_max_size
        self._client_max_fields = client_max_fields  # read by Request (post(), multipart())
        self._debug = debug
        self._on_startup = Signal(self)
        self._on_shutdown = Signal(self)
        self._on_cleanup = Signal(self)
        self._on_response_prepare = Signal(self)
        self._cleanup_ctx = CleanupContext()
        self._on_startup.append(self._cleanup_ctx._on_startup)
        self._on_cleanup.append(self._cleanup_ctx._on_cleanup)
        self._chain_cache: dict[Any, Handler] = {}
        self._run_middlewares = False  # this app or a sub-app has middlewares
        self._has_legacy = False  # ... and one of them is old-style
        self._has_prepare_hooks = False  # this app or a sub-app has on_response_prepare
        self._enter = _entering(self)  # sets request.app while this app's middlewares run
        # set by the runner when the access log is on and enabled: see accesslog.py
        self._access_logger: AbstractAccessLogger | None = None

    def __init_subclass__(cls: type[Application]) -> None:
        warnings.warn(
            f"Inheritance class {cls.__name__} from web.Application is discouraged",
            DeprecationWarning,
            stacklevel=3,
        )

    # -- state -------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    @overload
    def __getitem__(self, key: AppKey[_T]) -> _T: ...
    @overload
    def __getitem__(self, key: str) -> Any: ...
    def __getitem__(self, key: Any) -> Any:
        return self._state[key]

    def _check_frozen(self) -> None:
        if self._frozen:
            warnings.warn(
                "Changing state of started or joined application is deprecated",
                DeprecationWarning,
                stacklevel=3,
            )

    def __setitem__(self, key: Any, value: Any) -> None:
        self._check_frozen()
        if not isinstance(key, AppKey):
            warnings.warn(
                "It is recommended to use web.AppKey instances for keys.\n"
                "https://docs.aiohttp.org/en/stable/web_advanced.html#application-s-config",
                category=NotAppKeyWarning,
                stacklevel=2,
            )
        self._state[key] = value

    def __delitem__(self, key: Any) -> None:
        self._check_frozen()
        del self._state[key]

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._state)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<Application 0x{id(self):x}>"

    # -- configuration -------------------------------------------------------

    @property
    def router(self) -> UrlDispatcher:
        return self._router

    @property
    def middlewares(self) -> FrozenList:
        return self._middlewares

    @property
    def frozen(self) -> bool:
        return self._frozen

    @property
    def pre_frozen(self) -> bool:
        return self._pre_frozen

    @property
    def debug(self) -> bool:
        """Deprecated, as on aiohttp: the ``debug`` argument, else the loop's debug mode."""
        warnings.warn("debug property is deprecated", DeprecationWarning, stacklevel=2)
        return bool(self._debug) if self._debug is not ... else False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """Deprecated, as on aiohttp: the loop the app runs in (None before it starts)."""
        warnings.warn("loop property is deprecated", DeprecationWarning, stacklevel=2)
        return cast(asyncio.AbstractEventLoop, self._loop)

    def _set_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Bind the app and its sub-apps to ``loop`` (the current one if None)."""
        if loop is None:
            loop = asyncio.get_event_loop()
        if self._loop is not None and self._loop is not loop:
            raise RuntimeError("web.Application instance initialized with different loop")
        self._bind_loop(loop)

    def _bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        # NOTE: unlike _set_loop, a second loop replaces the first: an app that
        # served in one test's loop may serve again in the next one's
        self._loop = loop
        if self._debug is ...:
            self._debug = loop.get_debug()
        for subapp in self._subapps:
            subapp._bind_loop(loop)

    @property
    def on_startup(self) -> Signal:
        return self._on_startup

    @property
    def on_shutdown(self) -> Signal:
        return self._on_shutdown

    @property
    def on_cleanup(self) -> Signal:
        return self._on_cleanup

    @property
    def on_response_prepare(self) -> Signal:
        return self._on_response_prepare

    @property
    def cleanup_ctx(self) -> CleanupContext:
        return self._cleanup_ctx

    @property
    def handler_args(self) -> dict[str, Any]:
        return self._handler_args

    @property
    def client_max_size(self) -> int:
        return self._client_max_size

    def add_routes(self, routes: Any) -> list[Any]:
        """Shortcut for ``app.router.add_routes``."""
        routes_list: list[AbstractRouteDef] = list(routes)
        return self._router.add_routes(routes_list)

    def add_subapp(self, prefix: str, subapp: Application) -> PrefixedSubAppResource:
        """Serve ``subapp`` under ``prefix``: its routes, middlewares and signals."""
        if not isinstance(prefix, str):
            raise TypeError("Prefix must be str")
        prefix = prefix.rstrip("/")
        if not prefix:
            raise ValueError("Prefix cannot be empty")
        self._check_subapp(subapp)
        resource = PrefixedSubAppResource(prefix, subapp)
        self._add_subapp(resource, subapp)
        return resource

    def add_domain(self, domain: str, subapp: Application) -> MatchedSubAppResource:
        """Serve ``subapp`` for requests whose Host is ``domain`` (``*`` for any labels)."""
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        rule: Domain = MaskDomain(domain) if "*" in domain else Domain(domain)
        self._check_subapp(subapp)
        resource = MatchedSubAppResource(rule, subapp)
        self._add_subapp(resource, subapp)
        return resource

    def _check_subapp(self, subapp: Application) -> None:
        if self._frozen:
            raise RuntimeError("Cannot add sub application to frozen application")
        if subapp._frozen:
            raise RuntimeError("Cannot add frozen application")

    def _add_subapp(self, resource: PrefixedSubAppResource, subapp: Application) -> None:
        self._router.register_resource(resource)
        for name in ("on_startup", "on_shutdown", "on_cleanup"):
            getattr(self, name).append(_forward(getattr(subapp, name), subapp))
        self._subapps.append(subapp)
        subapp.pre_freeze()

    def pre_freeze(self) -> None:
        if self._pre_frozen:
            return
        self._pre_frozen = True
        self._middlewares.freeze()
        self._on_startup.freeze()
        self._on_shutdown.freeze()
        self._on_cleanup.freeze()
        self._on_response_prepare.freeze()
        self._cleanup_ctx.freeze()
        self._router.freeze()
        for mw in self._middlewares:
            if getattr(mw, "__middleware_version__", None) != 1:
                warnings.warn(
                    f'old-style middleware "{mw!r}" deprecated, see #2252',
                    DeprecationWarning,
                    stacklevel=2,
                )
                self._has_legacy = True
        self._run_middlewares = bool(self._middlewares)
        self._has_prepare_hooks = bool(self._on_response_prepare)
        for subapp in self._subapps:
            subapp.pre_freeze()
            self._run_middlewares = self._run_middlewares or subapp._run_middlewares
            self._has_legacy = self._has_legacy or subapp._has_legacy
            self._has_prepare_hooks = self._has_prepare_hooks or subapp._has_prepare_hooks

    def freeze(self) -> None:
        if self._frozen:
            return
        self.pre_freeze()
        self._frozen = True
        for subapp in self._subapps:
            subapp.freeze()

    def __call__(self) -> Application:
        """gunicorn's convention: an app factory that is the app."""
        return self

    # -- lifecycle -----------------------------------------------------------

    async def startup(self) -> None:
        """Run ``on_startup`` (and enter ``cleanup_ctx``)."""
        self._bind_loop(asyncio.get_running_loop())  # aiohttp binds it as its server is made
        await self._on_startup.send(self)

    async def shutdown(self) -> None:
        """Run ``on_shutdown``."""
        await self._on_shutdown.send(self)

    async def cleanup(self) -> None:
        """Run ``on_cleanup`` (and unwind ``cleanup_ctx``)."""
        if self._on_cleanup.frozen:
            await self._on_cleanup.send(self)
        else:
            await self._cleanup_ctx._on_cleanup(self)

    # -- the request path ------------------------------------------------------

    def _wrap(self, route: Any, apps: list[Application] | None) -> Handler:
        """The route's handler inside the middlewares of ``apps`` (outermost app first,
        and in each app the first middleware outermost); ``apps`` None is this app."""
        handler: Handler = route._handler
        key: Any = handler if apps is None else (handler, *apps)
        chained = self._chain_cache.get(key)
        if chained is None:
            chained = handler
            if apps is None:
                for mw in reversed(self._middlewares):
                    chained = update_wrapper(partial(mw, handler=chained), chained)
            else:
                for index in range(len(apps) - 1, -1, -1):
                    app = apps[index]
                    for mw in reversed(app._middlewares):
                        chained = update_wrapper(partial(mw, handler=chained), chained)
                    # PERF: request.app is the app whose middlewares run, and the
                    # innermost one (match info's default) for the handler: an app is
                    # entered only if it has middlewares or must take request.app back
                    # from an outer app's (0.7 us a layer, in process)
                    if app._middlewares or any(a._middlewares for a in apps[:index]):
                        chained = update_wrapper(partial(app._enter, handler=chained), chained)
            # a 404/405 has a new route each time: caching it would only fill the cache
            if not isinstance(route, SystemRoute) and len(self._chain_cache) < 1024:
                self._chain_cache[key] = chained
        return chained

    async def _wrap_legacy(self, handler: Handler, apps: list[Application] | None) -> Handler:
        """As :meth:`_wrap` when an old-style ``async def mw(app, handler)`` is among
        the middlewares: each is awaited for the handler it returns (never cached)."""
        chained = handler
        for app in reversed(apps if apps is not None else [self]):
            for mw in reversed(app._middlewares):
                if getattr(mw, "__middleware_version__", None) == 1:
                    chained = update_wrapper(partial(mw, handler=chained), chained)
                else:
                    chained = await mw(app, chained)
            if apps is not None:
                chained = update_wrapper(partial(app._enter, handler=chained), chained)
        return chained

    async def _handle(self, head: RequestHead, body: BodySource, sink: ResponseSink) -> None:
        """Answer one request: the ConnectionHandler the server calls."""
        request = Request(head, body, sink, self, self._client_max_size)
        if self._has_prepare_hooks:
            request._has_prepare_hooks = True
        # PERF: perf_counter, not loop.time(): get_running_loop() is a getpid() call on 3.11
        started = 0.0 if self._access_logger is None else perf_counter()
        try:
            path = head.target
            if "?" in path:
                path = path.partition("?")[0]
            if "%" in path or "#" in path or path[:1] != "/" or head.method == "CONNECT":
                path = request._match_path  # decoding needed: the slow way
            route = self._router._resolve_fixed(head.method, path)
            apps = None
            if route is not None:
                # PERF: a fixed path has no values; its match info is built if asked
                request._route = route
            else:
                info = self._router.resolve_path(head.method, path, request)
                if info._apps is None and info._current_app is None:
                    info._bind(self)
                else:  # a sub-application's route: the apps outermost first
                    info.add_app(self)
                    info.freeze()
                    apps = info._apps
                request._match_info = info
                route = info._route
            if self._run_middlewares:
                if self._has_legacy:
                    handler = await self._wrap_legacy(route._handler, apps)
                else:
                    handler = self._wrap(route, apps)
            else:
                handler = route._handler
            if head.expect:
                # aiohttp's order: the route's expect handler first, outside the
                # middlewares; a response from it (or a raised 417) is the answer
                expected = await route.handle_expect_header(request)
                response = await handler(request) if expected is None else expected
            else:
                response = await handler(request)
            if (
                response.__class__ is Response
                and not self._has_prepare_hooks
                and response._sink is None
                and not response._compression  # compressed in _finish (off the loop if big)
            ):
                # PERF: the common case, sent without another coroutine
                try:
                    response._send_whole(request)
                except ClientDisconnectedError:
                    pass  # the client went away; logged all the same, as _finish does
                if self._access_logger is not None:
                    _log_access(self._access_logger, request, response, started)
                return
            response = _checked(request, response)
        except Exception as exc:  # error_response re-raises what has no answer
            response = error_response(request, sink, exc)
        await _finish(request, response, self._access_logger, started)

    async def _handle_resolved(
        self, head: RequestHead, body: BodySource, sink: ResponseSink
    ) -> None:
        """``_handle`` for a router of the application's own (``router=``, or a
        ``UrlDispatcher`` whose ``resolve`` is overridden): its ``resolve()`` is
        awaited and the match info it returns is used as aiohttp uses it."""
        request = Request(head, body, sink, self, self._client_max_size)
        if self._has_prepare_hooks:
            request._has_prepare_hooks = True
        started = 0.0 if self._access_logger is None else perf_counter()
        try:
            info = await self._router.resolve(request)
            info.add_app(self)
            info.freeze()
            request._match_info = info
            handler = info.handler
            if self._run_middlewares:
                handler = await self._wrap_legacy(handler, list(info.apps))
            expected = await info.expect_handler(request) if head.expect else None
            response = await handler(request) if expected is None else expected
            response = _checked(request, response)
        except Exception as exc:  # error_response re-raises what has no answer
            response = error_response(request, sink, exc)
        await _finish(request, response, self._access_logger, started)


async def _finish(
    request: BaseRequest,
    response: StreamResponse,
    logger: AbstractAccessLogger | None,
    started: float,
) -> None:
    """Send what the fast path did not (a stream, hooks, compression), then log."""
    try:
        try:
            await response._finish(request)
        except FirstChunkError as exc:
            # a streamed body failed before the head went out (a malformed part
            # sent back is the client's 400): answered as a handler's exception
            response = error_response(request, request._sink, exc.error)
            await response._finish(request)
    except ClientDisconnectedError:
        pass  # the client went away; nothing left to tell it
    if logger is not None:
        _log_access(logger, request, response, started)


def _log_access(
    logger: AbstractAccessLogger, request: BaseRequest, response: StreamResponse, started: float
) -> None:
    """One access-log line; a failing logger is reported, never breaks the request."""
    try:
        if logger.enabled:
            logger.log(request, response, perf_counter() - started)
    except Exception:
        server_logger.exception("Error in logging")


def _checked(request: BaseRequest, response: Any) -> StreamResponse:
    """The handler's return value as a response: a 500 for anything else, and
    aiohttp's warning for a returned (not raised) HTTPException."""
    if not isinstance(response, StreamResponse):
        return _bad_return(request, response)
    if isinstance(response, HTTPException):
        warnings.warn(
            "returning HTTPException object is deprecated (#2415) and will be "
            "removed, please raise the exception instead",
            DeprecationWarning,
            stacklevel=1,
        )
    return response


def error_response(request: BaseRequest, sink: ResponseSink, exc: Exception) -> StreamResponse:
    """The answer to a handler's exception; re-raises ``exc`` when there is none.

    Once the response head is out nothing else can be sent: the exception goes
    on and the server drops the connection. A client that went away gets nothing;
    a handler's own ConnectionError (a backend refusing) is a logged 500.
    """
    if isinstance(exc, ClientDisconnectedError):
        server_logger.debug("Client %s disconnected: %s", request.remote, exc)
        raise exc
    if sink.bytes_sent:
        raise exc
    if isinstance(exc, HTTPException):
        return exc
    if isinstance(exc, MalformedBodyError):
        status = exc.status
        response = Response(status=status, text=f"{status}: {reason_for(status)} ({exc})")
    elif isinstance(exc, BodyTimeoutError):
        response = Response(status=408, text="408: Request Timeout")
    elif isinstance(exc, TimeoutError):
        server_logger.error("Timeout while handling %s", request.raw_path, exc_info=exc)
        response = Response(status=504, content_type="text/plain")
    else:
        server_logger.error("Error handling request from %s", request.remote, exc_info=exc)
        return _internal_error(request)
    response.force_close()
    return response


def _entering(app: Application) -> Callable[..., Awaitable[StreamResponse]]:
    """The middleware that makes ``request.app`` the app whose middlewares run."""

    async def enter(request: Request, handler: Handler) -> StreamResponse:
        info = request.match_info
        outer = info._current_app
        info._current_app = app
        try:
            return await handler(request)
        finally:
            info._current_app = outer

    enter.__middleware_version__ = 1  # type: ignore[attr-defined]
    return enter


def _forward(signal: Signal, subapp: Application) -> Callable[[Application], Awaitable[None]]:
    """A parent's signal receiver that sends a sub-app's signal with the sub-app."""

    async def forward(app: Application) -> None:
        await signal.send(subapp)

    return forward


def _internal_error(request: BaseRequest) -> Response:
    """The 500 a client sees when a handler raised: no traceback, ever."""
    title = "500 Internal Server Error"
    msg = "Server got itself in trouble"
    if "text/html" in request.headers.get("Accept", ""):
        text = (
            f"<html><head><title>{title}</title></head><body>\n<h1>{title}</h1>\n{msg}\n"
            "</body></html>\n"
        )
        response = Response(status=500, text=text, content_type="text/html")
    else:
        response = Response(status=500, text=f"{title}\n\n{msg}", content_type="text/plain")
    response.force_close()
    return response


def _bad_return(request: BaseRequest, value: Any) -> Response:
    kind = "None" if value is None else type(value).__name__
    server_logger.error(
        "Error handling request from %s",
        request.remote,
        exc_info=RuntimeError(
            "Missing return statement on request handler"
            if value is None
            else f"Web-handler should return a response instance, got {kind!r}"
        ),
    )
    return Response(status=500, text="500: Internal Server Error")


__all__ = ["AppKey", "Application", "CleanupError", "middleware"]
