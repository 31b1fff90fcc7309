#!/usr/bin/env python3
"""What turning the access log on costs: the same plaintext app, three ways.

- ``off``: no access logger (``access_log=None``);
- ``on``: the default ``AccessLogger`` and format, its logger at INFO with one
  handler that drops each record after it is made (so everything Squall does
  counts: the line is formatted, the LogRecord made and handed to the handler;
  only the handler's own output, a file or a terminal, is left out);
- ``disabled``: the same logger installed but at WARNING (logging reconfigured
  after start-up): ``enabled`` is asked per request and nothing else happens.

Two measures, both printed as cost relative to ``off``:

    .venv/bin/python bench/accesslog.py inprocess   # µs per request, no sockets (hotpath.py's way)
    .venv/bin/python bench/accesslog.py wrk -R 3    # wrk on a real server (run.py's harness)

``wrk`` runs the three servers interleaved for R rounds with run.py's Server,
pinning, warm-up and CPU accounting, and reports medians of requests per second
and per server CPU-second (the steadier of the two on a shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import shutil
import statistics
import sys
import time
from types import ModuleType
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
MODES = ("off", "on", "disabled")


def _module(name: str) -> ModuleType:
    """bench/<name>.py as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", os.path.join(HERE, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class DropHandler(logging.Handler):
    """Takes each record as a real handler does (filters, lock) and drops it; keeps
    the first line so a run can show that lines were made."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = record.getMessage()


def access_logger(mode: str) -> tuple[Any, DropHandler]:
    """The app's access logger for ``mode`` (None for off) and its handler."""
    from squall.framework.accesslog import AccessLogger

    handler = DropHandler()
    logger = logging.getLogger(f"bench.access.{mode}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if mode == "on" else logging.WARNING)
    return (None if mode == "off" else AccessLogger(logger)), handler


# -- in process ------------------------------------------------------------------------


def inprocess(args: argparse.Namespace) -> None:
    import uvloop

    from squall.server.config import ServerConfig
    from squall.server.server import Server

    hotpath = _module("hotpath")
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    app = hotpath.load_app()
    app.on_startup.freeze()
    loop.run_until_complete(app.startup())
    app.freeze()
    proto = Server(app._handle, ServerConfig(max_pipeline=1024), loop=loop)()
    transport = hotpath.NullTransport()
    proto.connection_made(transport)
    loggers = {mode: access_logger(mode) for mode in MODES}
    results: dict[str, list[float]] = {mode: [] for mode in MODES}
    for rnd in range(args.rounds):
        for mode in MODES:
            app._access_logger = loggers[mode][0]
            # hotpath's timing: feeds from loop callbacks, so the loop is running
            request, expect = hotpath.REQUESTS["plaintext"]
            writes = transport.writes
            best = hotpath._timed_feeds(proto.data_received, request, 1, args.n, args.repeat)
            if transport.writes - writes != args.n * args.repeat or not transport.last.endswith(
                expect
            ):
                raise SystemExit(f"{mode}: unexpected answers: {transport.last[-200:]!r}")
            results[mode].append(best * 1e6)
        print(
            f"round {rnd + 1}: " + "  ".join(f"{m} {results[m][-1]:.2f}" for m in MODES),
            file=sys.stderr,
        )
    handler = loggers["on"][1]
    if not handler.count or loggers["disabled"][1].count:
        raise SystemExit(f"lines made: on {handler.count}, disabled {loggers['disabled'][1].count}")
    print(f"a line: {handler.first}", file=sys.stderr)
    off = statistics.median(results["off"])
    print(f"\nIn process, plaintext, µs per request (median of {args.rounds} rounds, each the")
    print(f"best of {args.repeat} runs of {args.n} requests):\n")
    print("| access log | µs/request | extra µs | cost |\n|---|---:|---:|---:|")
    for mode in MODES:
        us = statistics.median(results[mode])
        print(f"| {mode} | {us:.2f} | {us - off:+.2f} | {100 * (us - off) / off:+.1f}% |")


# -- wrk on a real server ----------------------------------------------------------------


def serve(mode: str, port: int) -> None:
    """Run the benchmark app (bench/apps/squall_app.py) with the access log ``mode``."""
    import uvloop

    from squall import web
    from squall.framework.accesslog import AccessLogger

    hotpath = _module("hotpath")
    app = hotpath.load_app()
    logger, handler = access_logger(mode)

    async def main() -> None:
        # "on" goes the user's way (the runner builds the logger); "disabled" is a
        # logger switched off after start-up, which the runner cannot leave out
        runner = web.AppRunner(
            app, access_log=logger.logger if mode == "on" else None, handle_signals=True
        )
        await runner.setup()
        if mode == "disabled":
            app._access_logger = logger
        installed = app._access_logger
        if (mode == "off") != (installed is None) or (
            installed is not None and not isinstance(installed, AccessLogger)
        ):
            raise SystemExit(f"{mode}: the app's access logger is {installed!r}")
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    def report() -> None:
        print(f"access log {mode}: {handler.count} lines; first {handler.first!r}", flush=True)

    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(main())
    except (KeyboardInterrupt, SystemExit, web.GracefulExit):
        pass
    finally:
        report()


def wrk(args: argparse.Namespace) -> None:
    run = _module("run")
    for mode in MODES:
        run.SERVERS[f"log-{mode}"] = (
            f"{{py}} {os.path.abspath(__file__)} serve {mode} {{port}}",
            ("plaintext",),
        )
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (Debian/Ubuntu: apt-get install -y wrk util-linux)")
    copy = run.snapshot(args.src)
    env = run.env_with(copy)
    opts = argparse.Namespace(
        py=args.py,
        server_cpu=args.server_cpu,
        client_cpu=args.client_cpu,
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        depth=16,
        max_other=args.max_other,
        retries=args.retries,
        envs={f"log-{m}": env for m in MODES},
    )
    os.makedirs(run.RESULTS, exist_ok=True)
    base = os.path.join(run.RESULTS, f"accesslog-{time.strftime('%Y%m%d-%H%M%S')}")
    rows: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    try:
        for rnd in range(1, args.rounds + 1):
            for mode in MODES:
                run.log(f"[round {rnd}/{args.rounds}] access log {mode} (load {run.loadavg()})")
                srv = run.Server(f"log-{mode}", opts, f"{base}-{mode}.log")
                try:
                    srv.start()
                    run.warm_up(srv, opts)
                    rows[mode].append(run.bench_one(srv, "plaintext", rnd, opts))
                finally:
                    srv.stop()
    finally:
        run.Server.stop_all()
        shutil.rmtree(copy, ignore_errors=True)
    with open(f"{base}-on.log") as f:
        made = [line.strip() for line in f if line.startswith("access log on:")]
    print(f"\n{made[-1] if made else 'no report from the on server'}")
    print(
        f"\nwrk -t1 -c{args.connections} -d{args.duration}s on CPU {args.client_cpu}, server on "
        f"CPU {args.server_cpu}, plaintext, median of {args.rounds} interleaved rounds:\n"
    )
    print(
        "| access log | req/s | req/CPU-s | cost (req/s) | cost (req/CPU-s) | µs/req user + sys |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    med = {
        m: {
            k: statistics.median(r[k] for r in rows[m] if r.get(k))
            for k in ("rps", "rps_per_cpu", "us_user", "us_sys")
        }
        for m in MODES
        if all(r.get("rps") for r in rows[m])
    }
    for mode, cell in med.items():
        cost = ""
        for key in ("rps", "rps_per_cpu"):
            off = med.get("off", {}).get(key)
            cost += f" {100 * (1 - cell[key] / off):+.1f}% |" if off else " - |"
        us = f"{cell['us_user']:.2f} + {cell['us_sys']:.2f}"
        print(f"| {mode} | {cell['rps']:,.0f} | {cell['rps_per_cpu']:,.0f} |{cost} {us} |")
    print("\n(cost: how many fewer requests than with the log off)")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="command", required=True)
    ip = sub.add_parser("inprocess", help="µs per request in process, no sockets")
    ip.add_argument("-n", type=int, default=50_000, help="requests per timed run")
    ip.add_argument("--repeat", type=int, default=5, help="timed runs per round; the best kept")
    ip.add_argument("-R", "--rounds", type=int, default=3)
    w = sub.add_parser("wrk", help="wrk against a real server, three servers interleaved")
    w.add_argument("-R", "--rounds", type=int, default=3)
    w.add_argument("-d", "--duration", type=int, default=8, help="seconds per wrk run")
    w.add_argument("-c", "--connections", type=int, default=64)
    w.add_argument("--warmup", type=int, default=2)
    w.add_argument("--py", default=sys.executable)
    w.add_argument(
        "--src",
        default=os.path.join(os.path.dirname(HERE), "src"),
        help="directory holding the squall package to measure (copied at start)",
    )
    w.add_argument("--server-cpu", default="0")
    w.add_argument("--client-cpu", default="1")
    w.add_argument("--max-other", type=float, default=15)
    w.add_argument("--retries", type=int, default=2)
    s = sub.add_parser("serve", help="(used by wrk) run one server")
    s.add_argument("mode", choices=MODES)
    s.add_argument("port", type=int)
    args = ap.parse_args()
    if args.command == "inprocess":
        inprocess(args)
    elif args.command == "wrk":
        wrk(args)
    else:
        serve(args.mode, args.port)


if __name__ == "__main__":
    main()
