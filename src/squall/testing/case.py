"""``SquallTestCase``: unittest-style tests of an application, aiohttp's ``AioHTTPTestCase``.

Each test method gets a fresh application (``get_application()``), served on a free
port of 127.0.0.1 (``get_server(app)``), and a client to it (``get_client(server)``),
as ``self.app``, ``self.server`` and ``self.client``; all are closed after the test.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any, TypeVar
from unittest import IsolatedAsyncioTestCase

from squall.framework.app import Application
from squall.testing.client import TestClient
from squall.testing.server import TestServer

_F = TypeVar("_F")


class SquallTestCase(IsolatedAsyncioTestCase):
    """Override ``get_application()``; test methods are ``async def`` and use ``self.client``."""

    app: Application
    server: TestServer
    client: TestClient[Any, Any]
    loop: asyncio.AbstractEventLoop

    async def get_application(self) -> Application:
        """The application to test (override this; the old sync ``get_app`` also works)."""
        return self.get_app()

    def get_app(self) -> Application:
        """Obsolete: override ``get_application()`` instead."""
        raise RuntimeError("Did you forget to define get_application()?")

    async def get_server(self, app: Application) -> TestServer:
        """The server for ``app``; override to pass runner options."""
        return TestServer(app)

    async def get_client(self, server: TestServer) -> TestClient[Any, Any]:
        """The client for ``server``; override to pass client options."""
        return TestClient(server)

    async def asyncSetUp(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.setUpAsync()

    async def setUpAsync(self) -> None:
        self.app = await self.get_application()
        self.server = await self.get_server(self.app)
        self.client = await self.get_client(self.server)
        await self.client.start_server()

    async def asyncTearDown(self) -> None:
        await self.tearDownAsync()

    async def tearDownAsync(self) -> None:
        await self.client.close()


AioHTTPTestCase = SquallTestCase
"""aiohttp's name, so ``from squall.testing import AioHTTPTestCase`` works unchanged."""


def unittest_run_loop(func: _F, *args: Any, **kwargs: Any) -> _F:
    """Does nothing, as in aiohttp 3.8+ (async test methods need no decorator)."""
    warnings.warn(
        # NOTE: aiohttp's words, which suites match with pytest.warns(match=...)
        "Decorator `@unittest_run_loop` is no longer needed in aiohttp 3.8+",
        DeprecationWarning,
        stacklevel=2,
    )
    return func
