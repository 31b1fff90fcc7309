"""pytest fixtures, named like pytest-aiohttp's with ``squall_`` for ``aiohttp_``.

``aiohttp_client`` becomes ``squall_client``, ``aiohttp_server`` becomes
``squall_server``, and so on; servers and clients close when the test ends.
Async tests run through pytest-asyncio (``asyncio_mode = "auto"``).

NOTE: installing Squall registers this module with every pytest run (the
``pytest11`` entry point), in projects that may not have the ``test`` extra. It
therefore imports nothing optional when it loads: the client (httpx) is imported
by the fixture that first needs it, which names the extra to install if it is
missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest

from squall.framework.aliases import Handler
from squall.framework.app import Application
from squall.testing.server import BaseTestServer, RawTestServer, TestServer, unused_port

if TYPE_CHECKING:
    from squall.testing.client import TestClient

try:
    from pytest_asyncio import fixture as _asyncio_fixture
except ImportError:  # pragma: no cover - async fixtures then need another plugin
    _asyncio_fixture = None  # type: ignore[assignment]


def _async_fixture(func: Callable[..., Any]) -> Any:
    if _asyncio_fixture is None:
        return pytest.fixture(func)
    return _asyncio_fixture(func)


@pytest.fixture
def squall_unused_port() -> Callable[[], int]:
    """A function returning a free TCP port on 127.0.0.1."""
    return unused_port


@pytest.fixture
def squall_client_cls() -> type[TestClient]:
    """The TestClient class the ``squall_client`` fixture builds; override to customise.

    Needs httpx (``pip install 'squall[test]'``).
    """
    from squall.testing.client import TestClient

    return TestClient


@_async_fixture
async def squall_server() -> AsyncIterator[Callable[..., Any]]:
    """``await squall_server(app, **kwargs)`` returns a started TestServer."""
    servers: list[BaseTestServer] = []

    async def go(
        app: Application, *, host: str = "127.0.0.1", port: int | None = None, **kwargs: Any
    ) -> TestServer:
        server = TestServer(app, host=host, port=port)
        await server.start_server(**kwargs)
        servers.append(server)
        return server

    yield go
    for server in servers:
        await server.close()


@_async_fixture
async def squall_raw_server() -> AsyncIterator[Callable[..., Any]]:
    """``await squall_raw_server(handler)`` serves one handler for every path."""
    servers: list[BaseTestServer] = []

    async def go(handler: Handler, *, port: int | None = None, **kwargs: Any) -> RawTestServer:
        server = RawTestServer(handler, port=port)
        await server.start_server(**kwargs)
        servers.append(server)
        return server

    yield go
    for server in servers:
        await server.close()


@_async_fixture
async def squall_client(
    squall_client_cls: type[TestClient],
) -> AsyncIterator[Callable[..., Any]]:
    """``await squall_client(app_or_server, server_kwargs=None, **client_kwargs)``."""
    clients: list[TestClient] = []

    async def go(
        param: Application | BaseTestServer,
        *,
        server_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> TestClient:
        if isinstance(param, Application):
            server: BaseTestServer = TestServer(param, **(server_kwargs or {}))
        elif isinstance(param, BaseTestServer):
            server = param
        else:
            raise TypeError(f"Unknown argument type: {type(param)!r}")
        client = squall_client_cls(server, **kwargs)
        await client.start_server()
        clients.append(client)
        return client

    yield go
    for client in clients:
        await client.close()
