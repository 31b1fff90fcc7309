#!/usr/bin/env python3
"""Static files and a gzip'd JSON body: Squall vs aiohttp, per server CPU-second.

The same app on both (``add_static`` over a directory holding a 1 KiB and a
1 MiB file; ``/json`` answering 100 KB of JSON with ``enable_compression``),
uvloop on both, the server pinned to one CPU and wrk to the other. The CPU the
server used comes from /proc (``bench/run.py``'s functions), which is far steadier
than req/s on a shared machine. Rounds interleave the servers; the median is
reported.

    .venv/bin/python bench/files.py              # 3 rounds, 5 s per run
    .venv/bin/python bench/files.py -R 5 -d 10
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as harness  # noqa: E402 - bench/run.py: free_port, group_cpu, parse_wrk

TESTS = {  # name -> (path, wrk extra headers)
    "file-1k": ("/static/1k.bin", []),
    "file-1m": ("/static/1m.bin", []),
    "json-gzip": ("/json", ["-H", "Accept-Encoding: gzip"]),
}


def serve(server: str, port: int, root: str) -> None:
    """The app (run in the server process)."""
    import uvloop

    if server == "squall":
        from squall import web
    else:
        from aiohttp import web  # type: ignore[no-redef]

    payload = {"items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(1800)]}

    async def json_handler(request: web.Request) -> web.Response:
        resp = web.json_response(payload)
        resp.enable_compression()
        return resp

    app = web.Application()
    app.router.add_static("/static", root)
    app.router.add_get("/json", json_handler)
    web.run_app(
        app, host="127.0.0.1", port=port, access_log=None, print=None, loop=uvloop.new_event_loop()
    )


def start(server: str, root: str, cpu: str) -> tuple[subprocess.Popen[bytes], int]:
    port = harness.free_port()
    argv = ["taskset", "-c", cpu, sys.executable, __file__, "--serve", server, str(port), root]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            harness.socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(0.3)
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{server} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def one_run(proc: subprocess.Popen[bytes], port: int, test: str, args: argparse.Namespace) -> dict:
    path, extra = TESTS[test]
    argv = ["taskset", "-c", args.client_cpu, "wrk", "-t1", f"-c{args.connections}"]
    argv += [f"-d{args.duration}s", *extra, f"http://127.0.0.1:{port}{path}"]
    cpu0 = harness.group_cpu(proc.pid)
    t0 = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=args.duration + 30).stdout
    wall = time.monotonic() - t0
    cpu1 = harness.group_cpu(proc.pid)
    res = harness.parse_wrk(out)
    cpu_s = sum(cpu1) - sum(cpu0)
    res["rps_per_cpu"] = res["requests"] / cpu_s if cpu_s > 0 else 0.0
    res["srv_cpu_pct"] = 100 * cpu_s / wall
    if "Non-2xx" in out or not res["requests"]:
        res["error"] = out.strip()[-300:]
    return res


def make_root() -> str:
    root = tempfile.mkdtemp(prefix="squall-bench-files-")
    with open(os.path.join(root, "1k.bin"), "wb") as f:
        f.write(os.urandom(1024))
    with open(os.path.join(root, "1m.bin"), "wb") as f:
        f.write(os.urandom(1024 * 1024))
    # Squall keeps a small file in memory only once it has not changed for 2 s
    # (fileresponse.SmallFiles.settle): measure the steady state of a static file
    time.sleep(2.5)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", nargs=3, metavar=("SERVER", "PORT", "ROOT"))
    parser.add_argument("-R", "--rounds", type=int, default=3)
    parser.add_argument("-d", "--duration", type=int, default=5)
    parser.add_argument("-c", "--connections", type=int, default=16)
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--client-cpu", default="1")
    parser.add_argument("--tests", default=",".join(TESTS))
    args = parser.parse_args()
    if args.serve:
        server, port, root = args.serve
        serve(server, int(port), root)
        return
    root = make_root()
    tests = args.tests.split(",")
    results: dict[tuple[str, str], list[float]] = {}
    for rnd in range(args.rounds):
        for server in ("squall", "aiohttp"):
            proc, port = start(server, root, args.server_cpu)
            try:
                for test in tests:
                    res = one_run(proc, port, test, args)
                    results.setdefault((server, test), []).append(res["rps_per_cpu"])
                    print(
                        f"round {rnd} {server:8s} {test:10s} {res.get('rps', 0):>9,.0f} req/s "
                        f"{res['rps_per_cpu']:>9,.0f} req/CPU-s  cpu {res['srv_cpu_pct']:.0f}% "
                        f"{res.get('error', '')}",
                        flush=True,
                    )
            finally:
                stop(proc)
    print(
        f"\nmedian of {args.rounds} rounds, requests per server CPU-second "
        f"(load average {harness.loadavg()}):\n"
    )
    print("| test | squall | aiohttp | ratio |\n| --- | ---: | ---: | ---: |")
    summary = {}
    for test in tests:
        ours = statistics.median(results[("squall", test)])
        theirs = statistics.median(results[("aiohttp", test)])
        ratio = ours / theirs if theirs else float("nan")
        summary[test] = {"squall": ours, "aiohttp": theirs, "ratio": ratio}
        print(f"| {test} | {ours:,.0f} | {theirs:,.0f} | {ratio:.2f}x |")
    print("\n" + json.dumps({"argv": shlex.join(sys.argv), "summary": summary}))


if __name__ == "__main__":
    main()
