#!/usr/bin/env python3
"""Server-sent events to 100 clients: Squall (squall.sse) vs aiohttp + aiohttp-sse.

The same app on both: ``GET /events?n=N`` streams N events (a 64-byte data line,
an id, every 8th a named event) through ``sse_response`` and ends. A client
process (uvloop, pinned to another CPU than the server) opens C connections at
once, reads every stream to its end and counts the events; the server's CPU
time comes from /proc, which gives events per server CPU-second: on a shared
machine far steadier than events per wall-clock second (both are reported).
Rounds are interleaved (squall aiohttp squall aiohttp ...), a fresh server each.

    .venv/bin/python bench/sse.py                  # R=3 rounds, C=100 clients, N=2000
    .venv/bin/python bench/sse.py -R 5 -c 100 -n 5000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PAYLOAD = "x" * 64


# -- the servers (run as ``sse.py --serve NAME PORT``) ----------------------------


def build_app(web: object, sse: object) -> object:
    async def events(request: object) -> object:
        n = int(request.query.get("n", "100"))  # type: ignore[attr-defined]
        async with sse.sse_response(request) as resp:  # type: ignore[attr-defined]
            for i in range(n):
                await resp.send(PAYLOAD, id=str(i), event="tick" if i % 8 == 0 else None)
        return resp

    app = web.Application()  # type: ignore[attr-defined]
    app.router.add_get("/events", events)
    return app


def serve(name: str, port: int) -> None:
    if name == "squall":
        from squall import sse, web
    else:
        import aiohttp_sse as sse
        from aiohttp import web
    import uvloop

    web.run_app(
        build_app(web, sse),
        host="127.0.0.1",
        port=port,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )


# -- the client (run as ``sse.py --client PORT C N``) -----------------------------


async def one_stream(port: int, n: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /events?n={n} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    events = 0
    tail = b""
    while True:
        data = await reader.read(1 << 16)
        if not data:
            break
        chunk = tail + data
        events += chunk.count(b"data: ")
        # keep the last bytes so a marker split across reads is found (never counted twice)
        keep = chunk[-8:]
        events -= keep.count(b"data: ")
        tail = keep
        if chunk.endswith(b"\r\n0\r\n\r\n"):
            break
    events += tail.count(b"data: ")
    writer.close()
    return events


async def clients(port: int, c: int, n: int) -> None:
    start = time.perf_counter()
    counts = await asyncio.gather(*(one_stream(port, n) for _ in range(c)))
    elapsed = time.perf_counter() - start
    print(f"{sum(counts)} {elapsed}")


# -- the harness ----------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def one_round(name: str, c: int, n: int, cpus: tuple[int, int]) -> tuple[float, float, int]:
    """(events per server CPU-second, events per wall second, events) of one run."""
    port = free_port()
    me = [sys.executable, os.path.abspath(__file__)]
    server = subprocess.Popen(
        ["taskset", "-c", str(cpus[0]), *me, "--serve", name, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port, server)
        before = cpu_seconds(server.pid)
        out = subprocess.run(
            ["taskset", "-c", str(cpus[1]), *me, "--client", str(port), str(c), str(n)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        cpu = cpu_seconds(server.pid) - before
    finally:
        server.terminate()
        server.wait(10)
    events, wall = int(out[0]), float(out[1])
    if events != c * n:
        raise RuntimeError(f"{name}: {events} events received, {c * n} sent")
    return events / cpu, events / wall, events


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("-R", "--rounds", type=int, default=3)
    parser.add_argument("-c", "--clients", type=int, default=100)
    parser.add_argument("-n", "--events", type=int, default=2000, help="events per client")
    parser.add_argument("--serve", nargs=2, metavar=("NAME", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=3, metavar=("PORT", "C", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if args.client:
        import uvloop

        uvloop.run(clients(*map(int, args.client)))
        return
    ncpu = os.cpu_count() or 1
    cpus = (0, 1 % ncpu)
    results: dict[str, list[tuple[float, float, int]]] = {"squall": [], "aiohttp": []}
    for r in range(args.rounds):
        for name in results:
            results[name].append(one_round(name, args.clients, args.events, cpus))
            cpu_rate, wall_rate, _ = results[name][-1]
            print(
                f"round {r + 1} {name:8} {cpu_rate:10.0f} ev/CPU-s {wall_rate:10.0f} ev/s",
                file=sys.stderr,
            )
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(
        f"\n{args.clients} clients x {args.events} events, "
        f"median of {args.rounds} rounds (loadavg {load})\n"
    )
    print("| server | events / server CPU-s | events / s (wall) |")
    print("| --- | ---: | ---: |")
    medians = {}
    for name, rows in results.items():
        medians[name] = statistics.median(row[0] for row in rows)
        wall = statistics.median(row[1] for row in rows)
        print(f"| {name} | {medians[name]:,.0f} | {wall:,.0f} |")
    print(
        f"\nsquall / aiohttp, per server CPU-second: {medians['squall'] / medians['aiohttp']:.2f}x"
    )


if __name__ == "__main__":
    main()
