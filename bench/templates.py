#!/usr/bin/env python3
"""A page rendered from a template, per server CPU-second: Squall + squall.templates
against aiohttp + aiohttp-jinja2 1.6, with run.py's harness.

The app is ``apps/templates_app.py`` (one file, the framework chosen on its command
line): a layout and a child template with a 20-row table, ``url()`` links and
autoescaped values, about 2.4 KB of HTML. Two tests:

- ``page``: ``@template`` on the handler;
- ``ctx``: ``render_template`` by hand in a sub-app with a context processor
  (``request_processor``) and its middleware.

Both servers run interleaved for R rounds, pinned, warmed up and measured as run.py
does (wrk; requests ÷ the server's CPU seconds from /proc). Before any timing, the
page squall serves is fetched once and every check after that, aiohttp's included,
must return those exact bytes.

    .venv/bin/python bench/templates.py            # R=3, 8 s per run
    .venv/bin/python bench/templates.py -R 5 -d 10
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import time
import urllib.request
from types import ModuleType

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = {
    "squall": "{py} templates_app.py squall {port}",
    "aiohttp": "{py} templates_app.py aiohttp {port}",
}
PATHS = {"page": "/page", "ctx": "/ctx/"}


def _run_module() -> ModuleType:
    """bench/run.py as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(HERE, "run.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def parse_args(run: ModuleType) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-R", "--rounds", type=int, default=3)
    ap.add_argument("-d", "--duration", type=int, default=8, help="seconds per wrk run")
    ap.add_argument("-c", "--connections", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=2, help="seconds of wrk after each start")
    ap.add_argument("--tests", default=",".join(PATHS), help="comma-separated subset")
    ap.add_argument("--py", default=os.environ.get("BENCH_PY", run.DEFAULT_PY))
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    ap.add_argument("--max-other", type=float, default=15)
    ap.add_argument("--retries", type=int, default=2)
    args = ap.parse_args()
    args.tests = args.tests.split(",")
    args.servers = list(SERVERS)
    # run.py's options this benchmark does not vary
    args.depth, args.rev, args.alt_src, args.live, args.peer_py = 16, None, None, False, args.py
    args.src = os.path.join(os.path.dirname(HERE), "src")
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            ap.error(f"{tool} not found (Debian/Ubuntu: apt-get install -y wrk util-linux)")
    return args


def register(run: ModuleType, args: argparse.Namespace, base: str) -> None:
    """Teach run.py these servers and tests; the expected bodies are squall's first answer."""
    for name, cmd in SERVERS.items():
        run.SERVERS[name] = (cmd, tuple(args.tests))
    run.BASELINE = "aiohttp"
    srv = run.Server("squall", args, f"{base}-expected.log")
    try:
        srv.start()
        for test in args.tests:
            url = f"http://127.0.0.1:{srv.port}{PATHS[test]}"
            with urllib.request.urlopen(url, timeout=10) as resp:
                body = resp.read()
            run.TESTS[test] = ("GET", PATHS[test], None, "text/html; charset=utf-8", body)
            run.log(f"  {test}: {len(body)} bytes of HTML expected from both servers")
    finally:
        srv.stop()
    # warm_up() loads "plaintext": point it at the first page instead
    run.TESTS["plaintext"] = run.TESTS[args.tests[0]]


def main() -> None:
    run = _run_module()
    args = parse_args(run)
    os.makedirs(run.RESULTS, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join(run.RESULTS, f"templates-{stamp}")
    copies = run.environments(args)
    meta = run.run_meta(args)
    runs: list[dict] = []
    try:
        register(run, args, base)
        runs = run.run_rounds(args, base)
    finally:
        run.Server.stop_all()
        for path in copies:
            shutil.rmtree(path, ignore_errors=True)
        title = "## Templates: Squall + squall.templates vs aiohttp + aiohttp-jinja2"
        run.write_report(runs, args, meta, base, title)


if __name__ == "__main__":
    main()
