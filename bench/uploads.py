#!/usr/bin/env python3
"""Uploads: the multipart decoder, upload throughput, memory. Squall vs aiohttp.

1. decoder: Squall's sans-IO decoder against python-multipart (the library of the
   field), in process: CPU seconds to decode one 256 MiB file part fed in 64 KiB
   chunks of random bytes (CRs and dashes included, as in real files).
2. upload: a 256 MiB file posted as multipart/form-data to the cheatsheet's
   ``read_chunk`` loop writing to disk; MB per server CPU-second (the server's
   CPU from /proc, far steadier than wall time on a shared machine).
   upload-nodisk: the same loop without the file write (the server's own share).
3. rss-reader / rss-post: peak RSS over idle (VmHWM - VmRSS before) of a fresh
   server during a 1 GiB upload through the reader and through ``post()``.
4. keepalive: RSS per idle keep-alive connection, 2,000 connections that each
   made one request.

Rounds interleave the servers; medians are reported. uvloop on both.

    .venv/bin/python bench/uploads.py            # 3 rounds of everything
    .venv/bin/python bench/uploads.py -R 5 --only decoder,upload
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1024 * 1024
BOUNDARY = b"----benchBoundary7MA4YWxkTrZu0gW"
BLOCK = os.urandom(64 * 1024)
TICK = os.sysconf("SC_CLK_TCK")


# -- the server (run in a child process) -------------------------------------------


def serve(server: str, port: int, folder: str) -> None:
    import uvloop

    if server == "squall":
        from squall import web
    else:
        from aiohttp import web  # type: ignore[no-redef]

    async def store(request: web.Request) -> web.Response:  # the cheatsheet's loop
        reader = await request.multipart()
        field = await reader.next()
        filename = field.filename  # type: ignore[union-attr]
        size = 0
        with open(os.path.join(folder, "upload.bin"), "wb") as f:
            while True:
                chunk = await field.read_chunk()  # type: ignore[union-attr]
                if not chunk:
                    break
                size += len(chunk)
                f.write(chunk)
        return web.Response(text=f"{filename} sized of {size} successfully stored")

    async def count(request: web.Request) -> web.Response:  # the same loop, no disk
        reader = await request.multipart()
        field = await reader.next()
        filename = field.filename  # type: ignore[union-attr]
        size = 0
        while True:
            chunk = await field.read_chunk()  # type: ignore[union-attr]
            if not chunk:
                break
            size += len(chunk)
        return web.Response(text=f"{filename} sized of {size} successfully stored")

    async def post(request: web.Request) -> web.Response:
        data = await request.post()
        upload = data["file"]
        size = upload.file.seek(0, 2)  # type: ignore[union-attr]
        return web.Response(text=f"posted {size}")

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    app = web.Application(client_max_size=4 * 1024 * MIB)
    app.router.add_post("/store", store)
    app.router.add_post("/count", count)
    app.router.add_post("/post", post)
    app.router.add_get("/hello", hello)
    web.run_app(
        app, host="127.0.0.1", port=port, access_log=None, print=None, loop=uvloop.new_event_loop()
    )


class Server:
    def __init__(self, server: str, folder: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", server, str(self.port), folder],
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        time.sleep(0.3)

    def cpu(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def status(self, key: str) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        raise KeyError(key)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def upload(port: int, path: str, size: int) -> bytes:
    """POST one file of ``size`` bytes as multipart/form-data; return the answer's body."""
    head = (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    tail = b"\r\n--" + BOUNDARY + b"--\r\n"
    length = len(head) + size + len(tail)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {length}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY.decode()}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request + head)
        block = BLOCK * 16  # 1 MiB
        for _ in range(size // len(block)):
            sock.sendall(block)
        sock.sendall(tail)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(
            (b"stored", b"posted " + str(size).encode())
        ):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer.partition(b"\r\n\r\n")[2]


# -- the measurements ----------------------------------------------------------------


def decoder_round(size: int) -> dict[str, float]:
    from python_multipart.multipart import MultipartParser

    from squall.multipart import NEED_DATA, MultipartDecoder, PartData

    head = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n'
    tail = b"\r\n--" + BOUNDARY + b"--\r\n"
    chunks = size // len(BLOCK)
    out: dict[str, float] = {}

    started = time.process_time()
    decoder = MultipartDecoder(BOUNDARY.decode())
    got = 0
    for chunk in (head, *(BLOCK for _ in range(chunks)), tail):
        decoder.feed(chunk)
        while (event := decoder.next_event()) is not NEED_DATA:
            if isinstance(event, PartData):
                got += len(event.data)
    assert got == size, got
    out["squall"] = time.process_time() - started

    counted = [0]

    def on_data(data: bytes, start: int, end: int) -> None:
        counted[0] += end - start

    started = time.process_time()
    parser = MultipartParser(BOUNDARY, {"on_part_data": on_data})
    for chunk in (head, *(BLOCK for _ in range(chunks)), tail):
        parser.write(chunk)
    parser.finalize()
    assert counted[0] == size, counted[0]
    out["python-multipart"] = time.process_time() - started
    return out


def upload_round(server: str, size: int, path: str = "/store") -> float:
    with tempfile.TemporaryDirectory() as folder:
        srv = Server(server, folder)
        try:
            before = srv.cpu()
            answer = upload(srv.port, path, size)
            used = srv.cpu() - before
        finally:
            srv.stop()
    assert answer.endswith(b"sized of %d successfully stored" % size), answer[:200]
    return size / MIB / used


def rss_round(server: str, path: str, size: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        srv = Server(server, folder)
        try:
            idle = srv.status("VmRSS")
            answer = upload(srv.port, path, size)
            peak = srv.status("VmHWM")
        finally:
            srv.stop()
    assert answer.endswith((b"stored", b"posted %d" % size)), answer[:200]
    return (peak - idle) / MIB


def keepalive_round(server: str, count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        srv = Server(server, folder)
        socks = []
        try:
            warm = socket.create_connection(("127.0.0.1", srv.port))
            warm.sendall(b"GET /hello HTTP/1.1\r\nHost: b\r\n\r\n")
            warm.recv(1000)
            time.sleep(0.5)
            before = srv.status("VmRSS")
            for _ in range(count):
                sock = socket.create_connection(("127.0.0.1", srv.port))
                sock.sendall(b"GET /hello HTTP/1.1\r\nHost: b\r\n\r\n")
                socks.append(sock)
            for sock in socks:
                assert sock.recv(1000).endswith(b"hi")
            time.sleep(1.0)
            after = srv.status("VmRSS")
        finally:
            for sock in socks:
                sock.close()
            srv.stop()
    return (after - before) / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-R", "--rounds", type=int, default=3)
    parser.add_argument("--only", default="decoder,upload,rss,keepalive")
    parser.add_argument("--size", type=int, default=256, help="MiB for decoder and upload")
    parser.add_argument("--rss-size", type=int, default=1024, help="MiB for the RSS runs")
    args = parser.parse_args()
    only = set(args.only.split(","))
    rows: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)
        print(f"  {key}: {value:,.2f}", flush=True)

    for rnd in range(args.rounds):
        print(f"round {rnd + 1}", flush=True)
        if "decoder" in only:
            for name, cpu in decoder_round(args.size * MIB).items():
                add(f"decoder {name} MB/CPU-s", args.size / cpu)
        for server in ("squall", "aiohttp"):
            if "upload" in only:
                add(f"upload {server} MB/CPU-s", upload_round(server, args.size * MIB))
                add(
                    f"upload-nodisk {server} MB/CPU-s",
                    upload_round(server, args.size * MIB, "/count"),
                )
            if "rss" in only:
                add(f"rss-reader {server} MiB", rss_round(server, "/store", args.rss_size * MIB))
                add(f"rss-post {server} MiB", rss_round(server, "/post", args.rss_size * MIB))
            if "keepalive" in only:
                add(f"keepalive {server} B/conn", keepalive_round(server, 2000))
    print(f"\nmedians of {args.rounds} rounds (load average {os.getloadavg()[0]:.1f}):")
    for key, values in rows.items():
        print(f"  {key:40s} {statistics.median(values):12,.2f}")
    for what in ("decoder", "upload", "upload-nodisk"):
        ours = rows.get(f"{what} squall MB/CPU-s")
        theirs = rows.get(
            f"{what} {'python-multipart' if what == 'decoder' else 'aiohttp'} MB/CPU-s"
        )
        if ours and theirs:
            ratio = statistics.median(ours) / statistics.median(theirs)
            print(f"  {what} ratio: {ratio:.2f}x")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
