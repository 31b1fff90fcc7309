"""``kit``: the same aiohttp-style test body on aiohttp's test_utils and on squall.testing.

A test asks for ``kit`` and builds its app with ``kit.web``; ``kit.client(app)`` is
the TestClient of that side (aiohttp's client for an aiohttp app, Squall's for a
Squall app). The aiohttp run checks that the test's expectations are aiohttp's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import test_utils as aiohttp_testing
from aiohttp import web as aiohttp_web

from squall import testing as squall_testing
from squall import web as squall_web


@dataclass(frozen=True)
class Kit:
    name: str
    web: Any
    testing: Any

    @asynccontextmanager
    async def client(self, app: Any, **client_kwargs: Any) -> AsyncIterator[Any]:
        async with self.testing.TestClient(self.testing.TestServer(app), **client_kwargs) as client:
            yield client


SQUALL = Kit("squall", squall_web, squall_testing)
AIOHTTP = Kit("aiohttp", aiohttp_web, aiohttp_testing)


@pytest.fixture(params=[SQUALL, AIOHTTP], ids=["squall", "aiohttp"])
def kit(request: pytest.FixtureRequest) -> Kit:
    return request.param  # type: ignore[no-any-return]
