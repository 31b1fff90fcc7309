"""Jinja2 templates with aiohttp-jinja2's API: ``from squall import templates as aiohttp_jinja2``.

Every name of aiohttp-jinja2 1.6 behaves as there, down to its error texts (which
name ``aiohttp_jinja2`` on purpose: code and tests written for it check them):

- ``setup(app, loader=...)`` makes the app's ``jinja2.Environment``, autoescaping on
  for every template (``autoescape=False`` turns it off,
  ``autoescape=jinja2.select_autoescape()`` keeps it for .html/.htm/.xml only);
- ``@template("page.html")`` renders what a handler (or a ``web.View`` method) returns
  when that is a mapping, and passes a response through;
- ``render_template``/``render_string`` and their ``_async`` twins render by hand;
- context processors add to every template's context per request.

Errors are aiohttp-jinja2's: a render before ``setup()``, a missing template and a
context that is not a mapping are each a ``web.HTTPInternalServerError`` whose reason
and text say which; the template's source never reaches the client.

Jinja2 is an extra (``pip install squall[templates]``): nothing else in Squall imports
this package.
"""

from __future__ import annotations

try:
    import jinja2
except ImportError as exc:  # pragma: no cover - the tests run with jinja2 installed
    raise ImportError(
        "squall.templates needs Jinja2: pip install squall[templates]", name=exc.name
    ) from exc

import functools
from collections import ChainMap
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Protocol, TypeVar, overload

from squall.framework.app import AppKey, Application, middleware
from squall.framework.exceptions import HTTPInternalServerError
from squall.framework.request import Request
from squall.framework.response import Response, StreamResponse
from squall.framework.view import AbstractView
from squall.templates.helpers import GLOBAL_HELPERS, static_root_key

__all__ = (
    "APP_CONTEXT_PROCESSORS_KEY",
    "APP_KEY",
    "REQUEST_CONTEXT_KEY",
    "context_processors_middleware",
    "get_env",
    "render_string",
    "render_string_async",
    "render_template",
    "render_template_async",
    "request_processor",
    "setup",
    "static_root_key",
    "template",
)

Filter = Callable[..., str]
Filters = Iterable[tuple[str, Filter]] | Mapping[str, Filter]
ContextProcessor = Callable[[Request], Awaitable[dict[str, Any]]]
_TemplateReturn = Awaitable[StreamResponse | Mapping[str, Any]]
_SimpleHandler = Callable[[Request], _TemplateReturn]
_T = TypeVar("_T")
_View = TypeVar("_View", bound=AbstractView)

APP_KEY: Final = AppKey[jinja2.Environment]("APP_KEY")
"""Where ``setup()`` keeps the environment in the app (``app_key=`` for a second one)."""
APP_CONTEXT_PROCESSORS_KEY: Final = AppKey[Sequence[ContextProcessor]]("APP_CONTEXT_PROCESSORS_KEY")
"""The app's context processors, run in order by ``context_processors_middleware``."""
REQUEST_CONTEXT_KEY: Final = "aiohttp_jinja2_context"
"""The request's extra context (a dict the processors fill); a plain string, as in
aiohttp-jinja2 1.6, so ``request["aiohttp_jinja2_context"]`` keeps working."""


# -- the environment -------------------------------------------------------------------


def setup(
    app: Application,
    *args: Any,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
    context_processors: Sequence[ContextProcessor] = (),
    filters: Filters | None = None,
    default_helpers: bool = True,
    **kwargs: Any,
) -> jinja2.Environment:
    """Make the app's ``jinja2.Environment(*args, **kwargs)`` and return it.

    SECURITY: ``autoescape`` defaults to True (every template, as aiohttp-jinja2), so a
    value from the request rendered with ``{{ }}`` cannot inject markup.
    ``context_processors`` also installs ``context_processors_middleware``.
    """
    kwargs.setdefault("autoescape", True)
    env = jinja2.Environment(*args, **kwargs)
    if default_helpers:
        env.globals.update(GLOBAL_HELPERS)
    if filters is not None:
        env.filters.update(filters)
    app[app_key] = env
    if context_processors:
        app[APP_CONTEXT_PROCESSORS_KEY] = context_processors
        app.middlewares.append(context_processors_middleware)
    env.globals["app"] = app
    return env


def get_env(
    app: Application, *, app_key: AppKey[jinja2.Environment] = APP_KEY
) -> jinja2.Environment:
    """The environment ``setup()`` made for ``app``; RuntimeError before it."""
    try:
        return app[app_key]
    except KeyError:
        raise RuntimeError("aiohttp_jinja2.setup(...) must be called first.") from None


# -- rendering ---------------------------------------------------------------------------


def _config(request: Request) -> Mapping[Any, Any]:
    """aiohttp's ``request.config_dict``: ``request.app`` (in a middleware, the app whose
    middleware runs) and the apps it is mounted in, innermost first; an outer app's
    middleware never sees a sub-app's environment or processors.

    NOTE: Squall's ``config_dict`` chains every app of the match whichever middleware
    asks; once it stops at ``request.app`` as aiohttp's does, this is ``config_dict``.
    """
    apps = request.match_info.apps
    if len(apps) < 2:  # PERF: one app, the common case
        return request.config_dict
    current = request.app
    upto = apps.index(current) + 1 if current in apps else len(apps)
    return ChainMap(*reversed(apps[:upto]))


