"""Runners and sites: names, addresses, registration and aiohttp's errors.

Where the same code runs on aiohttp, it runs on both (``webmod``) and the same
outcome is expected of each.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web as aiohttp_web

from squall import web as squall_web
from squall.runner import NamedPipeSite
from tests.runner.conftest import spawn


@pytest.fixture(params=[squall_web, aiohttp_web], ids=["squall", "aiohttp"])
def webmod(request: pytest.FixtureRequest) -> Any:
    return request.param


def hello_app(webmod: Any) -> Any:
    async def hello(request: Any) -> Any:
        return webmod.Response(text="hello")

    app = webmod.Application()
    app.router.add_get("/", hello)
    return app


async def test_site_before_setup_is_refused(webmod: Any) -> None:
    runner = webmod.AppRunner(hello_app(webmod))
    assert runner.server is None
    with pytest.raises(RuntimeError, match=r"^Call runner\.setup\(\) before making a site$"):
        webmod.TCPSite(runner, "127.0.0.1", 0)


async def test_names_addresses_and_sites(webmod: Any, tmp_path: Path) -> None:
    runner = webmod.AppRunner(hello_app(webmod))
    await runner.setup()
    try:
        assert runner.server is not None and runner.sites == set() and runner.addresses == []
        tcp = webmod.TCPSite(runner, "127.0.0.1", 0)
        assert tcp.name == "http://127.0.0.1:0"  # not started: the port asked for
        await tcp.start()
        port = tcp.port
        assert port != 0 and tcp.name == f"http://127.0.0.1:{port}"
        assert webmod.TCPSite(runner).name == "http://0.0.0.0:8080"
        assert webmod.TCPSite(runner, "::1", 81).name == "http://[::1]:81"
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock_site = webmod.SockSite(runner, sock)
        sock_port = sock.getsockname()[1]
        assert sock_site.name == f"http://127.0.0.1:{sock_port}"
        await sock_site.start()
        path = tmp_path / "s.sock"
        unix = webmod.UnixSite(runner, str(path))
        assert unix.name == f"http://unix:{path}:"
        await unix.start()
        assert runner.sites == {tcp, sock_site, unix}
        assert runner.addresses == [("127.0.0.1", port), ("127.0.0.1", sock_port), str(path)]
        async with httpx.AsyncClient() as client:
            for p in (port, sock_port):
                assert (await client.get(f"http://127.0.0.1:{p}/")).text == "hello"
        await tcp.stop()
        assert runner.sites == {sock_site, unix}
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)
        with pytest.raises(RuntimeError, match="is not registered in runner"):
            await tcp.stop()
        with pytest.raises(RuntimeError, match="is already registered in runner"):
            await unix.start()
    finally:
        await runner.cleanup()
        sock.close()
    assert runner.sites == set() and runner.server is None


async def test_tls_default_port_and_name(webmod: Any) -> None:
    import ssl

    runner = webmod.AppRunner(hello_app(webmod))
    await runner.setup()
    try:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        assert webmod.TCPSite(runner, ssl_context=ctx).name == "https://0.0.0.0:8443"
        assert webmod.TCPSite(runner, "localhost", 9, ssl_context=ctx).name == "https://localhost:9"
    finally:
        await runner.cleanup()


async def test_named_pipe_site_refuses_off_windows() -> None:
    runner = squall_web.AppRunner(hello_app(squall_web))
    await runner.setup()
    try:
        with pytest.raises(
            RuntimeError, match=r"^Named Pipes only available in proactor loop under windows$"
        ):
            NamedPipeSite(runner, r"\\.\pipe\squall")
    finally:
        await runner.cleanup()


async def test_aiohttp_named_pipe_site_off_windows() -> None:
    """The reference, for docs/compat.md: off Windows aiohttp fails on the missing
    ``asyncio.ProactorEventLoop`` (AttributeError) before its own RuntimeError."""
    runner = aiohttp_web.AppRunner(hello_app(aiohttp_web))
    await runner.setup()
    try:
        with pytest.raises(AttributeError, match="ProactorEventLoop"):
            aiohttp_web.NamedPipeSite(runner, r"\\.\pipe\squall")
    finally:
        await runner.cleanup()


def test_runners_refuse_what_they_cannot_run(webmod: Any) -> None:
    with pytest.raises(TypeError, match=r"^The first argument should be web\.Application instance"):
        webmod.AppRunner(object())
    with pytest.raises(TypeError):
        webmod.BaseRunner()  # abstract


async def test_cleanup_without_setup_skips_on_cleanup(webmod: Any) -> None:
    """A runner never set up has nothing to shut down: on_cleanup does not run
    (the app's signals were never frozen), and no error either."""
    ran: list[str] = []

    async def on_cleanup(app: Any) -> None:
        ran.append("cleanup")

    app = hello_app(webmod)
    app.on_cleanup.append(on_cleanup)
    await webmod.AppRunner(app).cleanup()
    assert ran == []


# -- run_app's sites, in a real process ------------------------------------------------------

RUN_APP = """\
import asyncio, socket
from squall import web

async def hello(request):
    return web.Response(text="hi " + request.host.split(":")[0])

async def make_app():
    await asyncio.sleep(0)  # run_app takes a coroutine that returns the app
    app = web.Application()
    app.router.add_get("/", hello)
    return app

socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
web.run_app(make_app(), ARGS)
"""


@pytest.mark.child
async def test_run_app_hosts_paths_and_socks(tmp_path: Path) -> None:
    paths = [tmp_path / "a.sock", tmp_path / "b.sock"]
    args = f"host=['127.0.0.1', 'localhost'], port=0, path={[str(p) for p in paths]!r}, sock=socks"
    async with spawn(RUN_APP.replace("ARGS", args), tmp_path) as child:
        banner = await child.line()
        names = banner.removeprefix("======== Running on ").removesuffix(" ========").split(", ")
        assert names == sorted(names) and len(names) == 6
        tcp = [n for n in names if "unix" not in n]
        assert {n.rsplit(":", 1)[0] for n in tcp} == {"http://127.0.0.1", "http://localhost"}
        assert [n for n in names if "unix" in n] == [f"http://unix:{p}:" for p in paths]
        async with httpx.AsyncClient() as client:
            for name in tcp:
                assert (await client.get(name + "/")).status_code == 200
        for p in paths:
            reader, writer = await asyncio.open_unix_connection(str(p))
            writer.write(b"GET / HTTP/1.1\r\nHost: u\r\nConnection: close\r\n\r\n")
            assert (await reader.read()).endswith(b"hi u")
            writer.close()
        child.proc.terminate()
        code, _, err = await child.finish()
    assert code == 0, err


@pytest.mark.child
async def test_run_app_default_host_banner(tmp_path: Path) -> None:
    # no host: every interface, printed as 0.0.0.0 like aiohttp
    async with spawn(
        RUN_APP.replace("ARGS", "port=0, reuse_port=True, backlog=16"), tmp_path
    ) as child:
        port = await child.banner_port()
        assert child.lines[0] == f"======== Running on http://0.0.0.0:{port} ========"
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/")).text == "hi 127.0.0.1"
        child.proc.terminate()
        code, _, err = await child.finish()
    assert code == 0, err


PARAMS = """\
import asyncio
from squall import web

loop = asyncio.new_event_loop()

async def slow(request):
    assert asyncio.get_running_loop() is loop
    print("started", flush=True)
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        print("cancelled", flush=True)
        raise

async def fast(request):
    return web.Response(text="same loop" if asyncio.get_running_loop() is loop else "other")

app = web.Application()
app.router.add_get("/slow", slow)
app.router.add_get("/fast", fast)
web.run_app(app, host="127.0.0.1", port=0, loop=loop, keepalive_timeout=0.2,
            handler_cancellation=True, handle_signals=True, print=lambda s: print(s, flush=True))
print("closed" if loop.is_closed() else "open", flush=True)
"""


@pytest.mark.child
async def test_run_app_parameters_reach_the_server(tmp_path: Path) -> None:
    async with spawn(PARAMS, tmp_path) as child:
        port = await child.banner_port()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"same loop"), 15)
        assert head.startswith(b"HTTP/1.1 200 OK")
        # keepalive_timeout=0.2: the idle connection is closed by the server
        assert await asyncio.wait_for(reader.read(), 15) == b""
        writer.close()
        # handler_cancellation: a client that goes away cancels its handler
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        await child.until("started")
        writer.close()
        await child.until("cancelled")
        child.proc.terminate()
        code, lines, err = await child.finish()
    assert code == 0, err
    assert lines[-1] == "closed"  # run_app closes the loop it was given, as aiohttp


async def test_the_runners_server_counts_requests(webmod: Any) -> None:
    """runner.server.requests_count (aiohttp's test client reads it as
    client.server.handler.requests_count): every request head received."""
    runner = webmod.AppRunner(hello_app(webmod))
    await runner.setup()
    try:
        site = webmod.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert runner.server.requests_count == 0
        async with httpx.AsyncClient() as client:
            for _ in range(3):
                reply = await client.get(f"http://127.0.0.1:{site.port}/")
                assert reply.status_code == 200
        assert runner.server.requests_count == 3
    finally:
        await runner.cleanup()
