"""``gunicorn mod:app -k squall.worker.GunicornWebWorker``: a real gunicorn
arbiter with real workers, a real client, real signals.

Readiness is gunicorn's "Listening at:" line: the arbiter listens before any
worker boots, so a connection made then waits in the backlog for a worker.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from ._procs import HANG, Proc, Upload, ask, ask_until_new, gone, started

gunicorn = pytest.importorskip("gunicorn")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")

MODULE = textwrap.dedent(
    """\
    import asyncio
    import os

    from squall import web


    def say(line):
        os.write(1, (line + "\\n").encode())  # one write: workers share the pipe


    async def pid(request):
        return web.Response(text=str(os.getpid()))


    async def loop_kind(request):
        return web.Response(text=type(asyncio.get_running_loop()).__module__)


    async def scheme(request):
        return web.Response(text=request.scheme)


    async def upload(request):
        say(f"started {os.getpid()}")
        body = await request.read()
        return web.Response(text=f"{os.getpid()} got {len(body)}")


    async def on_shutdown(app):
        say(f"shutdown {os.getpid()}")


    def build():
        app = web.Application()
        app.router.add_get("/", pid)
        app.router.add_get("/loop", loop_kind)
        app.router.add_get("/scheme", scheme)
        app.router.add_post("/upload", upload)
        app.on_shutdown.append(on_shutdown)
        return app


    app = build()


    async def make_app():
        say(f"factory {os.getpid()}")
        return build()
    """
)

LISTENING = r"Listening at: https?://127\.0\.0\.1:(\d+)"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "gapp.py").write_text(MODULE)
    return tmp_path


def gunicorn_args(target: str, *options: str, worker: str = "GunicornWebWorker") -> list[str]:
    return [
        "-m",
        "gunicorn",
        target,
        "-k",
        f"squall.worker.{worker}",
        "-b",
        "127.0.0.1:0",
        "--graceful-timeout",
        "30",
        *options,
    ]


async def listening_port(proc: Proc) -> int:
    return int((await proc.err.wait_for(LISTENING)).group(1))


async def test_serves_and_stops_gracefully_on_sigterm(project: Path) -> None:
    async with started(*gunicorn_args("gapp:app", "-w", "2"), cwd=project) as proc:
        port = await listening_port(proc)
        booted = await proc.err.wait_for_n(r"Booting worker with pid: (\d+)", 2)
        workers = {int(p) for p in booted}
        assert proc.children() == workers
        pid = int(await ask(port))
        assert pid in workers
        assert proc.pid not in workers

        # a request in flight when SIGTERM comes is answered in full
        upload = await Upload.begin(port)
        handler_pid = int((await proc.out.wait_for(r"^started (\d+)$")).group(1))
        assert handler_pid in workers
        proc.signal(signal.SIGTERM)
        await proc.out.wait_for(rf"shutdown {handler_pid}$")
        head, body = await upload.finish()
        assert head.startswith(b"HTTP/1.1 200 "), head
        assert body == f"{handler_pid} got 10".encode()

        assert await proc.wait() == 0, proc.err.text
        for worker in workers:
            await proc.out.wait_for(rf"shutdown {worker}$")  # each stopped gracefully
            assert gone(worker)
            assert f"Worker exiting (pid: {worker})" in proc.err.text
        assert "Traceback" not in proc.err.text
        assert "was sent SIGKILL" not in proc.err.text


async def test_coroutine_factory_on_uvloop(project: Path) -> None:
    pytest.importorskip("uvloop")
    args = gunicorn_args(
        "gapp:make_app", "-w", "1", "--access-logfile", "-", worker="GunicornUVLoopWebWorker"
    )
    async with started(*args, cwd=project) as proc:
        port = await listening_port(proc)
        assert await ask(port, "/loop") == "uvloop"
        # gunicorn's default access format became aiohttp's, on gunicorn's access logger
        await proc.out.wait_for(
            r"^127\.0\.0\.1 \[\d\d/\w{3}/\d{4}:[\d:]{8} [+-]\d{4}\] "
            r'"GET /loop HTTP/1\.1" 200 \d+ "-" "-"$'
        )
        pid = int(await ask(port))
        await proc.out.wait_for(rf"^factory {pid}$")  # awaited in the worker
        assert f"factory {proc.pid}" not in proc.out.text
        proc.signal(signal.SIGTERM)
        assert await proc.wait() == 0, proc.err.text


async def test_max_requests_replaces_the_worker(project: Path) -> None:
    args = gunicorn_args("gapp:app", "-w", "1", "--max-requests", "3")
    async with started(*args, cwd=project) as proc:
        port = await listening_port(proc)
        first = await ask(port)
        second = await ask_until_new(port, {first})  # after 3 responses it retires
        assert int(second) in proc.children()
        await proc.err.wait_for(r"Max requests, shutting down")
        await proc.out.wait_for(rf"shutdown {first}$")  # gracefully
        proc.signal(signal.SIGTERM)
        assert await proc.wait() == 0, proc.err.text


async def test_sigusr1_reopens_the_log_file_and_keeps_serving(project: Path) -> None:
    log = project / "error.log"
    args = gunicorn_args("gapp:app", "-w", "1", "--error-logfile", str(log))
    async with started(*args, cwd=project) as proc:
        port = int(await _wait_file_line(log, LISTENING))
        pid = int(await ask(port))
        log.rename(project / "error.log.1")
        os.kill(pid, signal.SIGUSR1)  # to the worker alone: it reopens its own files

        await _wait_exists(log)
        assert await ask(port) == str(pid)  # not killed by the signal
        proc.signal(signal.SIGTERM)
        assert await proc.wait() == 0


async def test_tls_from_gunicorns_certificate_options(project: Path) -> None:
    cert, key = project / "cert.pem", project / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=HANG,
    )
    args = gunicorn_args("gapp:app", "-w", "1", "--certfile", str(cert), "--keyfile", str(key))
    async with started(*args, cwd=project) as proc:
        port = await listening_port(proc)
        assert "Listening at: https://" in proc.err.text
        context = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(verify=context, timeout=HANG) as client:
            resp = await client.get(f"https://127.0.0.1:{port}/scheme")
        assert resp.status_code == 200
        assert resp.text == "https"
        # and nothing in plain text
        with pytest.raises(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=HANG) as client:
                await client.get(f"http://127.0.0.1:{port}/scheme")
        proc.signal(signal.SIGTERM)
        assert await proc.wait() == 0


async def test_gunicorn_style_access_log_format_fails_the_boot(project: Path) -> None:
    args = gunicorn_args("gapp:app", "-w", "1", "--access-logformat", "%(h)s %(r)s")
    async with started(*args, cwd=project) as proc:
        code = await proc.wait()
    assert code == 3  # gunicorn's WORKER_BOOT_ERROR: the arbiter halts, no respawn loop
    assert "access log options are not supported" in proc.err.text


async def test_app_that_is_not_an_application_fails_the_boot(project: Path) -> None:
    (project / "notapp.py").write_text("def app(environ, start_response):\n    pass\n")
    async with started(*gunicorn_args("notapp:app", "-w", "1"), cwd=project) as proc:
        code = await proc.wait()
    assert code == 3
    assert "should be a squall Application or an async function" in proc.err.text


# -- without gunicorn, and the format translation ------------------------------------------


def test_import_without_gunicorn_fails_clearly() -> None:
    code = textwrap.dedent(
        """\
        import sys
        sys.modules["gunicorn"] = None  # as if not installed
        import squall, squall.web, squall.prefork  # none of these needs it
        try:
            import squall.worker
        except ImportError as exc:
            print("ImportError:", exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG, check=True
    )
    assert out.stdout.startswith("ImportError: squall.worker needs gunicorn"), out


