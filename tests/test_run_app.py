"""``run_app`` and ``python -m squall.web`` as real processes, and clean imports.

Each server runs in a subprocess with this interpreter. Readiness is the
"======== Running on" line (or, with ``print=None``, a port written to stderr before
``run_app`` takes an already-listening socket): no sleeping, no polling.
"""

from __future__ import annotations

import asyncio
import os
import pkgutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

import squall
from squall import web
from squall.testing import unused_port

TIMEOUT = 15.0

HELLO = """\
from squall import web

async def handle(request):
    name = request.match_info.get('name', "Anonymous")
    text = "Hello, " + name
    return web.Response(text=text)

app = web.Application()
app.add_routes([web.get('/', handle),
                web.get('/{name}', handle)])
web.run_app(app, port=PORT)
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # the "Running on" line must not sit in a pipe buffer
    return env


@asynccontextmanager
async def spawn(*args: str, cwd: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start ``python *args``; kill it at the end if it is still running."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=cwd,
        env=child_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def wait_running(proc: asyncio.subprocess.Process) -> str:
    """Read stdout up to the banner; return the banner line."""
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)
        if not line:
            assert proc.stderr is not None
            err = await proc.stderr.read()
            raise AssertionError(f"server exited before serving: {err.decode()}")
        if line.startswith(b"======== Running on"):
            return line.decode().strip()


async def stop(proc: asyncio.subprocess.Process, sig: signal.Signals) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


# -- the program -------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_hello_world_program(tmp_path: Path, sig: signal.Signals) -> None:
    port = unused_port()
    (tmp_path / "hello.py").write_text(HELLO.replace("PORT", str(port)))
    async with spawn("hello.py", cwd=tmp_path) as proc:
        banner = await wait_running(proc)
        assert banner == f"======== Running on http://0.0.0.0:{port} ========"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            resp = await client.get("/")
            assert resp.status_code == 200
            assert resp.text == "Hello, Anonymous"
            assert resp.headers["content-type"] == "text/plain; charset=utf-8"
            resp = await client.get("/Bob")
            assert resp.text == "Hello, Bob"
        code, out, err = await stop(proc, sig)
    assert code == 0, err
    assert out.startswith("(Press CTRL+C to quit)")
    assert "Traceback" not in err


async def test_graceful_shutdown_runs_the_hooks(tmp_path: Path) -> None:
    port = unused_port()
    program = textwrap.dedent(
        f"""\
        from squall import web

        def hook(name):
            async def receiver(app):
                print(name, flush=True)
            return receiver

        async def ctx(app):
            print("ctx enter", flush=True)
            yield
            print("ctx exit", flush=True)

        async def handle(request):
            return web.Response(text="up")

        app = web.Application()
        app.on_startup.append(hook("startup"))
        app.on_shutdown.append(hook("shutdown"))
        app.on_cleanup.append(hook("cleanup"))
        app.cleanup_ctx.append(ctx)
        app.router.add_get("/", handle)
        web.run_app(app, host="127.0.0.1", port={port})
        print("returned", flush=True)
        """
    )
    (tmp_path / "hooks.py").write_text(program)
    async with spawn("hooks.py", cwd=tmp_path) as proc:
        banner = await wait_running(proc)
        assert banner == f"======== Running on http://127.0.0.1:{port} ========"
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/")).text == "up"
        code, out, err = await stop(proc, signal.SIGINT)
    assert code == 0, err
    assert out.splitlines() == [
        "(Press CTRL+C to quit)",
        "shutdown",
        "ctx exit",
        "cleanup",
        "returned",
    ]


async def test_print_none_prints_nothing(tmp_path: Path) -> None:
    program = textwrap.dedent(
        """\
        import socket, sys
        from squall import web

        async def handle(request):
            return web.Response(text="quiet")

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        print(sock.getsockname()[1], file=sys.stderr, flush=True)
        app = web.Application()
        app.router.add_get("/", handle)
        web.run_app(app, sock=sock, print=None)
        """
    )
    (tmp_path / "quiet.py").write_text(program)
    async with spawn("quiet.py", cwd=tmp_path) as proc:
        assert proc.stderr is not None
        port = int(await asyncio.wait_for(proc.stderr.readline(), TIMEOUT))
        async with httpx.AsyncClient() as client:
            # the socket listens already: the request waits in the backlog until served
            resp = await client.get(f"http://127.0.0.1:{port}/", timeout=TIMEOUT)
            assert resp.text == "quiet"
        code, out, err = await stop(proc, signal.SIGINT)
    assert code == 0, err
    assert out == ""


async def test_python_m_squall_web(tmp_path: Path) -> None:
    port = unused_port()
    module = textwrap.dedent(
        """\
        import argparse
        from squall import web

        def factory(argv):
            parser = argparse.ArgumentParser()
            parser.add_argument("--greeting", default="Hello")
            args = parser.parse_args(argv)

            async def handle(request):
                return web.Response(text=f"{args.greeting} from the factory")

            app = web.Application()
            app.router.add_get("/", handle)
            return app
        """
    )
    (tmp_path / "mymod.py").write_text(module)
    args = ["-m", "squall.web", "-H", "127.0.0.1", "-P", str(port), "mymod:factory"]
    async with spawn(*args, "--greeting", "Hi", cwd=tmp_path) as proc:
        banner = await wait_running(proc)
        assert banner == f"======== Running on http://127.0.0.1:{port} ========"
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"http://127.0.0.1:{port}/")
            assert resp.text == "Hi from the factory"
        code, _, err = await stop(proc, signal.SIGTERM)
    assert code == 0, err


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("mymod", "'entry-func' not in 'module:function' syntax"),
        ("nosuchmodule:factory", "unable to import nosuchmodule"),
        ("mymod:nothing", "module 'mymod' has no attribute 'nothing'"),
        (".rel:factory", "relative module names not supported"),
    ],
)
def test_python_m_squall_web_usage_errors(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "mymod.py").write_text("def factory(argv):\n    raise AssertionError\n")
    proc = subprocess.run(
        [sys.executable, "-m", "squall.web", entry],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(),
    )
    assert proc.returncode == 2
    assert message in proc.stderr


# -- imports ------------------------------------------------------------------------------


def test_squall_never_imports_aiohttp() -> None:
    code = (
        "import sys, squall.web, squall.testing, squall.testing.pytest_plugin\n"
        "bad = sorted(m for m in sys.modules if m.startswith('aiohttp'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, proc.stderr


MODULES = sorted(info.name for info in pkgutil.walk_packages(squall.__path__, prefix="squall."))


def test_module_list_is_complete() -> None:
    for name in ("squall.web", "squall.runner", "squall.framework.app", "squall.testing"):
        assert name in MODULES


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr


# -- event loops: uvloop by default, the stdlib loop as the fallback ------------------------

LOOP_PROGRAM = """\
import asyncio, sys
{block}
from squall import web

