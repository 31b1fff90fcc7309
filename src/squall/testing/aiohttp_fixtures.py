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
# set on a coroutine test that runs on the suite's own ``loop`` fixture
_on_own_loop = pytest.StashKey[bool]()


@pytest.hookimpl(trylast=True, hookwrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, None]:
    """Run unmarked coroutine tests, as aiohttp's plugin ran every one.

    Such a test is marked ``asyncio`` for pytest-asyncio, unless the suite defines a
    ``loop`` fixture of its own and the test asks for it: aiohttp's plugin ran the
    test on that loop (its sync fixtures may have started servers there), so
    ``pytest_pyfunc_call`` below does too.

    NOTE: trylast makes this the innermost wrapper, so the mark is on the items
    before pytest-asyncio's own wrapper looks for it (in auto mode it is already
    there and nothing changes).
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
        if _suite_loop_requested(item):
            item.stash[_on_own_loop] = True
        else:
            item.add_marker("asyncio")


def _suite_loop_requested(item: pytest.Function) -> bool:
    """Whether the test asks for a ``loop`` fixture that is not this module's."""
    if "loop" not in item.fixturenames:
        return False
    defs = item._fixtureinfo.name2fixturedefs.get("loop")
    if not defs:
        return False
    return getattr(defs[-1].func, "__module__", None) != __name__


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a coroutine test on the suite's own ``loop`` fixture (see above)."""
    if not pyfuncitem.stash.get(_on_own_loop, False):
        return None
    if pyfuncitem.get_closest_marker("asyncio") is not None:
        return None  # auto mode: pytest-asyncio took it after all, and runs it
    own_loop = pyfuncitem.funcargs["loop"]
    assert isinstance(own_loop, asyncio.AbstractEventLoop)
    names = pyfuncitem._fixtureinfo.argnames
    own_loop.run_until_complete(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
    return True


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
