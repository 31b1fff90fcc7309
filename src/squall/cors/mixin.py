"""CORS for class-based views: ``class MyView(web.View, CorsViewMixin)``.

The view answers its own preflights (the mixin's ``options``); each method may
carry its own configuration (``@custom_cors({...})``), over the class's
``cors_config``, over the application's defaults.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from squall.cors.preflight_handler import _PreflightHandler
from squall.cors.resource_options import ResourceOptions
from squall.web import Request, Response

__all__ = ["CorsViewMixin", "custom_cors"]

_F = TypeVar("_F", bound=Callable[..., Any])
ConfigType = Mapping[str, ResourceOptions | Mapping[str, Any]]


def custom_cors(config: ConfigType) -> Callable[[_F], _F]:
    """Give one view method a configuration of its own: ``@custom_cors({...})``."""

    def wrapper(function: _F) -> _F:
        setattr(function, f"{function.__name__}_cors_config", config)
        return function

    return wrapper


class CorsViewMixin(_PreflightHandler):
    """Mix into a ``web.View`` added with ``cors.add(router.add_route("*", path, View))``."""

    cors_config: ConfigType | None = None
    request: Request  # supplied by web.View

    @classmethod
    def get_request_config(
        cls, request: Request, request_method: str
    ) -> ChainMap[str, ResourceOptions]:
        """The origin -> options mapping for ``request_method``; KeyError if the
        view has no such method, ValueError if CORS was not set up."""
        from squall.cors.cors_config import APP_CONFIG_KEY, parse_config_options

        try:
            cors = request.app[APP_CONFIG_KEY]
        except KeyError:
            raise ValueError("squall.cors is not configured.") from None
        name = request_method.lower()
        method = getattr(cls, name, None)
        if not method:
            raise KeyError(request_method)
        custom = getattr(method, f"{name}_cors_config", None) or {}
        return ChainMap(
            parse_config_options(custom), parse_config_options(cls.cors_config), cors.defaults
        )

    async def _get_config(self, request: Request, origin: str, request_method: str) -> Any:
        return self.get_request_config(request, request_method)

    async def options(self) -> Response:
        """The view's preflight answer."""
        return await self._preflight_handler(self.request)