async def handle(request):
    loop = type(asyncio.get_running_loop())
    return web.Response(text=loop.__module__ + "." + loop.__name__)

app = web.Application()
app.router.add_get("/", handle)
web.run_app(app, host="127.0.0.1", port={port}{kwargs})
"""
NO_UVLOOP = "sys.modules['uvloop'] = None  # as if uvloop were not installed"


@pytest.mark.parametrize(
    ("block", "kwargs", "expected"),
    [
        ("", "", "uvloop.Loop"),
        ("", ", use_uvloop=False", "asyncio.unix_events._UnixSelectorEventLoop"),
        (NO_UVLOOP, "", "asyncio.unix_events._UnixSelectorEventLoop"),
    ],
    ids=["default", "disabled", "unavailable"],
)
async def test_run_app_event_loop(tmp_path: Path, block: str, kwargs: str, expected: str) -> None:
    port = unused_port()
    program = LOOP_PROGRAM.format(block=block, port=port, kwargs=kwargs)
    (tmp_path / "loops.py").write_text(program)
    async with spawn("loops.py", cwd=tmp_path) as proc:
        await wait_running(proc)
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"http://127.0.0.1:{port}/")
        assert (resp.status_code, resp.text) == (200, expected)
        code, _, err = await stop(proc, signal.SIGINT)
    assert code == 0, err


def test_run_app_insisting_on_missing_uvloop_fails(tmp_path: Path) -> None:
    program = LOOP_PROGRAM.format(block=NO_UVLOOP, port=unused_port(), kwargs=", use_uvloop=True")
    (tmp_path / "insist.py").write_text(program)
    proc = subprocess.run(
        [sys.executable, "insist.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(),
    )
    assert proc.returncode != 0
    assert "ModuleNotFoundError: import of uvloop" in proc.stderr


def test_new_loop_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_new_loop``, the choice run_app makes, in this process."""
    import uvloop

    from squall.runner import _new_loop

    for use_uvloop, kind in [(None, uvloop.Loop), (True, uvloop.Loop)]:
        loop = _new_loop(use_uvloop)
        assert type(loop) is kind
        loop.close()
    loop = _new_loop(False)
    assert not isinstance(loop, uvloop.Loop)
    assert isinstance(loop, asyncio.SelectorEventLoop)
    loop.close()
    monkeypatch.setitem(sys.modules, "uvloop", None)  # not installed
    loop = _new_loop(None)
    assert isinstance(loop, asyncio.SelectorEventLoop)
    loop.close()
    with pytest.raises(ImportError):
        _new_loop(True)


