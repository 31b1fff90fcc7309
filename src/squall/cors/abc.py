"""``AbstractRouterAdapter``: what CORS needs to know of a router."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any

from squall.web import Request

__all__ = ["AbstractRouterAdapter"]


class AbstractRouterAdapter(metaclass=ABCMeta):
    """Maps CORS configuration onto a router's routing entities (resources, routes).

    ``CorsConfig(app, router_adapter=...)`` takes one for a router of one's own.
    """

    @abstractmethod
    def add_preflight_handler(self, routing_entity: Any, handler: Any) -> None:
        """Route ``OPTIONS`` on the entity's paths to ``handler``; refuse a
        conflicting user-defined ``OPTIONS`` handler."""

    @abstractmethod
    def is_preflight_request(self, request: Request) -> bool:
        """True when ``request`` reached the preflight handler."""

    @abstractmethod
    def is_cors_enabled_on_request(self, request: Request) -> bool:
        """True when ``request`` is for a resource with CORS."""

    @abstractmethod
    def set_config_for_routing_entity(self, routing_entity: Any, config: Any) -> None:
        """Record the entity's configuration; refuse a second one."""

    @abstractmethod
    async def get_preflight_request_config(
        self, preflight_request: Request, origin: str, requested_method: str
    ) -> Any:
        """The configuration for ``requested_method``; KeyError if CORS does not cover it."""

    @abstractmethod
    def get_non_preflight_request_config(self, request: Request) -> Any:
        """The configuration for the route that answers ``request``."""
