"""pytest-aiohttp's fixture names, served by Squall: ``aiohttp_client`` and the rest.

The Squall pytest plugin registers this module only when no aiohttp pytest plugin is
active (see ``pytest_plugin.pytest_configure``). Each fixture behaves as its
``squall_*`` twin; ``aiohttp_client`` builds ``aiohttp_client_cls``, which is
``squall_client_cls`` unless a suite overrides either of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest

from squall.testing.pytest_plugin import async_fixture, make_clients, serve_apps, serve_handlers

if TYPE_CHECKING:
    from squall.testing.client import TestClient


@pytest.fixture
def aiohttp_unused_port(squall_unused_port: Callable[[], int]) -> Callable[[], int]:
    """``squall_unused_port`` under pytest-aiohttp's name."""
    return squall_unused_port


@pytest.fixture
def aiohttp_client_cls(squall_client_cls: type[TestClient]) -> type[TestClient]:
    """``squall_client_cls`` under pytest-aiohttp's name."""
    return squall_client_cls


@async_fixture
async def aiohttp_server() -> AsyncIterator[Callable[..., Any]]:
    """``squall_server`` under pytest-aiohttp's name."""
    async for go in serve_apps():
        yield go


@async_fixture
async def aiohttp_raw_server() -> AsyncIterator[Callable[..., Any]]:
    """``squall_raw_server`` under pytest-aiohttp's name."""
    async for go in serve_handlers():
        yield go


@async_fixture
async def aiohttp_client(
    aiohttp_client_cls: type[TestClient],
) -> AsyncIterator[Callable[..., Any]]:
    """``squall_client`` under pytest-aiohttp's name (builds ``aiohttp_client_cls``)."""
    async for go in make_clients(aiohttp_client_cls):
        yield go
