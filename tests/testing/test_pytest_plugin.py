"""The pytest plugin: a pytest-aiohttp suite moves by changing its imports.

Each test runs pytest in a subprocess on a suite written into a temporary directory.
pytest-aiohttp itself is not installed here (installing it would take the
``aiohttp_*`` names from this repository's own run), so a stand-in with its module
name and fixtures, built on aiohttp's test_utils as the real one is, plays its part.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# An aiohttp test suite as the pytest-aiohttp docs teach it. MOVED swaps the imports.
SUITE = """
import pytest
from aiohttp import WSServerHandshakeError, web
from aiohttp.test_utils import TestClient


async def hello(request):
    return web.Response(text="Hello, world " + request.match_info.get("name", ""))


def create_app():
    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/{name}", hello)
    return app


async def test_hello(aiohttp_client):
    client = await aiohttp_client(create_app())
    resp = await client.get("/")
    assert resp.status == 200
    text = await resp.text()
    assert "Hello, world" in text


async def test_server_then_client(aiohttp_server, aiohttp_client):
    server = await aiohttp_server(create_app())
    client = await aiohttp_client(server)
    async with client.get("/bob") as resp:
        assert resp.status == 200
        assert await resp.text() == "Hello, world bob"


async def test_raw_server(aiohttp_raw_server, aiohttp_client):
    async def handler(request):
        return web.Response(text="raw " + request.path)

    client = await aiohttp_client(await aiohttp_raw_server(handler))
    resp = await client.get("/x/y")
    assert (resp.status, await resp.text()) == (200, "raw /x/y")


def test_unused_port(aiohttp_unused_port):
    assert 0 < aiohttp_unused_port() < 65536


class LoginClient(TestClient):
    async def hello(self, name):
        resp = await self.get("/" + name)
        return await resp.text()


@pytest.fixture
def aiohttp_client_cls():
    return LoginClient


async def test_own_client_class(aiohttp_client):
    client = await aiohttp_client(create_app())
    assert isinstance(client, LoginClient)
    assert await client.hello("ann") == "Hello, world ann"


