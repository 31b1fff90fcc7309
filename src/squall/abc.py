"""The abstract bases of ``aiohttp.abc`` that server code subclasses.

``from aiohttp.abc import AbstractAccessLogger`` reads
``from squall.abc import AbstractAccessLogger``.
"""

from __future__ import annotations

from squall.framework.accesslog import AbstractAccessLogger
from squall.framework.routing.abstract import AbstractMatchInfo, AbstractRouter
from squall.framework.view import AbstractView

__all__ = ["AbstractAccessLogger", "AbstractMatchInfo", "AbstractRouter", "AbstractView"]
