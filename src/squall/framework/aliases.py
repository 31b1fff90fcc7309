"""Type aliases of the application API (aiohttp's ``typedefs``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from squall.framework.request import Request
    from squall.framework.response import StreamResponse

Handler = Callable[["Request"], Awaitable["StreamResponse"]]
Middleware = Callable[["Request", Handler], Awaitable["StreamResponse"]]
AnyHandler = Callable[..., Any]