def test_log_format_translation() -> None:
    from squall.framework.accesslog import AccessLogger
    from squall.worker import GunicornWebWorker, translate_log_format

    gunicorn_default = GunicornWebWorker.DEFAULT_GUNICORN_LOG_FORMAT
    assert gunicorn_default == gunicorn.config.AccessLogFormat.default
    assert GunicornWebWorker.DEFAULT_AIOHTTP_LOG_FORMAT == AccessLogger.LOG_FORMAT

    def translate(source: str) -> str:
        return translate_log_format(
            source, gunicorn_default=gunicorn_default, squall_default=AccessLogger.LOG_FORMAT
        )

    assert translate(gunicorn_default) == AccessLogger.LOG_FORMAT
    assert translate('%a "%r" %s %Tf') == '%a "%r" %s %Tf'
    with pytest.raises(ValueError, match="not supported"):
        translate('%(h)s "%(r)s"')


# -- helpers -------------------------------------------------------------------------------


async def _wait_file_line(path: Path, pattern: str) -> str:
    regex = re.compile(pattern)

    async def poll() -> str:
        while True:
            if path.exists():
                found = regex.search(path.read_text())
                if found:
                    return found.group(1)
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), HANG)


async def _wait_exists(path: Path) -> None:
    async def poll() -> None:
        while not path.exists():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), HANG)
