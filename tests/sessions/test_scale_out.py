"""Scale-out: two Squall server processes share one real redis-server; a session
created through the first is read and changed through the second, and back."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from .conftest import RedisServer

APP = os.path.join(os.path.dirname(__file__), "_scale_app.py")
HANG_GUARD = 60


@pytest.fixture
def two_servers(redis_server: RedisServer) -> Iterator[list[str]]:
    env = {**os.environ, "SQUALL_REDIS_URL": redis_server.url}
    procs: list[subprocess.Popen[str]] = []
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen([sys.executable, APP], env=env, stdout=subprocess.PIPE, text=True)
            )
        urls = []
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # printed once the socket listens
            assert line.startswith("PORT "), line
            urls.append(f"http://127.0.0.1:{int(line.split()[1])}")
        yield urls
    finally:
        for proc in procs:  # the pids this fixture started
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=HANG_GUARD)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def test_session_moves_between_processes(two_servers: list[str]) -> None:
    first, second = two_servers
    # one jar for both: the cookie is the identity, the session is in Redis
    async with httpx.AsyncClient(timeout=HANG_GUARD) as client:
        pid_a, text = (await client.get(first + "/login?user=alice")).text.split(" ", 1)
        assert text == "welcome"
        reply = await client.get(second + "/visit")
        pid_b, text = reply.text.split(" ", 1)
        assert (reply.status_code, text) == (200, "alice 1")
        assert pid_a != pid_b  # two processes, one session
        reply = await client.get(first + "/visit")
        assert reply.text == f"{pid_a} alice 2"
        reply = await client.get(second + "/visit")
        assert reply.text == f"{pid_b} alice 3"
        assert (await client.get(second + "/logout")).text == f"{pid_b} bye"
        reply = await client.get(first + "/visit")
        assert (reply.status_code, reply.text) == (401, f"{pid_a} log in first")
