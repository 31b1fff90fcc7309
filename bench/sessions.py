#!/usr/bin/env python3
"""A request that loads and saves a session, per server CPU-second: Squall +
squall.sessions against aiohttp + aiohttp_session 2.12.1, with run.py's harness.

One app file (this one, ``serve squall|aiohttp PORT``), the same code on both, two
sub-applications each with its own storage and the same handler (read the session,
``visits += 1``, answer ``alice <visits>``), so every request opens and writes a
session:

- ``encrypted``: ``GET /enc/`` with ``EncryptedCookieStorage`` (Fernet): the cookie
  is opened (HMAC + AES) and a new one sealed for the ``Set-Cookie``;
- ``redis``: ``GET /redis/`` with ``RedisStorage``: one GET and one SET on a
  redis-server this script starts (pinned to the client's CPU, persistence off).

wrk sends the same session cookie with every request (a Lua script made at start).
Both servers run interleaved for R rounds, pinned, warmed up and measured as run.py
does (requests ÷ the server's CPU seconds from /proc; Redis's own CPU is not
counted, for either). Before timing, each server must answer the cookie with
``alice 42`` and a ``Set-Cookie``.

    .venv/bin/python bench/sessions.py            # R=3, 8 s per run
    .venv/bin/python bench/sessions.py -R 5 -d 10
    .venv/bin/python bench/sessions.py --alt-src /tmp/before   # + squall-alt: A/B in one run
    .venv/bin/python bench/sessions.py --tests encrypted,redis,bare

``bare`` (not run unless asked) answers ``alice 42`` from a route with no session
middleware: the request path without sessions, on both, for scale.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from types import ModuleType

import redis
from cryptography.fernet import Fernet

HERE = os.path.dirname(os.path.abspath(__file__))
THIS = os.path.abspath(__file__)
PATHS = {"encrypted": "/enc/", "redis": "/redis/", "bare": "/bare"}
DEFAULT_TESTS = ("encrypted", "redis")
IDENTITY = "bench0123456789abcdef0123456789ab"  # the Redis session's identity
SEED = {"user": "alice", "visits": 41}  # each request makes it 42


# -- the app (serve mode) ------------------------------------------------------------


def serve(framework: str, port: int) -> None:
    import uvloop
    from redis import asyncio as aioredis

    if framework in ("squall", "squall-alt"):
        from squall import sessions, web
        from squall.sessions.cookie_storage import EncryptedCookieStorage
        from squall.sessions.redis_storage import RedisStorage
    else:
        import aiohttp_session as sessions
        from aiohttp import web
        from aiohttp_session.cookie_storage import EncryptedCookieStorage
        from aiohttp_session.redis_storage import RedisStorage

    async def visit(request):  # type: ignore[no-untyped-def]
        session = await sessions.get_session(request)
        session["visits"] = session.get("visits", 0) + 1
        return web.Response(text=f"{session.get('user')} {session['visits']}")

    def sub(storage):  # type: ignore[no-untyped-def]
        app = web.Application()
        sessions.setup(app, storage)
        app.router.add_get("/", visit)
        return app

    client = aioredis.Redis.from_url(os.environ["SQUALL_REDIS_URL"])
    app = web.Application()
    app.add_subapp("/enc/", sub(EncryptedCookieStorage(os.environ["SQUALL_SECRET_KEY"])))
    app.add_subapp("/redis/", sub(RedisStorage(client)))

    async def bare(request):  # type: ignore[no-untyped-def]
        return web.Response(text="alice 42")

    app.router.add_get("/bare", bare)
    # uvloop on both sides: the comparison is between frameworks, not event loops
    web.run_app(
        app, host="127.0.0.1", port=port, access_log=None, print=None, loop=uvloop.new_event_loop()
    )


# -- the harness ---------------------------------------------------------------------


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
    ap.add_argument("--tests", default=",".join(DEFAULT_TESTS), help=f"any of {', '.join(PATHS)}")
    ap.add_argument("--alt-src", help="a squall package dir for server squall-alt (A/B tests)")
    ap.add_argument("--py", default=os.environ.get("BENCH_PY", run.DEFAULT_PY))
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    ap.add_argument("--max-other", type=float, default=15)
    ap.add_argument("--retries", type=int, default=2)
    args = ap.parse_args()
    args.tests = args.tests.split(",")
    args.servers = ["squall", "aiohttp"] + (["squall-alt"] if args.alt_src else [])
    # run.py's options this benchmark does not vary
    args.depth, args.rev, args.live, args.peer_py = 16, None, False, args.py
    args.src = os.path.join(os.path.dirname(HERE), "src")
    for tool in ("wrk", "taskset", "redis-server"):
        if shutil.which(tool) is None:
            ap.error(f"{tool} not found (Debian: apt-get install -y wrk util-linux redis-server)")
    return args


def start_redis(run: ModuleType, args: argparse.Namespace, workdir: str) -> subprocess.Popen[bytes]:
    port = run.free_port()
    argv = ["taskset", "-c", args.client_cpu, "redis-server", "--port", str(port)]
    argv += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["SQUALL_REDIS_URL"] = f"redis://127.0.0.1:{port}"
    client = redis.Redis(port=port)
    for _ in range(300):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("redis-server did not start")


def seed_redis() -> None:
    record = json.dumps({"created": int(time.time()), "session": SEED})
    redis.Redis.from_url(os.environ["SQUALL_REDIS_URL"]).set("AIOHTTP_SESSION_" + IDENTITY, record)


def cookies() -> dict[str, str]:
    """The Cookie header of each test: a sealed session, and the Redis identity."""
    data = {"created": int(time.time()), "session": SEED}
    sealed = Fernet(os.environ["SQUALL_SECRET_KEY"]).encrypt(json.dumps(data).encode()).decode()
    return {
        "encrypted": f"AIOHTTP_SESSION={sealed}",
        "redis": f"AIOHTTP_SESSION={IDENTITY}",
        "bare": f"AIOHTTP_SESSION={IDENTITY}",
    }


def register(run: ModuleType, args: argparse.Namespace, lua_dir: str) -> None:
    """Teach run.py these servers, tests (a Lua script each, for the cookie) and check."""
    for name in args.servers:
        run.SERVERS[name] = ("{py} " + THIS + " serve " + name + " {port}", tuple(args.tests))
    run.BASELINE = "aiohttp"
    run.TARGETS = dict.fromkeys(DEFAULT_TESTS, 1.5)
    headers = cookies()
    for test in args.tests:
        script = os.path.join(lua_dir, f"{test}.lua")
        with open(script, "w") as f:
            f.write(f'wrk.headers["Cookie"] = "{headers[test]}"\n')
        run.TESTS[test] = ("GET", PATHS[test], script, "text/plain", b"alice 42")
    run.TESTS["plaintext"] = run.TESTS[args.tests[0]]  # warm_up() loads "plaintext"

    def check(port: int, test: str, depth: int) -> str | None:
        if test == "redis":
            seed_redis()
        url = f"http://127.0.0.1:{port}{PATHS[test]}"
        req = urllib.request.Request(url, headers={"Cookie": headers[test]})
        with urllib.request.urlopen(req, timeout=5) as r:
            body, cookie, status = r.read(), r.headers.get("Set-Cookie", ""), r.status
        has_cookie = "AIOHTTP_SESSION=" in cookie
        if status != 200 or body != b"alice 42" or has_cookie == (test == "bare"):
            return f"status {status}, body {body[:80]!r}, Set-Cookie {cookie[:60]!r}"
        return None

    run.check = check


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
        return
    run = _run_module()
    args = parse_args(run)
    os.makedirs(run.RESULTS, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join(run.RESULTS, f"sessions-{stamp}")
    workdir = tempfile.mkdtemp(prefix="squall-bench-sessions-")
    if "SQUALL_SECRET_KEY" not in os.environ:  # a throwaway key, for this run only
        os.environ["SQUALL_SECRET_KEY"] = Fernet.generate_key().decode()
    redis_proc = start_redis(run, args, workdir)
    copies: list[str] = []
    try:  # the redis-server this script started stops whatever happens next
        copies = run.environments(args)  # after the environment is set: servers inherit it
        meta = run.run_meta(args)
        runs: list[dict] = []
        try:
            register(run, args, workdir)
            seed_redis()
            runs = run.run_rounds(args, base)
        finally:
            run.Server.stop_all()
            title = "## Sessions: Squall + squall.sessions vs aiohttp + aiohttp_session 2.12.1"
            run.write_report(runs, args, meta, base, title)
    finally:
        redis_proc.terminate()  # the pid this script started
        redis_proc.wait()
        for path in [*copies, workdir]:
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
