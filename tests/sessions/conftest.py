"""Fixtures of the session tests: a real redis-server, started once for the run.

``redis_server`` starts Debian's ``redis-server`` (``make test`` installs it, see
tools/ensure-redis.sh) on a free port of 127.0.0.1 in a temporary directory, with
persistence off, and stops it by its pid after the last test. No mock, no fakeredis.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis import asyncio as aioredis

HANG_GUARD = 30.0  # seconds redis-server may take to answer PING on a busy machine


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes]) -> bool:
    """Read redis-server's log until it is ready (True) or has exited (False)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + HANG_GUARD
    while b"Ready to accept connections" not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return False
        data = os.read(fd, 4096)
        if not data:  # exited: most likely the port was taken meanwhile
            return False
        seen = seen[-64:] + data
    return True


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start redis-server on a free port in ``workdir``; return once it is ready."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: run `make redis` (tools/ensure-redis.sh)")
    for _attempt in range(3):  # the free port may be taken before redis binds it
        port = free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no",
             "--logfile", ""],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        if _wait_ready(proc):
            assert proc.stdout is not None
            proc.stdout.close()  # NOTE: redis then logs to a closed pipe; it ignores EPIPE
            return proc, port
        stop_redis(proc)
    pytest.fail("redis-server did not start")


def stop_redis(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # this pid only: the one this fixture started
        try:
            proc.wait(timeout=HANG_GUARD)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    proc, port = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield RedisServer("127.0.0.1", port, proc.pid)
    finally:
        stop_redis(proc)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on the test server (as aiohttp_session's own ``redis`` fixture)."""
    pool = aioredis.ConnectionPool.from_url(redis_url)
    client = aioredis.Redis(connection_pool=pool)
    yield client
    await client.aclose()
    await pool.disconnect()
