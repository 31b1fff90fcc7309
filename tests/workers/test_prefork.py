"""``run_app(app, workers=N)`` as a real process tree: one supervisor, N workers
on one port, a dead worker replaced, SIGTERM stopping everything gracefully.

Every worker answers ``/`` with its pid; the supervisor's children are read from
/proc (Linux: SO_REUSEPORT balancing is Linux's too).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from squall import web
from squall.prefork import _check_workers

from ._procs import HANG, Upload, ask, ask_until, ask_until_new, gone, started, wait_gone

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")

PROGRAM = textwrap.dedent(
    """\
    import os
    import sys

    import squall.prefork
    from squall import web


    def say(line):
        # one write per line: several processes share this pipe
        os.write(1, (line + "\\n").encode())


    async def pid(request):
        return web.Response(text=str(os.getpid()))


    async def upload(request):
        say(f"started {os.getpid()}")
        body = await request.read()
        return web.Response(text=f"{os.getpid()} got {len(body)}")


    async def on_shutdown(app):
        say(f"shutdown {os.getpid()}")


    def build():
        app = web.Application()
        app.router.add_get("/", pid)
        app.router.add_post("/upload", upload)
        app.on_shutdown.append(on_shutdown)
        return app


    async def make_app():
        say(f"factory {os.getpid()}")
        return build()


    async def broken_app():
        raise RuntimeError("boom at start-up")


    mode = sys.argv[1]
    if mode == "coroutine":
        web.run_app(make_app(), host="127.0.0.1", port=0, workers=2, shutdown_timeout=30)
    elif mode == "shared":
        squall.prefork._REUSEPORT_BALANCES = False  # what other systems than Linux get
        web.run_app(build(), host="127.0.0.1", port=0, path=sys.argv[2], workers=2)
    elif mode == "broken":
        web.run_app(broken_app(), host="127.0.0.1", port=0, workers=2)
    say(f"returned {os.getpid()}")
    """
)

BANNER = r"^======== Running on (.*) ========$"


@pytest.fixture
def program(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(PROGRAM)
    return tmp_path


def port_of(banner: str) -> int:
    return int(banner.rsplit(":", 1)[1])


async def test_two_workers_share_a_port_are_replaced_and_stop_gracefully(
    program: Path,
) -> None:
    async with started("app.py", "coroutine", cwd=program) as proc:
        banner = (await proc.out.wait_for(BANNER)).group(1)
        assert banner.startswith("http://127.0.0.1:")
        port = port_of(banner)
        assert port != 0  # port=0 resolved once, for every worker
        workers = proc.children()
        assert len(workers) == 2
        assert proc.pid not in workers

        # each worker awaited the coroutine in its own loop; the parent never did
        for pid in workers:
            await proc.out.wait_for(rf"^factory {pid}$")
        assert f"factory {proc.pid}" not in proc.out.text

        # fresh connections are spread over both workers (by a hash of the
        # client's port: 400 connections all landing on one of two is ~2**-399)
        answers = await ask_until(port, lambda seen: len(seen) == 2)
        assert {int(a) for a in answers} == workers

        # a worker killed outright is replaced by a new process that serves
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        newcomer = int(await ask_until_new(port, {str(p) for p in workers}))
        assert newcomer not in workers
        now = proc.children()
        assert now == (workers - {victim}) | {newcomer}
        await proc.err.wait_for(rf"worker process {victim} was killed by signal 9")

        # SIGTERM with a request in flight: it is answered in full, then all exit.
        # The busy worker gets SIGTERM twice, as under systemd's default KillMode
        # (the cgroup, then the supervisor's own): the second must not cut it short.
        upload = await Upload.begin(port)
        handler_pid = int((await proc.out.wait_for(r"^started (\d+)$")).group(1))
        assert handler_pid in now
        (other,) = now - {handler_pid}
        os.kill(handler_pid, signal.SIGTERM)
        await proc.out.wait_for(rf"shutdown {handler_pid}$")  # the worker is stopping
        proc.signal(signal.SIGTERM)
        await proc.out.wait_for(rf"shutdown {other}$")  # the supervisor forwarded it
        head, body = await upload.finish()
        assert head.startswith(b"HTTP/1.1 200 "), head
        assert body == f"{handler_pid} got 10".encode()
        assert b"connection: close" in head.lower()

        code = await proc.wait()
        assert code == 0, proc.err.text
        assert proc.out.lines.count(f"returned {proc.pid}") == 1  # run_app returned
        for pid in now:
            await proc.out.wait_for(rf"shutdown {pid}$")  # each stopped gracefully
            assert gone(pid)  # and the supervisor reaped it before exiting
        assert "Traceback" not in proc.err.text, proc.err.text


async def test_shared_sockets_tcp_and_unix_sigint(program: Path) -> None:
    # one listening socket inherited by every worker: the unix path always, and
    # TCP where SO_REUSEPORT does not balance
    sock_path = program / "s.sock"
    async with started("app.py", "shared", str(sock_path), cwd=program) as proc:
        names = (await proc.out.wait_for(BANNER)).group(1).split(", ")
        tcp = [n for n in names if n.startswith("http://127.0.0.1:")]
        assert names == sorted([*tcp, f"http://unix:{sock_path}:"])
        workers = proc.children()
        assert len(workers) == 2
        assert int(await ask(port_of(tcp[0]))) in workers

        reader, writer = await asyncio.open_unix_connection(str(sock_path))
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), HANG)
        writer.close()
        assert int(data.partition(b"\r\n\r\n")[2]) in workers

        proc.signal(signal.SIGINT)
        assert await proc.wait() == 0, proc.err.text
        assert f"returned {proc.pid}" in proc.out.lines
        assert all(gone(pid) for pid in workers)
        assert not sock_path.exists()  # the supervisor removed the socket it made


async def test_a_worker_failing_at_start_up_stops_everything(program: Path) -> None:
    async with started("app.py", "broken", cwd=program) as proc:
        code = await proc.wait()
    assert code == 1
    assert "boom at start-up" in proc.err.text
    assert "WorkersFailedError: worker process" in proc.err.text
    assert "before it could serve" in proc.err.text
    assert "======== Running on" not in proc.out.text
    assert not any(line.startswith("returned") for line in proc.out.lines)
    # not respawned: at most the two first workers ever ran the factory
    assert proc.err.text.count("RuntimeError: boom at start-up") <= 2


async def test_workers_stop_when_the_supervisor_is_killed(program: Path) -> None:
    async with started("app.py", "coroutine", cwd=program) as proc:
        await proc.out.wait_for(BANNER)
        workers = proc.children()
        assert len(workers) == 2
        proc.signal(signal.SIGKILL)
        # EOF on both pipes: the workers (which hold them too) have all exited
        await proc.wait()
        for pid in workers:
            await proc.out.wait_for(rf"shutdown {pid}$")  # gracefully, not killed
            await wait_gone(pid)
        assert "the supervisor process is gone" in proc.err.text


# -- arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [0, -1])
def test_workers_below_one_are_refused(workers: int) -> None:
    with pytest.raises(ValueError, match="workers must be 1 or more"):
        web.run_app(web.Application(), port=0, workers=workers, print=None)


@pytest.mark.parametrize("workers", ["2", 2.5, [2]])
def test_workers_must_be_an_int(workers: object) -> None:
    with pytest.raises(TypeError, match="workers must be an int"):
        web.run_app(web.Application(), port=0, workers=workers, print=None)  # type: ignore[arg-type]


def test_workers_none_is_one_per_cpu() -> None:
    assert _check_workers(None) == (os.cpu_count() or 1)
    assert _check_workers(3) == 3
    with pytest.raises(TypeError):
        _check_workers(True)  # a bool is not a count (run_app itself treats True as 1)
