"""SquallTestCase (AioHTTPTestCase), the loop helpers and make_mocked_coro.

The unittest cases are run by unittest itself; the same test methods run on
aiohttp's ``AioHTTPTestCase`` with an aiohttp app and on ``SquallTestCase`` with a
Squall app. They are built inside functions so that pytest does not collect them.
"""

from __future__ import annotations

import asyncio
import unittest
from typing import Any

import pytest
from aiohttp import test_utils as aiohttp_testing
from aiohttp import web as aiohttp_web

from squall import testing as squall_testing
from squall import web as squall_web
from squall.testing.case import SquallTestCase, unittest_run_loop

from .conftest import AIOHTTP, SQUALL, Kit


def run_case(case: type[unittest.TestCase]) -> unittest.TestResult:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TestResult()
    suite.run(result)
    return result


def failures(result: unittest.TestResult) -> str:
    return "\n".join(text for _, text in [*result.errors, *result.failures])


def app_of(web: Any) -> Any:
    async def hello(request: Any) -> Any:
        return web.Response(text="hello " + request.headers.get("X-Who", "nobody"))

    async def echo(request: Any) -> Any:
        return web.json_response(await request.json())

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_post("/echo", echo)
    return app


def case_of(kit: Kit, servers: list[Any]) -> type[unittest.TestCase]:
    """An AioHTTPTestCase subclass as an aiohttp suite writes one, on ``kit``'s side."""
    base: Any = kit.testing.AioHTTPTestCase

    class HelloCase(base):  # type: ignore[misc, valid-type]
        async def get_application(self) -> Any:
            return app_of(kit.web)

        async def test_get(self) -> None:
            servers.append(self.server)
            resp = await self.client.get("/")
            self.assertEqual(resp.status, 200)
            self.assertEqual(await resp.text(), "hello nobody")

        async def test_post_json(self) -> None:
            servers.append(self.server)
            resp = await self.client.post("/echo", json={"a": [1, 2]})
            self.assertEqual(await resp.json(), {"a": [1, 2]})

        async def test_the_parts_are_wired(self) -> None:
            servers.append(self.server)
            self.assertIs(self.client.app, self.app)
            self.assertIs(self.client.server, self.server)
            self.assertIs(self.server.app, self.app)
            self.assertIs(self.loop, asyncio.get_running_loop())
            self.assertEqual(
                str(self.server.make_url("/x")), f"http://127.0.0.1:{self.server.port}/x"
            )

    return HelloCase


@pytest.mark.parametrize("kit", [SQUALL, AIOHTTP], ids=["squall", "aiohttp"])
def test_an_aiohttp_test_case_runs_with_unittest(kit: Kit) -> None:
    servers: list[Any] = []
    result = run_case(case_of(kit, servers))
    assert result.testsRun == 3
    assert result.wasSuccessful(), failures(result)
    assert len(servers) == 3
    assert len({id(s) for s in servers}) == 3  # a fresh server for each test
    assert all(s.closed for s in servers)  # and closed after it


@pytest.mark.parametrize("kit", [SQUALL, AIOHTTP], ids=["squall", "aiohttp"])
def test_get_client_and_get_server_can_be_overridden(kit: Kit) -> None:
    seen: list[str] = []

    class Custom(kit.testing.AioHTTPTestCase):  # type: ignore[misc, name-defined]
        async def get_application(self) -> Any:
            return app_of(kit.web)

        async def get_server(self, app: Any) -> Any:
            return kit.testing.TestServer(app, port=0)

        async def get_client(self, server: Any) -> Any:
            return kit.testing.TestClient(server, headers={"X-Who": "custom"})

        async def test_it(self) -> None:
            seen.append(await (await self.client.get("/")).text())

    result = run_case(Custom)
    assert result.wasSuccessful(), failures(result)
    assert seen == ["hello custom"]


@pytest.mark.parametrize("kit", [SQUALL, AIOHTTP], ids=["squall", "aiohttp"])
def test_the_old_sync_get_app_and_the_missing_one(kit: Kit) -> None:
    class Legacy(kit.testing.AioHTTPTestCase):  # type: ignore[misc, name-defined]
        def get_app(self) -> Any:
            return app_of(kit.web)

        async def test_it(self) -> None:
            self.assertEqual((await self.client.get("/")).status, 200)

    class Missing(kit.testing.AioHTTPTestCase):  # type: ignore[misc, name-defined]
        async def test_it(self) -> None:
            pass

    assert run_case(Legacy).wasSuccessful()
    result = run_case(Missing)
    assert "Did you forget to define get_application()?" in failures(result)


def test_the_names_are_aiohttps() -> None:
    assert squall_testing.AioHTTPTestCase is SquallTestCase
    assert squall_testing.SquallTestCase is SquallTestCase
    assert issubclass(SquallTestCase, unittest.IsolatedAsyncioTestCase)
    for name in aiohttp_testing.__dict__:
        if name in {"TestClient", "TestServer", "RawTestServer", "BaseTestServer"}:
            assert hasattr(squall_testing, name)


def test_unittest_run_loop_is_a_deprecated_no_op() -> None:
    async def method(self: Any) -> None:
        pass

    with pytest.warns(DeprecationWarning, match=r"no longer needed in aiohttp 3\.8\+"):
        assert unittest_run_loop(method) is method


@pytest.mark.parametrize("testing", [squall_testing, aiohttp_testing], ids=["squall", "aiohttp"])
def test_loop_context_serves_and_cleans_up(testing: Any) -> None:
    web = squall_web if testing is squall_testing else aiohttp_web
    ran: list[str] = []

    async def exchange() -> str:
        async with testing.TestClient(testing.TestServer(app_of(web))) as client:
            return await (await client.get("/")).text()  # type: ignore[no-any-return]

    with testing.loop_context() as loop:
        assert asyncio.get_event_loop_policy().get_event_loop() is loop
        assert loop.run_until_complete(exchange()) == "hello nobody"
        loop.call_soon(ran.append, "pending callback")
    assert loop.is_closed()
    assert ran == ["pending callback"]  # teardown ran what was scheduled

    loop = testing.setup_test_loop()
    testing.teardown_test_loop(loop, fast=True)
    assert loop.is_closed()


@pytest.mark.parametrize("testing", [squall_testing, aiohttp_testing], ids=["squall", "aiohttp"])
async def test_make_mocked_coro(testing: Any) -> None:
    coro = testing.make_mocked_coro(3)
    assert await coro(1, x=2) == 3
    coro.assert_called_once_with(1, x=2)

    failing = testing.make_mocked_coro(raise_exception=KeyError("k"))
    with pytest.raises(KeyError):
        await failing()
    assert failing.call_count == 1

    inner: list[str] = []

    async def side() -> str:
        inner.append("awaited")
        return "dropped"

    awaiting = testing.make_mocked_coro(side())
    assert await awaiting() is None  # an awaitable is awaited, its result dropped
    assert inner == ["awaited"]


async def test_make_mocked_coro_without_a_value_returns_none() -> None:
    assert await squall_testing.make_mocked_coro()() is None
