"""Graceful shutdown of ``run_app`` in a real process stopped by a real SIGTERM.

aiohttp's order: stop accepting, close idle keep-alive connections, on_shutdown,
wait up to shutdown_timeout for running handlers, drop the rest, on_cleanup.
The child reports each step on stdout; the test waits for those lines (and for
the responses), never for time to pass. The handler in flight waits for SIGUSR1,
which the test sends when it has checked what it wants to see meanwhile.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.conftest import RawConnection
from tests.runner.conftest import TIMEOUT, spawn

PROGRAM = """\
import asyncio, signal, socket
from squall import web

def note(what):
    print(what, flush=True)

async def on_startup(app):
    release = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, release.set)
    app["release"] = release

async def slow(request):
    note("handler started")
    try:
        await request.app["release"].wait()
    except asyncio.CancelledError:
        note("handler cancelled")
        raise
    note("handler done")
    return web.Response(body=b"x" * 300_000)

async def fast(request):
    return web.Response(text="fast")

async def on_shutdown(app):
    note("on_shutdown")

async def on_cleanup(app):
    note("on_cleanup")

app = web.Application()
app.on_startup.append(on_startup)
app.on_shutdown.append(on_shutdown)
app.on_cleanup.append(on_cleanup)
app.router.add_get("/slow", slow)
app.router.add_get("/fast", fast)
web.run_app(app, host="127.0.0.1", port=0, shutdown_timeout=SHUTDOWN_TIMEOUT, use_uvloop=UVLOOP)
note("run_app returned")
"""

LOOPS = pytest.mark.parametrize("uvloop", [True, False], ids=["uvloop", "asyncio"])


def program(shutdown_timeout: float, uvloop: bool) -> str:
    return PROGRAM.replace("SHUTDOWN_TIMEOUT", repr(shutdown_timeout)).replace(
        "UVLOOP", repr(uvloop)
    )


async def refused(port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


@LOOPS
async def test_sigterm_answers_the_request_in_flight(tmp_path: Path, uvloop: bool) -> None:
    async with spawn(program(60.0, uvloop), tmp_path) as child:
        port = await child.banner_port()
        idle = await RawConnection.open(port)
        await idle.send(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body = await idle.read_response()
        assert (status, body) == (b"HTTP/1.1 200 OK", b"fast")
        assert "connection" not in headers  # kept alive: idle from now on
        busy = await RawConnection.open(port)
        await busy.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        await child.until("handler started")

        child.proc.send_signal(signal.SIGTERM)
        await child.until("on_shutdown")
        # before on_shutdown ran: no more listening, the idle connection closed
        assert await refused(port)
        assert await idle.is_closed(TIMEOUT)
        assert child.proc.returncode is None  # still waiting for the handler

        child.proc.send_signal(signal.SIGUSR1)
        status, headers, body = await busy.read_response(TIMEOUT)
        assert status == b"HTTP/1.1 200 OK"
        assert body == b"x" * 300_000  # answered in full
        assert headers["connection"] == "close"
        assert await busy.is_closed(TIMEOUT)
        code, lines, err = await child.finish()
    assert code == 0, err
    assert lines[1:] == [
        "(Press CTRL+C to quit)",
        "handler started",
        "on_shutdown",
        "handler done",
        "on_cleanup",
        "run_app returned",
    ]
    assert "Traceback" not in err


@LOOPS
async def test_handler_outliving_shutdown_timeout_is_cancelled(
    tmp_path: Path, uvloop: bool
) -> None:
    # NOTE: the handler never finishes, so the timeout always runs out: the
    # outcome does not depend on how fast the machine is
    async with spawn(program(0.2, uvloop), tmp_path) as child:
        port = await child.banner_port()
        busy = await RawConnection.open(port)
        await busy.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        await child.until("handler started")
        child.proc.send_signal(signal.SIGTERM)
        # the connection is dropped without an answer
        assert await busy.is_closed(TIMEOUT)
        code, lines, err = await child.finish()
    assert code == 0, err
    assert lines[1:] == [
        "(Press CTRL+C to quit)",
        "handler started",
        "on_shutdown",
        "handler cancelled",
        "on_cleanup",
        "run_app returned",
    ]
