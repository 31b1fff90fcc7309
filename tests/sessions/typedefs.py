"""aiohttp_session's tests/typedefs.py, on squall.testing."""

from collections.abc import Awaitable, Callable

from squall import web
from squall.testing import TestClient

AiohttpClient = Callable[[web.Application], Awaitable[TestClient]]
