"""CORS on Squall's ``UrlDispatcher``: configuration kept per resource and per method.

The routing entities are a resource (``router.add_resource(path)``: its
configuration is the default for all its routes) and a route (``add_route``:
a configuration for its method on its resource). Making a resource CORS-enabled
adds one ``OPTIONS`` route to it, the preflight handler; a ``web.View`` with
``CorsViewMixin`` answers its own preflights instead.
"""

from __future__ import annotations

from collections import ChainMap
from typing import Any

from squall.cors.abc import AbstractRouterAdapter
from squall.cors.mixin import CorsViewMixin
from squall.cors.resource_options import ResourceOptions
from squall.web import AbstractRoute, Request, Resource, ResourceRoute, UrlDispatcher, View

__all__ = ["ResourcesUrlDispatcherRouterAdapter"]

Config = dict[str, ResourceOptions]


class _ResourceConfig:
    __slots__ = ("default_config", "method_config")

    def __init__(self, default_config: Config) -> None:
        self.default_config = default_config  # the resource's own, for every method
        self.method_config: dict[str, Config] = {}  # per route


def _is_web_view(entity: Any, strict: bool = True) -> bool:
    """True for a route whose handler is a ``web.View`` with the mixin; a view
    without it is refused (``strict``) or not counted as one."""
    if not isinstance(entity, AbstractRoute):
        return False
    handler = entity.handler
    if not (isinstance(handler, type) and issubclass(handler, View)):
        return False
    if issubclass(handler, CorsViewMixin):
        return True
    if strict:
        raise ValueError(
            "web view should be derived from squall.cors.CorsViewMixin for working with the library"
        )
    return False


def _is_static(entity: Any) -> bool:
    """A static-files resource (``router.add_static``): it routes OPTIONS its own way."""
    return hasattr(entity, "set_options_route")


class ResourcesUrlDispatcherRouterAdapter(AbstractRouterAdapter):
    """The adapter ``CorsConfig`` uses for ``app.router``."""

    def __init__(self, router: UrlDispatcher, defaults: Config) -> None:
        self._router = router
        self._default_config = defaults
        self._resource_config: dict[Any, _ResourceConfig] = {}
        self._resources_with_preflight_handlers: set[Any] = set()
        self._preflight_routes: set[Any] = set()

    def add_preflight_handler(self, routing_entity: Any, handler: Any) -> None:
        if isinstance(routing_entity, Resource):
            self._add_to_resource(routing_entity, handler)
        elif _is_static(routing_entity):
            resource = routing_entity
            if resource in self._resources_with_preflight_handlers:
                return
            resource.set_options_route(handler)
            for route in resource:
                if route.method == "OPTIONS":
                    self._preflight_routes.add(route)
            self._resources_with_preflight_handlers.add(resource)
        elif isinstance(routing_entity, ResourceRoute):
            if not self.is_cors_for_resource(routing_entity.resource):
                self.add_preflight_handler(routing_entity.resource, handler)
        else:
            raise ValueError(f"Resource or ResourceRoute expected, got {routing_entity!r}")

    def _add_to_resource(self, resource: Resource, handler: Any) -> None:
        if resource in self._resources_with_preflight_handlers:
            return
        for route in resource:
            if route.method == "OPTIONS":
                if route.handler == handler:
                    return
                raise ValueError(f"{resource!r} already has OPTIONS handler {route.handler!r}")
            if route.method == "*":
                if _is_web_view(route):
                    self._preflight_routes.add(route)
                    self._resources_with_preflight_handlers.add(resource)
                    return
                raise ValueError(f"{resource!r} already has a '*' handler for all methods")
        self._preflight_routes.add(resource.add_route("OPTIONS", handler))
        self._resources_with_preflight_handlers.add(resource)

    def is_cors_for_resource(self, resource: Any) -> bool:
        """True when CORS answers the resource's preflights."""
        return resource in self._resources_with_preflight_handlers

    def _request_route(self, request: Request) -> AbstractRoute:
        return request.match_info.route

    def _request_resource(self, request: Request) -> Any:
        return self._request_route(request).resource

    def is_preflight_request(self, request: Request) -> bool:
        route = self._request_route(request)
        if _is_web_view(route, strict=False):
            return request.method == "OPTIONS"
        return route in self._preflight_routes

    def is_cors_enabled_on_request(self, request: Request) -> bool:
        return self._request_resource(request) in self._resource_config

    def set_config_for_routing_entity(self, routing_entity: Any, config: Config) -> None:
        if isinstance(routing_entity, Resource) or _is_static(routing_entity):
            if routing_entity in self._resource_config:
                raise ValueError(f"CORS is already configured for {routing_entity!r} resource.")
            self._resource_config[routing_entity] = _ResourceConfig(config)
        elif isinstance(routing_entity, ResourceRoute):
            route = routing_entity
            if route.resource not in self._resource_config:
                self.set_config_for_routing_entity(route.resource, config)
            resource_config = self._resource_config[route.resource]
            if route.method in resource_config.method_config:
                raise ValueError(
                    f"Can't setup CORS for {route!r} route: CORS already configured on "
                    f"resource {route.resource!r} for {route.method} method"
                )
            resource_config.method_config[route.method] = config
        else:
            raise ValueError(f"Resource or ResourceRoute expected, got {routing_entity!r}")

    async def get_preflight_request_config(
        self, preflight_request: Request, origin: str, requested_method: str
    ) -> ChainMap[str, ResourceOptions]:
        resource_config = self._resource_config[self._request_resource(preflight_request)]
        defaulted = ChainMap(resource_config.default_config, self._default_config)
        options = defaulted.get(origin, defaulted.get("*"))
        if options is not None and options.is_method_allowed(requested_method):
            # allowed by the defaults: a route's own configuration still comes first
            route_config = resource_config.method_config.get(requested_method, {})
        else:
            # else only a route added with CORS for that method allows it (KeyError: 403)
            route_config = resource_config.method_config[requested_method]
        return ChainMap(route_config, defaulted)

    def get_non_preflight_request_config(self, request: Request) -> ChainMap[str, ResourceOptions]:
        resource_config = self._resource_config[self._request_resource(request)]
        route = request.match_info.route
        method_config: Any
        if _is_web_view(route, strict=False):
            handler: Any = route.handler
            method_config = handler.get_request_config(request, request.method)
        else:
            method_config = resource_config.method_config.get(request.method, {})
        return ChainMap(method_config, resource_config.default_config, self._default_config)
