"""``python -m squall.web``: aiohttp's command line (``python -m aiohttp.web``)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from squall import web

APP = """
from squall import web

def make_app(argv):
    async def hello(request):
        return web.Response(text="args " + " ".join(argv))

    app = web.Application()
    app.router.add_get("/", hello)
    return app
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serves_the_factory_with_the_arguments_left_then_says_stopped(tmp_path: Path) -> None:
    (tmp_path / "cliapp.py").write_text(APP)
    port = free_port()
    command = [sys.executable, "-m", "squall.web", "-H", "127.0.0.1", "-P", str(port)]
    proc = subprocess.Popen(
        [*command, "cliapp:make_app", "--flag", "x"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(200):  # until it listens (not a timing assertion: a bounded retry)
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail(proc.stderr.read() if proc.poll() is not None else "never listened")
        assert reply.text == "args --flag x"
    finally:
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
    assert proc.returncode == 0
    assert err.endswith("Stopped\n")


@pytest.mark.parametrize(
    ("argv", "where"),
    [
        (["-U", "/tmp/s.sock"], (None, None, "/tmp/s.sock")),
        (["-U", "/tmp/s.sock", "-H", "0.0.0.0"], ("0.0.0.0", 8080, "/tmp/s.sock")),
        (["-P", "9000"], ("localhost", 9000, None)),
    ],
)
def test_where_it_serves(monkeypatch: Any, tmp_path: Path, argv: list[str], where: Any) -> None:
    """A Unix path alone serves there only; with a host, on both (as aiohttp)."""
    (tmp_path / "cliapp_where.py").write_text(APP.replace("make_app", "factory"))
    monkeypatch.syspath_prepend(str(tmp_path))
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        web, "run_app", lambda app, host, port, path: calls.append((host, port, path))
    )
    with pytest.raises(SystemExit) as stopped:
        web.main([*argv, "cliapp_where:factory"])
    assert stopped.value.code == 0
    assert calls == [where]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("nocolon", "'entry-func' not in 'module:function' syntax"),
        (".rel:f", "relative module names not supported"),
        ("no_such_module_here:f", "unable to import no_such_module_here"),
        ("json:no_such_function", "module 'json' has no attribute 'no_such_function'"),
    ],
)
def test_a_bad_entry_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], entry: str, message: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        web.main([entry])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
