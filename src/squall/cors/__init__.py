"""CORS, with aiohttp-cors 0.8's API: ``import squall.cors as aiohttp_cors``.

::

    cors = squall.cors.setup(app, defaults={
        "https://app.example": squall.cors.ResourceOptions(allow_credentials=True),
    })
    cors.add(app.router.add_get("/api", handler))

Only resources added with ``cors.add`` answer preflights and get CORS headers;
see ``cors_config.py`` for the rules.
"""

from __future__ import annotations

from squall.cors.cors_config import APP_CONFIG_KEY, ConfigType, CorsConfig
from squall.cors.mixin import CorsViewMixin, custom_cors
from squall.cors.resource_options import ResourceOptions
from squall.web import Application

__all__ = (
    "APP_CONFIG_KEY",
    "CorsConfig",
    "CorsViewMixin",
    "ResourceOptions",
    "custom_cors",
    "setup",
)
__version__ = "0.8.1"  # the aiohttp-cors API this package follows


def setup(app: Application, *, defaults: ConfigType | None = None) -> CorsConfig:
    """Set CORS up for ``app`` and return its configuration (``cors.add(...)``)."""
    cors = CorsConfig(app, defaults=defaults)
    app[APP_CONFIG_KEY] = cors
    return cors
