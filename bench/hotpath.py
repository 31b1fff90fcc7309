#!/usr/bin/env python3
"""Squall's per-request cost in Python, measured in process: no sockets, no syscalls.

Requests go straight into ``HttpProtocol.data_received`` with a transport that
only collects what is written, so what is timed is the Python path alone: parser
glue, routing, the request, the handler, the response and its head. One request
per feed (as in the plaintext test) or ``--depth`` per feed (as in pipeline).
The numbers are steady to a few percent even on a busy machine, which makes
this the tool to measure an optimisation by, before confirming it with run.py.

    .venv/bin/python bench/hotpath.py                      # us per request, every test
    .venv/bin/python bench/hotpath.py --profile plaintext  # cProfile, top functions
    PYTHONPATH=/tmp/proto/src .venv/bin/python bench/hotpath.py   # a modified copy
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import os
import pstats
import sys
import time
from typing import Any

import uvloop

import squall
from squall.server.config import ServerConfig
from squall.server.protocol import HttpProtocol
from squall.server.server import Server

APP_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "squall_app.py")

# What wrk sends for each test (wrk.format), and the body each answer must end with
HOST = b"Host: 127.0.0.1:8080\r\n"
REQUESTS = {
    "plaintext": (b"GET / HTTP/1.1\r\n" + HOST + b"\r\n", b"Hello, World!"),
    "json": (b"GET /json HTTP/1.1\r\n" + HOST + b"\r\n", b'{"message": "Hello, World!"}'),
    "param": (b"GET /hello/world HTTP/1.1\r\n" + HOST + b"\r\n", b"Hello, world"),
    "echo": (
        b"POST /echo HTTP/1.1\r\n"
        + HOST
        + b"Content-Type: application/octet-stream\r\nContent-Length: 1024\r\n\r\n"
        + b"x" * 1024,
        b"1024",
    ),
}


class NullTransport(asyncio.Transport):
    """Keeps the last write (to check it) and counts the writes."""

    def __init__(self) -> None:
        super().__init__()
        self.last = b""
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.last = data
        self.writes += 1

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        raise RuntimeError("the connection was closed: a request failed")

    def close(self) -> None:
        raise RuntimeError("the connection was closed: a request failed")


def load_app() -> Any:
    """The benchmark's own app (bench/apps/squall_app.py), so both tools time the same code."""
    spec = importlib.util.spec_from_file_location("squall_app", APP_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def connect(loop: asyncio.AbstractEventLoop) -> tuple[HttpProtocol, NullTransport]:
    app = load_app()
    app.on_startup.freeze()  # as AppRunner does
    loop.run_until_complete(app.startup())
    app.freeze()
    server = Server(app._handle, ServerConfig(max_pipeline=1024), loop=loop)
    proto = server()
    transport = NullTransport()
    proto.connection_made(transport)
    return proto, transport


def feed_once(proto: HttpProtocol, transport: NullTransport, data: bytes, expect: bytes) -> None:
    """One feed, checked: every request answered in place, in one write."""
    writes = transport.writes
    loop = asyncio.get_event_loop()
    done: asyncio.Future[None] = loop.create_future()

    def feed() -> None:  # from a loop callback, as a transport calls it (the loop runs)
        proto.data_received(data)
        done.set_result(None)

    loop.call_soon(feed)
    loop.run_until_complete(done)
    if proto._busy or transport.writes != writes + 1 or not transport.last.endswith(expect):
        raise SystemExit(f"unexpected answer: {transport.last[-200:]!r} (busy={proto._busy})")


def time_test(
    proto: HttpProtocol, transport: NullTransport, test: str, depth: int, n: int, repeat: int
) -> float:
    """Best of ``repeat`` runs of ``n`` requests: microseconds per request."""
    request, expect = REQUESTS[test]
    data = request * depth
    feed_once(proto, transport, data, expect)
    best = _timed_feeds(proto.data_received, data, depth, n, repeat)
    feed_once(proto, transport, data, expect)  # still answering right after the run
    return best * 1e6


def _timed_feeds(feed: Any, data: bytes, depth: int, n: int, repeat: int) -> float:
    """Feed ``data`` ``n // depth`` times from plain loop callbacks (as a transport
    does), one loop iteration apart: what a feed schedules (each handler's Task
    finishing) runs inside the timing. Best of ``repeat`` runs, seconds per request."""
    loop = asyncio.get_event_loop()
    feeds = n // depth
    best = float("inf")
    for _ in range(repeat):
        done: asyncio.Future[None] = loop.create_future()
        left = feeds

        def tick(done: asyncio.Future[None] = done) -> None:
            nonlocal left
            feed(data)
            left -= 1
            if left:
                loop.call_soon(tick)
            else:
                loop.call_soon(done.set_result, None)

        t0 = time.process_time()
        loop.call_soon(tick)
        loop.run_until_complete(done)
        best = min(best, (time.process_time() - t0) / (feeds * depth))
    return best


def profile(
    proto: HttpProtocol, transport: NullTransport, test: str, depth: int, n: int, top: int
) -> None:
    """cProfile over ``n`` requests, sorted by own time (calls cost more under it)."""
    request, expect = REQUESTS[test]
    data = request * depth
    feed_once(proto, transport, data, expect)
    prof = cProfile.Profile()
    prof.enable()
    _timed_feeds(proto.data_received, data, depth, n, 1)
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("tests", nargs="*", default=list(REQUESTS))
    ap.add_argument("-n", type=int, default=50_000, help="requests per timed run")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs; the best is kept")
    ap.add_argument("--depth", type=int, default=1, help="requests per feed (pipelining)")
    ap.add_argument("--profile", action="store_true", help="cProfile instead of timing")
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    proto, transport = connect(loop)
    print(f"squall from {os.path.dirname(squall.__file__)}, depth {args.depth}", file=sys.stderr)
    for test in args.tests:
        if args.profile:
            profile(proto, transport, test, args.depth, args.n, args.top)
        else:
            us = time_test(proto, transport, test, args.depth, args.n, args.repeat)
            print(f"{test:10s} {us:6.2f} us/request")


if __name__ == "__main__":
    main()
