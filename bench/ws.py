#!/usr/bin/env python3
"""WebSocket echo: Squall's WebSocketResponse vs aiohttp's, per server CPU-second.

The same handler on both (``async for msg in ws`` and send the message back),
uvloop on both, no access log. A client process (uvloop, pinned to another CPU than
the server) opens C WebSockets at once; each sends a message, waits for its echo,
and repeats N times. The client sends pre-built masked frames and reads the echo
by its known length, so the client costs little; the server's CPU time comes from
/proc, which gives messages per server CPU-second: on a shared machine far steadier
than messages per wall-clock second (both are reported). Two payloads: 100-byte
text and 64 KiB binary. Rounds are interleaved (squall aiohttp squall aiohttp ...),
a fresh server each.

    .venv/bin/python bench/ws.py                    # R=3 rounds, C=64 clients
    .venv/bin/python bench/ws.py -R 5 -n 4000 -N 200
    .venv/bin/python bench/ws.py --codec            # the codec alone: ours vs wsproto

``--codec`` compares the sans-IO part alone, in process: a server's decoding of a
client's masked frame and encoding of the echo, with squall.websocket and with
wsproto's ``FrameProtocol`` (the part of wsproto a server would use).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = {"text100": 100, "binary64k": 65536}


# -- the servers (run as ``ws.py --serve NAME PORT``) --------------------------------


def build_app(web: object, wsr: object, text: object, binary: object) -> object:
    async def echo(request: object) -> object:
        ws = wsr()  # type: ignore[operator]
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == text:
                await ws.send_str(msg.data)
            elif msg.type == binary:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()  # type: ignore[attr-defined]
    app.router.add_get("/ws", echo)
    return app


def serve(name: str, port: int) -> None:
    if name == "squall":
        from squall import web
        from squall.framework.websocket import WebSocketResponse
        from squall.websocket import WSMsgType
    else:
        from aiohttp import WSMsgType, web
        from aiohttp.web import WebSocketResponse
    import uvloop

    web.run_app(
        build_app(web, WebSocketResponse, WSMsgType.TEXT, WSMsgType.BINARY),
        host="127.0.0.1",
        port=port,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )


# -- the client (run as ``ws.py --client PORT C N SIZE``) ------------------------------


def masked_frame(opcode: int, payload: bytes) -> bytes:
    key = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    keys = (key * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(keys, "big")).to_bytes(n, "big")
    return head + key + body


async def one_client(port: int, n: int, size: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head)
    if size < 126:
        frame = masked_frame(1, b"x" * size)
        answer = 2 + size
    else:
        frame = masked_frame(2, os.urandom(size))
        answer = (4 if size < 65536 else 10) + size
    for _ in range(n):
        writer.write(frame)
        await reader.readexactly(answer)
    writer.write(masked_frame(8, (1000).to_bytes(2, "big")))
    await reader.read()  # the server's close, then EOF
    writer.close()
    return n


async def clients(port: int, c: int, n: int, size: int) -> None:
    start = time.perf_counter()
    counts = await asyncio.gather(*(one_client(port, n, size) for _ in range(c)))
    elapsed = time.perf_counter() - start
    print(f"{sum(counts)} {elapsed}")


# -- the harness ------------------------------------------------------------------


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


def one_round(
    name: str, c: int, n: int, size: int, cpus: tuple[int, int]
) -> tuple[float, float, int]:
    """(messages per server CPU-second, per wall second, messages) of one run."""
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
            ["taskset", "-c", str(cpus[1]), *me, "--client", str(port), str(c), str(n), str(size)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        cpu = cpu_seconds(server.pid) - before
    finally:
        server.terminate()
        server.wait(10)
    msgs, wall = int(out[0]), float(out[1])
    if msgs != c * n:
        raise RuntimeError(f"{name}: {msgs} echoes, {c * n} sent")
    return msgs / cpu, msgs / wall, msgs


# -- the codec alone ------------------------------------------------------------------


def codec_bench(size: int, rounds: int) -> None:
    """µs per echoed message: decode a client's masked frame, encode the answer."""
    from wsproto.frame_protocol import FrameProtocol

    from squall.websocket import FrameReader, WSMessage, frame_header

    payload = b"x" * size
    frame = masked_frame(1 if size < 126 else 2, payload)
    n = 20000 if size < 1000 else 2000

    def ours() -> None:
        reader = FrameReader()
        out: list[WSMessage] = []
        for _ in range(n):
            reader.feed(frame, out)
            msg = out.pop()
            data = msg.data.encode() if isinstance(msg.data, str) else msg.data
            frame_header(msg.type, len(data)) + data

    def theirs() -> None:
        proto = FrameProtocol(client=False, extensions=[])
        for _ in range(n):
            proto.receive_bytes(frame)
            for f in proto.received_frames():
                proto.send_data(f.payload, fin=True)

    for label, fn in (("squall.websocket", ours), ("wsproto", theirs)):
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) / n * 1e6)
        print(f"| {label} | {size} | {statistics.median(times):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("-R", "--rounds", type=int, default=3)
    parser.add_argument("-c", "--clients", type=int, default=64)
    parser.add_argument("-n", "--small", type=int, default=2000, help="100-byte echoes per client")
    parser.add_argument("-N", "--large", type=int, default=100, help="64 KiB echoes per client")
    parser.add_argument("--codec", action="store_true", help="the sans-IO codecs alone")
    parser.add_argument("--serve", nargs=2, metavar=("NAME", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if args.client:
        import uvloop

        uvloop.run(clients(*map(int, args.client)))
        return
    if args.codec:
        print("| codec | payload bytes | µs per echoed message (median) |")
        print("| --- | ---: | ---: |")
        for size in SIZES.values():
            codec_bench(size, args.rounds)
        return
    ncpu = os.cpu_count() or 1
    cpus = (0, 1 % ncpu)
    counts = {"text100": args.small, "binary64k": args.large}
    table = []
    for test, size in SIZES.items():
        results: dict[str, list[tuple[float, float, int]]] = {"squall": [], "aiohttp": []}
        for r in range(args.rounds):
            for name in results:
                results[name].append(one_round(name, args.clients, counts[test], size, cpus))
                cpu_rate, wall_rate, _ = results[name][-1]
                print(
                    f"{test} round {r + 1} {name:8} {cpu_rate:10.0f} msg/CPU-s "
                    f"{wall_rate:10.0f} msg/s",
                    file=sys.stderr,
                )
        med = {k: statistics.median(row[0] for row in v) for k, v in results.items()}
        wall = {k: statistics.median(row[1] for row in v) for k, v in results.items()}
        table.append((test, med, wall))
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"\n{args.clients} clients, median of {args.rounds} rounds (loadavg {load})\n")
    cols = ["test", "squall msg / server CPU-s", "aiohttp msg / server CPU-s", "ratio"]
    print("| " + " | ".join([*cols, "squall msg/s", "aiohttp msg/s"]) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for test, med, wall in table:
        print(
            f"| {test} | {med['squall']:,.0f} | {med['aiohttp']:,.0f} | "
            f"{med['squall'] / med['aiohttp']:.2f}x | {wall['squall']:,.0f} "
            f"| {wall['aiohttp']:,.0f} |"
        )


if __name__ == "__main__":
    main()
