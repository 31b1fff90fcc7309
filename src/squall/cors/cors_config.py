"""``CorsConfig``: the application's CORS settings, and the hook that applies them.

Rules (Fetch standard 3.2, "CORS protocol"; aiohttp-cors's "CORS 6.1.x" steps):
1. Only resources added with ``cors.add`` take part; every other response is
   left as it is.
2. A request without ``Origin``, or from an origin the configuration does not
   list (nor ``"*"``), gets no CORS header: the browser then refuses the page
   access to the answer.
3. SECURITY: the allowed origin is echoed, never ``*``: ``*`` with credentials is
   refused by browsers, and an echo lets credentials be granted per origin.
   Because the answer now depends on ``Origin``, every response of a CORS
   resource says ``Vary: Origin`` so that a shared cache never hands one
   origin's grant to another (aiohttp-cors leaves that out).
4. Preflights (``OPTIONS`` with ``Access-Control-Request-Method``) are answered
   by the preflight handler, never by the resource's own handlers.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from squall.cors.abc import AbstractRouterAdapter
from squall.cors.preflight_handler import _PreflightHandler
from squall.cors.resource_options import ResourceOptions
from squall.cors.urldispatcher_router_adapter import ResourcesUrlDispatcherRouterAdapter
from squall.web import AppKey, Application, Request, Response, StreamResponse

__all__ = ["APP_CONFIG_KEY", "CorsConfig", "parse_config_options"]

ConfigType = Mapping[str, ResourceOptions | Mapping[str, Any]]
_TRUE = "true"
_ALLOW_ORIGIN = "Access-Control-Allow-Origin"
_ALLOW_CREDENTIALS = "Access-Control-Allow-Credentials"
_EXPOSE_HEADERS = "Access-Control-Expose-Headers"
# response headers a page may always read: not listed for expose_headers="*"
# (the W3C recommendation's simple response headers, as aiohttp-cors has them)
_SIMPLE_RESPONSE_HEADERS = frozenset(
    ["CACHE-CONTROL", "CONTENT-LANGUAGE", "CONTENT-TYPE", "EXPIRES", "LAST-MODIFIED", "PRAGMA"]
)
_OPTION_NAMES = frozenset({"allow_credentials", "expose_headers", "allow_headers", "max_age"})


def parse_config_options(config: ConfigType | None = None) -> dict[str, ResourceOptions]:
    """Check a configuration (origin -> ``ResourceOptions`` or a mapping of its
    arguments) and return it as origin -> ``ResourceOptions``; ValueError if bad."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ValueError(f"Config must be mapping, got '{config}'")
    parsed: dict[str, ResourceOptions] = {}
    for origin, options in config.items():
        if not isinstance(origin, str):
            raise ValueError(f"Origin must be string, got '{origin}'")
        if isinstance(options, ResourceOptions):
            parsed[origin] = options
            continue
        if not isinstance(options, Mapping):
            raise ValueError(
                "Origin options must be either squall.cors.ResourceOptions instance "
                f"or mapping, got '{options}'"
            )
        unexpected = frozenset(options) - _OPTION_NAMES
        if unexpected:
            raise ValueError(
                "Unexpected keywords in resource options: " + ",".join(map(str, unexpected))
            )
        parsed[origin] = ResourceOptions(**options)
    return parsed


def _add_vary_origin(response: StreamResponse) -> None:
    """Say that the answer depends on ``Origin`` (rule 3), once."""
    headers = response.headers
    present = headers.getall("Vary", ())
    if not present:
        headers["Vary"] = "Origin"
        return
    tokens = {token.strip().lower() for value in present for token in value.split(",")}
    if "origin" not in tokens and "*" not in tokens:
        headers["Vary"] = ", ".join([*present, "Origin"])


