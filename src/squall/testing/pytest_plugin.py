"""pytest fixtures, named like pytest-aiohttp's with ``squall_`` for ``aiohttp_``.

``squall_client``, ``squall_server``, ``squall_raw_server``, ``squall_unused_port``
and ``squall_client_cls`` work as pytest-aiohttp's ``aiohttp_*`` fixtures do;
servers and clients close when the test ends. Async tests and fixtures run through
pytest-asyncio.

When no aiohttp pytest plugin is active (neither pytest-aiohttp nor
``aiohttp.pytest_plugin``), the ``aiohttp_*`` names are offered too, as aliases
(``squall.testing.aiohttp_fixtures``), so a suite moves by changing its imports.
With such a plugin active the names stay aiohttp's: two definitions of one fixture
would silently shadow each other.

NOTE: installing Squall registers this module with every pytest run (the
``pytest11`` entry point), in projects that may not have the ``test`` extra. It
therefore imports nothing optional when it loads: the client (httpx) is imported
by the fixture that first needs it, which names the extra to install if it is
missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

from squall.framework.aliases import Handler
from squall.framework.app import Application
from squall.testing.server import BaseTestServer, RawTestServer, TestServer, unused_port

if TYPE_CHECKING:
    from squall.testing.client import TestClient

# the fixtures' types, under aiohttp.pytest_plugin's names (for annotations)
AiohttpClient = Callable[..., Awaitable["TestClient[Any, Any]"]]
AiohttpServer = Callable[..., Awaitable[TestServer]]
AiohttpRawServer = Callable[..., Awaitable[RawTestServer]]

try:
    from pytest_asyncio import fixture as _asyncio_fixture
except ImportError:  # pragma: no cover - async fixtures then need another plugin
    _asyncio_fixture = None  # type: ignore[assignment]

ALIASES_PLUGIN = "squall.testing.aiohttp_fixtures"

# the modules that define aiohttp_client & co. in aiohttp's own ecosystem
_AIOHTTP_PLUGINS = frozenset({"pytest_aiohttp", "pytest_aiohttp.plugin", "aiohttp.pytest_plugin"})


def async_fixture(func: Callable[..., Any]) -> Any:
    """An async fixture that pytest-asyncio runs in strict mode too."""
    if _asyncio_fixture is None:
        return pytest.fixture(func)
    return _asyncio_fixture(func)


def aiohttp_plugin_active(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether a plugin other than Squall's already defines ``aiohttp_client``."""
    for plugin in pluginmanager.get_plugins():
        name = getattr(plugin, "__name__", None)
        if name == ALIASES_PLUGIN:
            continue
        if name in _AIOHTTP_PLUGINS or getattr(plugin, "aiohttp_client", None) is not None:
            return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    # NOTE: every plugin that could define aiohttp_client is registered by now (entry
    # points, -p, the initial conftests' pytest_plugins) and fixtures are collected
    # only later, at session start, so registering the aliases here is in time
    if config.pluginmanager.has_plugin(ALIASES_PLUGIN):
        return
    if not aiohttp_plugin_active(config.pluginmanager):
        from squall.testing import aiohttp_fixtures

        config.pluginmanager.register(aiohttp_fixtures, ALIASES_PLUGIN)


@pytest.fixture
def squall_unused_port() -> Callable[[], int]:
    """A function returning a free TCP port on 127.0.0.1."""
    return unused_port


@pytest.fixture
def squall_client_cls() -> type[TestClient[Any, Any]]:
    """The TestClient class the ``squall_client`` fixture builds; override to customise.

    Needs httpx (``pip install 'squall[test]'``).
    """
    from squall.testing.client import TestClient

    return TestClient


async def serve_apps() -> AsyncIterator[Callable[..., Any]]:
    """The body of ``squall_server``: ``await go(app, **kwargs)`` → a started TestServer."""
    servers: list[BaseTestServer] = []

    async def go(
        app: Application, *, host: str = "127.0.0.1", port: int | None = None, **kwargs: Any
    ) -> TestServer:
        server = TestServer(app, host=host, port=port)
        await server.start_server(**kwargs)
        servers.append(server)
        return server

    yield go
    while servers:
        await servers.pop().close()


async def serve_handlers() -> AsyncIterator[Callable[..., Any]]:
    """The body of ``squall_raw_server``: ``await go(handler, **kwargs)``."""
    servers: list[BaseTestServer] = []

    async def go(handler: Handler, *, port: int | None = None, **kwargs: Any) -> RawTestServer:
        server = RawTestServer(handler, port=port)
        await server.start_server(**kwargs)
        servers.append(server)
        return server

    yield go
    while servers:
        await servers.pop().close()


async def make_clients(client_cls: type[TestClient[Any, Any]]) -> AsyncIterator[Callable[..., Any]]:
    """The body of ``squall_client``: ``await go(app_or_server, server_kwargs=None, **kw)``."""
    clients: list[TestClient[Any, Any]] = []

    async def go(
        param: Application | BaseTestServer,
        *,
        server_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> TestClient[Any, Any]:
        if isinstance(param, Application):
            server: BaseTestServer = TestServer(param, **(server_kwargs or {}))
        elif isinstance(param, BaseTestServer):
            server = param
        else:
            raise ValueError(f"Unknown argument type: {type(param)!r}")
        client = client_cls(server, **kwargs)
        await client.start_server()
        clients.append(client)
        return client

    yield go
    while clients:
        await clients.pop().close()


@async_fixture
async def squall_server() -> AsyncIterator[Callable[..., Any]]:
    """``await squall_server(app, *, host=, port=, **runner_kwargs)`` → a started TestServer."""
    async for go in serve_apps():
        yield go


@async_fixture
async def squall_raw_server() -> AsyncIterator[Callable[..., Any]]:
    """``await squall_raw_server(handler)`` serves one handler for every path."""
    async for go in serve_handlers():
        yield go


@async_fixture
async def squall_client(
    squall_client_cls: type[TestClient[Any, Any]],
) -> AsyncIterator[Callable[..., Any]]:
    """``await squall_client(app_or_server, server_kwargs=None, **client_kwargs)``."""
    async for go in make_clients(squall_client_cls):
        yield go
