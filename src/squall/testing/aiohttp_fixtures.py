"""pytest-aiohttp's fixture names, served by Squall: ``aiohttp_client`` and the rest.

The Squall pytest plugin registers this module only when no aiohttp pytest plugin is
active (see ``pytest_plugin.pytest_configure``). Each fixture behaves as its
``squall_*`` twin; ``aiohttp_client`` builds ``aiohttp_client_cls``, which is
``squall_client_cls`` unless a suite overrides either of them.

Suites written for ``aiohttp.pytest_plugin`` also get what that plugin gave them:
the ``loop`` fixture, and coroutine tests that run without an ``asyncio`` mark (the
plugin ran every ``async def test_*``; pytest-asyncio's strict mode would fail them).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from squall.testing.loop import loop_context
from squall.testing.pytest_plugin import async_fixture, make_clients, serve_apps, serve_handlers

if TYPE_CHECKING:
    from squall.testing.client import TestClient


@pytest.fixture
def aiohttp_unused_port(squall_unused_port: Callable[[], int]) -> Callable[[], int]:
    """``squall_unused_port`` under pytest-aiohttp's name."""
    return squall_unused_port


@pytest.fixture
def aiohttp_client_cls(squall_client_cls: type[TestClient[Any, Any]]) -> type[TestClient[Any, Any]]:
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
    aiohttp_client_cls: type[TestClient[Any, Any]],
) -> AsyncIterator[Callable[..., Any]]:
    """``squall_client`` under pytest-aiohttp's name (builds ``aiohttp_client_cls``)."""
    async for go in make_clients(aiohttp_client_cls):
        yield go


# markers that hand a coroutine test to another runner than pytest-asyncio
_OTHER_RUNNERS = ("anyio", "trio")


@pytest.hookimpl(trylast=True, hookwrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, None]:
    """Run unmarked coroutine tests, as aiohttp's plugin ran every one.

    Such a test is marked ``asyncio`` for pytest-asyncio, unless it asks for a
    ``loop`` fixture the suite defines itself: aiohttp's plugin ran the test on
    that loop (the suite's sync fixtures may have started servers there), so it
    becomes a plain test that does just that, in strict and in auto mode.

    NOTE: trylast makes this the innermost wrapper, so the items are settled
    before pytest-asyncio's own wrapper looks at them (in auto mode it would mark
    the rest itself).
    """
    outcome = yield
    if not inspect.iscoroutinefunction(obj) or not collector.config.pluginmanager.has_plugin(
        "asyncio"
    ):
        return
    result = outcome.get_result()
    items = result if isinstance(result, list) else [result]
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        if any(item.get_closest_marker(m) for m in ("asyncio", *_OTHER_RUNNERS)):
            continue
        if _asks_for_the_suites_loop(item):
            item.obj = _on_the_suites_loop(item.obj)
        else:
            item.add_marker("asyncio")


def _asks_for_the_suites_loop(item: pytest.Function) -> bool:
    """Whether the test takes a ``loop`` argument that is not this module's fixture."""
    if "loop" not in item._fixtureinfo.argnames:
        return False
    defs = item._fixtureinfo.name2fixturedefs.get("loop")
    if not defs:
        return False
    return getattr(defs[-1].func, "__module__", None) != __name__


def _on_the_suites_loop(test: Callable[..., Any]) -> Callable[..., None]:
    """A plain test that runs the coroutine ``test`` on its ``loop`` argument."""

    @functools.wraps(test)
    def run_on_loop(**kwargs: Any) -> None:
        own_loop = kwargs["loop"]
        if not isinstance(own_loop, asyncio.AbstractEventLoop):
            raise TypeError(f"the 'loop' fixture gave {own_loop!r}, not an event loop")
        own_loop.run_until_complete(test(**kwargs))

    return run_on_loop


@async_fixture
async def _squall_running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def _runs_on_a_loop(request: pytest.FixtureRequest) -> bool:
    node = request.node
    return isinstance(node, pytest.Function) and inspect.iscoroutinefunction(
        getattr(node, "function", None)
    )


@pytest.fixture
def loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """aiohttp's ``loop``: the test's running loop, or for a plain test a new one.

    A coroutine test gets the loop pytest-asyncio runs it on. A plain test gets a
    fresh loop, set as the current one and closed afterwards, which it drives itself
    (``loop.run_until_complete``), as aiohttp's plugin gave it.
    """
    if _runs_on_a_loop(request):
        yield request.getfixturevalue("_squall_running_loop")
        return
    with loop_context() as new_loop:
        yield new_loop