def _fail(text: str) -> HTTPInternalServerError:
    # aiohttp-jinja2 puts the text in the reason too, so the status line and a log say it
    return HTTPInternalServerError(reason=text, text=text)


def _prepare(
    template_name: str,
    request: Request,
    context: Mapping[str, Any],
    env: jinja2.Environment | None,
) -> tuple[jinja2.Template, Mapping[str, Any]]:
    """The template and the context to render it with (the request's extras first)."""
    if env is None:
        raise _fail("Template engine is not initialized, call aiohttp_jinja2.setup() first")
    try:
        tmpl = env.get_template(template_name)
    except jinja2.TemplateNotFound as exc:
        # SECURITY: the name only, never a path the loader tried
        raise _fail(f"Template '{template_name}' not found") from exc
    if not isinstance(context, Mapping):
        raise _fail(f"context should be mapping, not {type(context)}")
    extra = request.get(REQUEST_CONTEXT_KEY)
    if extra:
        # a new dict: the handler's own mapping (perhaps a module global) stays untouched
        context = dict(extra, **context)
    return tmpl, context


def render_string(
    template_name: str,
    request: Request,
    context: Mapping[str, Any],
    *,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
) -> str:
    """Render ``template_name`` with ``context`` (plus the request's processors' extras)."""
    env = _config(request).get(app_key)
    tmpl, context = _prepare(template_name, request, context, env)
    return tmpl.render(context)


async def render_string_async(
    template_name: str,
    request: Request,
    context: Mapping[str, Any],
    *,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
) -> str:
    """``render_string`` for an ``enable_async=True`` environment."""
    env = _config(request).get(app_key)
    tmpl, context = _prepare(template_name, request, context, env)
    return await tmpl.render_async(context)


def _html(text: str, encoding: str, status: int) -> Response:
    # NOTE: aiohttp-jinja2 sets response.charset, which lower-cases it
    return Response(
        text=text, status=status, content_type="text/html", charset=str(encoding).lower()
    )


def render_template(
    template_name: str,
    request: Request,
    context: Mapping[str, Any] | None,
    *,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
    encoding: str = "utf-8",
    status: int = 200,
) -> Response:
    """A ``text/html`` response of the rendered template (``context`` None: empty)."""
    text = render_string(
        template_name, request, {} if context is None else context, app_key=app_key
    )
    return _html(text, encoding, status)


async def render_template_async(
    template_name: str,
    request: Request,
    context: Mapping[str, Any] | None,
    *,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
    encoding: str = "utf-8",
    status: int = 200,
) -> Response:
    """``render_template`` for an ``enable_async=True`` environment."""
    text = await render_string_async(
        template_name, request, {} if context is None else context, app_key=app_key
    )
    return _html(text, encoding, status)


# -- the decorator -------------------------------------------------------------------------


class _TemplateWrapper(Protocol):
    @overload
    def __call__(self, func: _SimpleHandler) -> Callable[[Request], Awaitable[StreamResponse]]: ...

    @overload
    def __call__(
        self, func: Callable[[_View], _TemplateReturn]
    ) -> Callable[[_View], Awaitable[StreamResponse]]: ...

    @overload
    def __call__(
        self, func: Callable[[_T, Request], _TemplateReturn]
    ) -> Callable[[_T, Request], Awaitable[StreamResponse]]: ...


def template(
    template_name: str,
    *,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
    encoding: str = "utf-8",
    status: int = 200,
) -> _TemplateWrapper:
    """Render what the handler returns with ``template_name``; a response passes through.

    Works on ``async def handler(request)``, on methods ``(self, request)`` and on
    ``web.View`` methods ``(self)``. An async environment renders with ``render_async``.
    """

    def wrapper(func: Callable[..., _TemplateReturn]) -> Callable[..., Awaitable[StreamResponse]]:
        @functools.wraps(func)
        async def wrapped(*args: Any) -> StreamResponse:
            context = await func(*args)
            if isinstance(context, StreamResponse):
                return context
            first = args[0]
            request: Request = first.request if isinstance(first, AbstractView) else args[-1]
            env = _config(request).get(app_key)
            if context is None:
                context = {}
            tmpl, context = _prepare(template_name, request, context, env)
            assert env is not None  # _prepare raised otherwise
            if env.is_async:
                text = await tmpl.render_async(context)
            else:
                text = tmpl.render(context)
            return _html(text, encoding, status)

        return wrapped

    return wrapper


# -- context processors --------------------------------------------------------------------


@middleware
async def context_processors_middleware(
    request: Request, handler: Callable[[Request], Awaitable[StreamResponse]]
) -> StreamResponse:
    """Run the app's context processors; what they return is in every template's context.

    In nested apps each app's middleware adds to the same per-request dict, outer
    app first, so an inner processor overrides an outer one.
    """
    if REQUEST_CONTEXT_KEY not in request:
        request[REQUEST_CONTEXT_KEY] = {}
    for processor in _config(request)[APP_CONTEXT_PROCESSORS_KEY]:
        # read each time: a processor may have replaced the dict
        request[REQUEST_CONTEXT_KEY].update(await processor(request))
    return await handler(request)


async def request_processor(request: Request) -> dict[str, Request]:
    """A context processor: the request as ``request`` in every template."""
    return {"request": request}