# -- Unix sockets ------------------------------------------------------------------------


def unix_app() -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(text=f"unix {request.path}")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


async def get_over_unix(path: Path, target: str) -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_unix_connection(str(path))
    try:
        writer.write(b"GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % target.encode())
        data = await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


async def test_unix_site(tmp_path: Path) -> None:
    path = tmp_path / "squall.sock"
    runner = web.AppRunner(unix_app())
    await runner.setup()
    site = web.UnixSite(runner, str(path))
    try:
        await site.start()
        assert site.name == f"http://unix:{path}:"
        assert runner.addresses == [str(path)]
        for target in ("/", "/a/b"):
            status, body = await get_over_unix(path, target)
            assert status == b"HTTP/1.1 200 OK"
            assert body == f"unix {target}".encode()
    finally:
        await runner.cleanup()


async def test_run_app_on_a_unix_path(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    program = textwrap.dedent(
        f"""\
        from squall import web

        async def handle(request):
            return web.Response(text="over unix")

        app = web.Application()
        app.router.add_get("/", handle)
        web.run_app(app, path={str(path)!r})
        """
    )
    (tmp_path / "unixapp.py").write_text(program)
    async with spawn("unixapp.py", cwd=tmp_path) as proc:
        banner = await wait_running(proc)
        assert banner == f"======== Running on http://unix:{path}: ========"
        assert await get_over_unix(path, "/") == (b"HTTP/1.1 200 OK", b"over unix")
        code, _, err = await stop(proc, signal.SIGTERM)
    assert code == 0, err


@pytest.mark.parametrize("side", ["squall", "aiohttp"])
def test_a_task_failing_as_run_app_cancels_it_reaches_the_exception_handler(side: str) -> None:
    """What the loop's exception handler is told, word for word as on aiohttp."""
    from aiohttp import web as aiohttp_web

    side_web = web if side == "squall" else aiohttp_web
    loop = asyncio.new_event_loop()
    contexts: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: contexts.append(context))
    failure = RuntimeError("FAIL")
    tasks: list[asyncio.Task[None]] = []

    async def fail() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise failure from None

    async def on_startup(app: object) -> None:
        tasks.append(asyncio.get_running_loop().create_task(fail()))

    def stop(*_: object) -> None:  # run_app's print: the server is up
        def interrupt() -> None:
            raise KeyboardInterrupt

        loop.call_soon(interrupt)

    app = side_web.Application()
    app.on_startup.append(on_startup)
    side_web.run_app(app, host="127.0.0.1", port=0, loop=loop, print=stop)
    [context] = [c for c in contexts if c.get("exception") is failure]
    assert context == {
        "message": "unhandled exception during asyncio.run() shutdown",
        "exception": failure,
        "task": tasks[0],
    }
