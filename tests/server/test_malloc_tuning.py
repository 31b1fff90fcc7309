"""The server keeps large body buffers on glibc's heap (squall/server/server.py,
``tune_malloc``): checked in a fresh interpreter with glibc's own count of mapped
blocks (``mallinfo2().hblks``), once a real server has started."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

PROBE = """
import asyncio, ctypes

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2

from squall import web

async def main():
    app = web.Application()
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()  # the server is made here
    try:
        before = libc.mallinfo2().hblks
        blobs = [bytes(300_000) for _ in range(3)]  # a socket read's size, and more
        from squall.server import server
        print(server._malloc_tuned, libc.mallinfo2().hblks - before)
    finally:
        await runner.cleanup()

asyncio.run(main())
"""


def probe(env: dict[str, str]) -> tuple[bool, int]:
    """Whether the server tuned malloc, and how many of three 300 KB blocks glibc
    mapped (untuned, that depends on what the heap has free: not asserted)."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    tuned, mapped = out.stdout.split()
    return tuned == "True", int(mapped)


def test_a_started_server_keeps_read_sized_blocks_on_the_heap() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SQUALL_MALLOC_TUNING", "GLIBC_TUNABLES")
        and not (k.startswith("MALLOC_") and k.endswith("_"))
    }
    assert probe(env) == (True, 0)


@pytest.mark.parametrize(
    "setting",
    [
        {"SQUALL_MALLOC_TUNING": "0"},
        {"MALLOC_TRIM_THRESHOLD_": "131072"},
        {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072"},
    ],
    ids=["off", "malloc-env", "tunables"],
)
def test_the_operator_s_settings_win(setting: dict[str, str]) -> None:
    """Turned off, or malloc already tuned by whoever started the process: glibc
    keeps its own settings."""
    assert probe({**os.environ, **setting})[0] is False
