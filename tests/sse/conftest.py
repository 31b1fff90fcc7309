"""SSE tests: one app on Squall (squall.sse) and on aiohttp (aiohttp_sse), compared."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp_sse
import pytest
from aiohttp import web as aiohttp_web

from squall import sse as squall_sse
from squall import web as squall_web

SQUALL = SimpleNamespace(name="squall", web=squall_web, sse=squall_sse)
AIOHTTP = SimpleNamespace(name="aiohttp", web=aiohttp_web, sse=aiohttp_sse)
TIMEOUT = 10.0  # a hang guard only, never a measure


@pytest.fixture(params=[SQUALL, AIOHTTP], ids=["squall", "aiohttp"])
def stack(request: pytest.FixtureRequest) -> Any:
    """The (web, sse) pair under test; the aiohttp run checks the test's expectations."""
    return request.param


@asynccontextmanager
async def serve(web: Any, factory: Any, **runner_kwargs: Any) -> AsyncIterator[int]:
    """Serve ``factory(web)`` as ``run_app`` would (``web.AppRunner`` defaults: no
    handler cancellation, unlike aiohttp's TestServer); yield the port."""
    runner = web.AppRunner(factory(web), **runner_kwargs)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()