async def shout(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is web.WSMsgType.TEXT:
            await ws.send_str(msg.data.upper())
    return ws


async def test_websocket(aiohttp_client):
    app = create_app()
    app.router.add_get("/ws/shout", shout)
    client = await aiohttp_client(app)
    async with client.ws_connect("/ws/shout") as ws:
        await ws.send_str("hi")
        assert await ws.receive_str() == "HI"
    assert ws.closed and ws.close_code == 1000
    with pytest.raises(WSServerHandshakeError) as info:
        await client.ws_connect("/")
    assert info.value.status == 200
    ws = await client.ws_connect("/ws/shout")  # left open: the fixture closes it
"""

MOVED = (
    SUITE.replace("from aiohttp import WSServerHandshakeError, web", "from squall import web")
    .replace(
        "from aiohttp.test_utils import TestClient",
        "from squall.testing import TestClient, WSServerHandshakeError",
    )
    .replace("from aiohttp.test_utils import", "from squall.testing import")
)

# pytest-aiohttp's shape: module pytest_aiohttp.plugin, fixtures over aiohttp.test_utils
STAND_IN = """
import pytest_asyncio
from aiohttp.test_utils import RawTestServer, TestClient, TestServer, unused_port
from aiohttp.web import Application


@pytest_asyncio.fixture
async def aiohttp_server():
    servers = []

    async def go(app, *, host="127.0.0.1", port=None, **kwargs):
        server = TestServer(app, host=host, port=port)
        await server.start_server(**kwargs)
        servers.append(server)
        return server

    yield go
    for server in servers:
        await server.close()


@pytest_asyncio.fixture
async def aiohttp_raw_server():
    servers = []

    async def go(handler, *, port=None, **kwargs):
        server = RawTestServer(handler, port=port)
        await server.start_server(**kwargs)
        servers.append(server)
        return server

    yield go
    for server in servers:
        await server.close()


@pytest_asyncio.fixture
def aiohttp_unused_port():
    return unused_port


@pytest_asyncio.fixture
def aiohttp_client_cls():
    return TestClient


@pytest_asyncio.fixture
async def aiohttp_client(aiohttp_client_cls):
    clients = []

    async def go(param, *, server_kwargs=None, **kwargs):
        if isinstance(param, Application):
            param = TestServer(param, **(server_kwargs or {}))
        client = aiohttp_client_cls(param, **kwargs)
        await client.start_server()
        clients.append(client)
        return client

    yield go
    for client in clients:
        await client.close()
"""

# Which fixture answers to aiohttp_client, and does Squall's own still work beside it?
PROBE = """
from squall import web

ALIASES = "squall.testing.aiohttp_fixtures"


def test_who_serves_aiohttp_client(request):
    pm = request.config.pluginmanager
    print("ALIASES-REGISTERED" if pm.has_plugin(ALIASES) else "ALIASES-ABSENT")
    fixturedefs = request._fixturemanager.getfixturedefs("aiohttp_client", request.node)
    print("SERVED-BY", fixturedefs[-1].func.__module__)


async def test_squall_client_still_works(squall_client):
    async def hi(request):
        return web.Response(text="hi")

    app = web.Application()
    app.router.add_get("/", hi)
    client = await squall_client(app)
    assert await (await client.get("/")).text() == "hi"
"""


def run_pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = str(root)  # the stand-in plugin package
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", "-q", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    stand_in = tmp_path / "pytest_aiohttp"
    stand_in.mkdir()
    (stand_in / "__init__.py").write_text("")
    (stand_in / "plugin.py").write_text(STAND_IN)
    return tmp_path


def test_the_original_suite_passes_on_aiohttp_with_pytest_aiohttp(project: Path) -> None:
    """The baseline: the suite is right for aiohttp (Squall's aliases step aside)."""
    (project / "test_suite.py").write_text(SUITE)
    proc = run_pytest(project, "-p", "pytest_aiohttp.plugin")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 passed" in proc.stdout, proc.stdout


def test_the_moved_suite_passes_on_squall(project: Path) -> None:
    (project / "test_suite.py").write_text(MOVED)
    proc = run_pytest(project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 passed" in proc.stdout, proc.stdout


def test_the_moved_suite_passes_in_strict_mode(project: Path) -> None:
    marked = MOVED.replace("\nasync def test_", "\n@pytest.mark.asyncio\nasync def test_")
    (project / "test_suite.py").write_text(marked)
    proc = run_pytest(project, "-o", "asyncio_mode=strict")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 passed" in proc.stdout, proc.stdout


def test_the_aliases_are_squalls_when_no_aiohttp_plugin_is_active(project: Path) -> None:
    (project / "test_probe.py").write_text(PROBE)
    proc = run_pytest(project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ALIASES-REGISTERED" in proc.stdout
    assert "SERVED-BY squall.testing.aiohttp_fixtures" in proc.stdout


@pytest.mark.parametrize(
    "how",
    [
        ("-p", "pytest_aiohttp.plugin"),  # pytest-aiohttp (its entry point loads this module)
        ("-p", "aiohttp.pytest_plugin"),  # aiohttp's own, older plugin
        ("conftest",),  # pytest_plugins in the root conftest
    ],
    ids=["pytest-aiohttp", "aiohttp.pytest_plugin", "conftest-pytest_plugins"],
)
def test_an_active_aiohttp_plugin_keeps_its_names(project: Path, how: tuple[str, ...]) -> None:
    (project / "test_probe.py").write_text(PROBE)
    args: tuple[str, ...] = how
    if how == ("conftest",):
        (project / "conftest.py").write_text('pytest_plugins = ["pytest_aiohttp.plugin"]\n')
        args = ()
    proc = run_pytest(project, *args, "-W", "ignore::DeprecationWarning")
    assert "ALIASES-ABSENT" in proc.stdout, proc.stdout + proc.stderr
    assert "SERVED-BY squall.testing.aiohttp_fixtures" not in proc.stdout
    if how[-1] != "aiohttp.pytest_plugin":  # that one runs coroutines on a loop of its own
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "2 passed" in proc.stdout, proc.stdout


def test_any_plugin_defining_aiohttp_client_keeps_the_name(project: Path) -> None:
    (project / "my_fixtures.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef aiohttp_client():\n    return 'mine'\n"
    )
    (project / "test_mine.py").write_text(
        textwrap.dedent(
            """
            def test_mine(aiohttp_client, request):
                assert aiohttp_client == "mine"
                pm = request.config.pluginmanager
                assert not pm.has_plugin("squall.testing.aiohttp_fixtures")
            """
        )
    )
    proc = run_pytest(project, "-p", "my_fixtures")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# A suite written for aiohttp.pytest_plugin: no asyncio marks, the ``loop`` fixture,
# and (in the second file) a ``loop`` of the suite's own that a sync fixture starts a
# server on, which the coroutine test must then run on.
OLD_STYLE = """
import asyncio

from squall import web
from squall.testing import TestClient, TestServer


def make_app():
    async def hi(request):
        return web.Response(text="hi")

    app = web.Application()
    app.router.add_get("/", hi)
    return app


async def test_unmarked_coroutine_runs(aiohttp_client, loop):
    assert loop is asyncio.get_running_loop()
    client = await aiohttp_client(make_app())
    assert await (await client.get("/")).text() == "hi"


def test_plain_test_drives_the_loop(loop):
    assert loop is asyncio.get_event_loop_policy().get_event_loop()
    assert loop.run_until_complete(asyncio.sleep(0, "done")) == "done"
"""

OWN_LOOP = """
import asyncio

import pytest

from squall.testing import TestClient, TestServer
from test_old_style import make_app


@pytest.fixture
def loop():
    new_loop = asyncio.new_event_loop()
    yield new_loop
    new_loop.close()


@pytest.fixture
def client(loop):
    client = TestClient(TestServer(make_app()))
    loop.run_until_complete(client.start_server())
    yield client
    loop.run_until_complete(client.close())


async def test_runs_on_the_suites_loop(client, loop):
    assert asyncio.get_running_loop() is loop
    assert await (await client.get("/")).text() == "hi"
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_a_suite_for_aiohttps_own_plugin_runs_unmarked(project: Path, mode: str) -> None:
    (project / "test_old_style.py").write_text(OLD_STYLE)
    (project / "test_own_loop.py").write_text(OWN_LOOP)
    proc = run_pytest(project, "-o", f"asyncio_mode={mode}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout, proc.stdout


def test_an_explicitly_marked_test_stays_pytest_asyncios(project: Path) -> None:
    """A test marked asyncio runs on pytest-asyncio's loop, a suite's ``loop`` or not."""
    (project / "test_mine.py").write_text(
        textwrap.dedent(
            """
            import asyncio

            import pytest


            @pytest.fixture
            def loop():
                new_loop = asyncio.new_event_loop()
                yield new_loop
                new_loop.close()


            @pytest.mark.asyncio
            async def test_mine(loop):
                assert asyncio.get_running_loop() is not loop
            """
        )
    )
    proc = run_pytest(project, "-o", "asyncio_mode=strict")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout, proc.stdout


def test_a_suite_with_another_aiohttp_plugin_is_left_alone(project: Path) -> None:
    """With pytest-aiohttp active, ``loop`` and unmarked coroutine tests are not Squall's."""
    (project / "test_old_style.py").write_text(OLD_STYLE)
    (project / "test_unmarked.py").write_text("async def test_unmarked():\n    pass\n")
    proc = run_pytest(project, "-p", "pytest_aiohttp.plugin", "-o", "asyncio_mode=strict")
    assert proc.returncode != 0
    assert "fixture 'loop' not found" in proc.stdout, proc.stdout
    assert "async def functions are not natively supported" in proc.stdout, proc.stdout


def test_the_fixture_types_have_aiohttps_names() -> None:
    """``from aiohttp.pytest_plugin import AiohttpClient`` moves to Squall's plugin."""
    from collections.abc import Awaitable

    from squall.testing import RawTestServer, TestServer
    from squall.testing.pytest_plugin import AiohttpClient, AiohttpRawServer, AiohttpServer

    assert AiohttpServer.__args__[-1] == Awaitable[TestServer]  # type: ignore[attr-defined]
    assert AiohttpRawServer.__args__[-1] == Awaitable[RawTestServer]  # type: ignore[attr-defined]
    assert "TestClient" in repr(AiohttpClient)