def _all_header_names(request: Request, response: StreamResponse) -> set[str]:
    """The names ``expose_headers="*"`` lists: those the response will carry.

    aiohttp runs this hook after filling in the framing and default fields;
    Squall writes them on the way out, after it. They are counted here as
    aiohttp counts them: ``Date``, ``Server``, ``Set-Cookie`` when cookies are
    set, ``Content-Length`` for a whole ``Response`` (but an empty one to HEAD
    or with a 304), ``Transfer-Encoding`` for a body of unknown length on HTTP/1.1.
    """
    headers = response.headers
    names = {name for name in headers if name.upper() not in _SIMPLE_RESPONSE_HEADERS}
    names.update(("Date", "Server"))
    if response.cookies:
        names.add("Set-Cookie")
    status = response.status
    bodiless = status < 200 or status in (204, 304) or request.method == "HEAD"
    if isinstance(response, Response) and not response.chunked:
        body = response.body
        empty = not body if isinstance(body, bytes | bytearray) else body is None
        if not (empty and (status == 304 or request.method == "HEAD")):
            names.add("Content-Length")
    elif request.version >= (1, 1) and not bodiless and "Content-Length" not in headers:
        names.add("Transfer-Encoding")
    return names


class _CorsConfigImpl(_PreflightHandler):
    """The preflight handler and the response hook of one application."""

    def __init__(self, app: Application, router_adapter: AbstractRouterAdapter) -> None:
        self._app = app
        self._router_adapter = router_adapter
        app.on_response_prepare.append(self._on_response_prepare)

    def add(self, routing_entity: Any, config: ConfigType | None = None) -> Any:
        parsed = parse_config_options(config)
        self._router_adapter.add_preflight_handler(routing_entity, self._preflight_handler)
        self._router_adapter.set_config_for_routing_entity(routing_entity, parsed)
        return routing_entity

    async def _on_response_prepare(self, request: Request, response: StreamResponse) -> None:
        """Add the CORS headers to the answer of a non-preflight request."""
        adapter = self._router_adapter
        if not adapter.is_cors_enabled_on_request(request) or adapter.is_preflight_request(request):
            return  # rules 1 and 4
        try:
            config = adapter.get_non_preflight_request_config(request)
        except KeyError:
            # a view without the request's method: its 405 says nothing of CORS
            return
        headers = response.headers
        origin = request.headers.get("Origin")
        options = None if origin is None else config.get(origin, config.get("*"))
        if origin is None or options is None:  # rule 2
            _add_vary_origin(response)
            return
        for name in (_ALLOW_ORIGIN, _ALLOW_CREDENTIALS, _EXPOSE_HEADERS):
            if name in headers:
                raise RuntimeError(f"{name} set by the handler of a CORS resource: CORS sets it")
        exposed = options.expose_headers
        if exposed == "*":
            headers[_EXPOSE_HEADERS] = ",".join(sorted(_all_header_names(request, response)))
        elif exposed:
            headers[_EXPOSE_HEADERS] = ",".join(sorted(exposed))
        headers[_ALLOW_ORIGIN] = origin  # rule 3
        if options.allow_credentials:
            headers[_ALLOW_CREDENTIALS] = _TRUE
        _add_vary_origin(response)

    async def _get_config(self, request: Request, origin: str, request_method: str) -> Any:
        return await self._router_adapter.get_preflight_request_config(
            request, origin, request_method
        )


class CorsConfig:
    """An application's CORS configuration: ``cors = squall.cors.setup(app, defaults=...)``.

    ``defaults`` (origin -> options) apply to every resource added with
    :meth:`add`; a resource's or route's own configuration comes first.
    """

    def __init__(
        self,
        app: Application,
        *,
        defaults: ConfigType | None = None,
        router_adapter: AbstractRouterAdapter | None = None,
    ) -> None:
        self.defaults = parse_config_options(defaults)
        if router_adapter is None:
            router_adapter = ResourcesUrlDispatcherRouterAdapter(app.router, self.defaults)
        self._cors_impl = _CorsConfigImpl(app, router_adapter)

    def add(
        self, routing_entity: Any, config: ConfigType | None = None, webview: bool = False
    ) -> Any:
        """Enable CORS on a resource or a route (for a route: on its resource, with
        ``config`` for its method); return ``routing_entity``."""
        if webview:
            warnings.warn(
                "webview argument is deprecated, views are handled automatically "
                "without extra settings",
                DeprecationWarning,
                stacklevel=2,
            )
        return self._cors_impl.add(routing_entity, config)


APP_CONFIG_KEY: AppKey[CorsConfig] = AppKey("squall_cors", CorsConfig)
