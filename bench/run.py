#!/usr/bin/env python3
"""Squall vs aiohttp: the same app on both, measured with wrk (stdlib only).

The server runs pinned to one CPU, wrk pinned to another. Both servers are run
R times, interleaved (squall aiohttp squall aiohttp ...), each restarted every
round, so drift of the machine hits both alike. Every endpoint is checked
(status, content type, body; pipelining answers all requests) before it is
timed. Per run the server's CPU time is read from /proc, which gives requests
per server CPU-second: on a shared machine far steadier than raw req/s.

    .venv/bin/python bench/run.py                   # both servers, every test, R=3
    .venv/bin/python bench/run.py -R 5 --tests plaintext,pipeline
    .venv/bin/python bench/run.py squall -d 4       # one server only (no ratios)

Prints a Markdown report; writes it and the raw JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

import chart  # bench/chart.py, beside this file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
APPS, LUA, RESULTS = (os.path.join(HERE, d) for d in ("apps", "lua", "results"))
DEFAULT_PY = os.path.join(ROOT, ".venv", "bin", "python")

# name -> (launch command run in apps/ ({py}: --py, {port}: a free port), the tests it takes)
SERVERS = {
    "squall": ("{py} squall_app.py {port}", ("plaintext", "json", "param", "echo", "pipeline")),
    "aiohttp": ("{py} aiohttp_app.py {port}", ("plaintext", "json", "param", "echo", "pipeline")),
    # on request only: the same app on another copy of squall (--alt-src), for A/B tests
    "squall-alt": ("{py} squall_app.py {port}", ("plaintext", "json", "param", "echo", "pipeline")),
    # on request only: the cost of one no-op middleware, and of the access log
    "squall-mw": ("{py} squall_app.py {port} --middleware", ("plaintext", "param")),
    "aiohttp-mw": ("{py} aiohttp_app.py {port} --middleware", ("plaintext", "param")),
    "squall-log": ("{py} squall_app.py {port} --access-log", ("plaintext", "param")),
    "aiohttp-log": ("{py} aiohttp_app.py {port} --access-log", ("plaintext", "param")),
    # on request only, the ceiling: one canned answer, so nothing to route
    "limit": ("{py} limit_app.py {port}", ("plaintext", "pipeline")),
    # on request only (make bench): the fastest peer of ../shared/bench/peers on this
    # machine kind, in its own venv (--peer-py; tools/ensure-peers.sh builds it)
    "granian-starlette": (
        "{peer_py} -m granian --interface asgi --host 127.0.0.1 --port {port} --workers 1"
        " --http 1 --no-ws --loop uvloop --log-level warning starlette_app:app",
        ("plaintext", "json", "param", "echo", "pipeline"),
    ),
}
DEFAULT_PEER_PY = os.path.join(ROOT, "build", "peers-venv", "bin", "python")
DEFAULT_SERVERS = ("squall", "aiohttp")
BASELINE = "aiohttp"  # ratios are other server / this one

# name -> (method, path, wrk lua script or None, expected content-type, expected body)
TESTS = {
    "plaintext": ("GET", "/", None, "text/plain", b"Hello, World!"),
    "json": ("GET", "/json", None, "application/json", {"message": "Hello, World!"}),
    "param": ("GET", "/hello/world", None, "text/plain", b"Hello, world"),
    "echo": ("POST", "/echo", "post.lua", "text/plain", b"1024"),  # post.lua: 1 KiB body
    "pipeline": ("GET", "/", "pipeline.lua", "text/plain", b"Hello, World!"),
}
ECHO_BODY = b"x" * 1024
# The ratios squall / aiohttp the project aims for (DESIGN.md, "Speed")
TARGETS = {"plaintext": 2.0, "json": 2.0, "param": 2.0, "pipeline": 5.0}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- processes and CPU accounting ------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat_fields(pid: int | str) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def group_pids(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (a server and any workers it forks)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit() and (f := _stat_fields(d)) and int(f[2]) == pgid and f[0] != "Z":
            pids.append(int(d))
    return pids


def group_cpu(pgid: int) -> tuple[float, float]:
    """CPU seconds (utime, stime) used so far by the live processes of group ``pgid``."""
    user = system = 0
    for pid in group_pids(pgid):
        if f := _stat_fields(pid):
            user += int(f[11])
            system += int(f[12])
    return user / CLK_TCK, system / CLK_TCK


def cpu_busy() -> dict[str, float]:
    """Seconds each CPU has been busy (all but idle and iowait) so far, from /proc/stat."""
    busy = {}
    with open("/proc/stat") as f:
        for line in f:
            v = line.split()
            if v[0].startswith("cpu") and v[0] != "cpu":
                busy[v[0][3:]] = (sum(map(int, v[1:9])) - int(v[4]) - int(v[5])) / CLK_TCK
    return busy


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return f.read().strip()


class Server:
    """One server process in its own session (process group), pinned to a CPU."""

    live: dict[int, Server] = {}  # pid -> Server: stopped even when the runner fails

    def __init__(self, name: str, args: argparse.Namespace, log_path: str) -> None:
        self.name, self.log_path = name, log_path
        self.cmd = SERVERS[name][0].format(py=args.py, peer_py=args.peer_py, port="{port}")
        self.cpu = args.server_cpu
        self.env = args.envs.get(name)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> Server:
        self.port = free_port()
        argv = ["taskset", "-c", self.cpu, *shlex.split(self.cmd.format(port=self.port))]
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv,
            cwd=APPS,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=self.env,
        )
        Server.live[self.proc.pid] = self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}): {self.log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                time.sleep(0.3)  # let the server finish its startup
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not open port {self.port} in {timeout}s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        """SIGTERM the server, then SIGKILL, each by its own pid, whatever is left of its group."""
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        for p in group_pids(pid):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        Server.live.pop(pid, None)
        self.log.close()
        self.proc = None

    @classmethod
    def stop_all(cls) -> None:
        for srv in list(cls.live.values()):
            srv.stop()


# -- functional checks -----------------------------------------------------------


def check(port: int, test: str, depth: int) -> str | None:
    """What is wrong with the endpoint's answer (status, content type, body), or None."""
    method, path, _, ctype, expect = TESTS[test]
    data = ECHO_BODY if method == "POST" else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=data)
    with urllib.request.urlopen(req, timeout=5) as r:
        body, got_ctype, status = r.read(), r.headers.get("Content-Type", ""), r.status
    if status != 200 or not got_ctype.startswith(ctype):
        return f"status {status}, content-type {got_ctype!r}"
    if (json.loads(body) if isinstance(expect, dict) else body) != expect:
        return f"body {body[:80]!r}"
    if test == "pipeline" and (got := pipelined_responses(port, path, depth)) != depth:
        return f"pipelining: {got}/{depth} responses to {depth} pipelined requests"
    return None


def pipelined_responses(port: int, path: str, depth: int, timeout: float = 3.0) -> int:
    """Send ``depth`` GETs in one write on one connection; count the answers."""
    req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode() * depth
    buf, deadline = b"", time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(req)
        while buf.count(b"Hello, World!") < depth and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            buf += chunk
    return buf.count(b"Hello, World!")


# -- wrk -------------------------------------------------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_wrk(out: str) -> dict:
    def num(pattern: str) -> float:
        m = re.search(pattern, out, re.M)
        return float(m.group(1)) if m else 0.0

    def latency(pct: int) -> float | None:
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        return float(m.group(1)) * UNITS[m.group(2)] if m else None

    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    kinds = ("connect", "read", "write", "timeout")
    return {
        "rps": num(r"^Requests/sec:\s+([\d.]+)"),
        "requests": int(num(r"^\s+(\d+) requests in")),
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "non2xx": int(num(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": dict(zip(kinds, map(int, errs.groups()), strict=True)) if errs else {},
    }


def wrk_argv(args: argparse.Namespace, port: int, test: str, duration: float) -> list[str]:
    _, path, script, _, _ = TESTS[test]
    argv = ["taskset", "-c", args.client_cpu, "wrk", "-t1", f"-c{args.connections}"]
    argv += [f"-d{duration}s", "--latency"]
    if script:
        argv += ["-s", os.path.join(LUA, script)]
    argv.append(f"http://127.0.0.1:{port}{path}")
    if test == "pipeline":
        argv += ["--", str(args.depth)]
    return argv


def run_wrk(srv: Server, test: str, args: argparse.Namespace) -> dict:
    """One timed wrk run: its results plus the CPU each side (and everyone else) took."""
    argv = wrk_argv(args, srv.port, test, args.duration)
    ru0, cpu0, busy0 = resource.getrusage(resource.RUSAGE_CHILDREN), group_cpu(srv.pid), cpu_busy()
    t0 = time.monotonic()
    out = subprocess.run(
        argv, capture_output=True, text=True, timeout=args.duration + 30
    ).stdout  # wrk's own errors go to stdout too
    wall = time.monotonic() - t0
    ru1, cpu1, busy1 = resource.getrusage(resource.RUSAGE_CHILDREN), group_cpu(srv.pid), cpu_busy()
    res = parse_wrk(out)
    if test == "pipeline":  # wrk cannot time pipelined requests (it prints 0.00us)
        res["p50_ms"] = res["p99_ms"] = None
    wrk_cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    cpu_s = user + system
    res["srv_cpu_pct"] = round(100 * cpu_s / wall, 1)
    res["wrk_cpu_pct"] = round(100 * wrk_cpu / wall, 1)
    # what other processes took of each pinned core: the contention of this run
    res["other_srv_cpu_pct"] = round(
        100 * (busy1[args.server_cpu] - busy0[args.server_cpu]) / wall - res["srv_cpu_pct"], 1
    )
    res["other_wrk_cpu_pct"] = round(
        100 * (busy1[args.client_cpu] - busy0[args.client_cpu]) / wall - res["wrk_cpu_pct"], 1
    )
    # requests per server CPU-second: what the server does with the CPU it actually got
    res["rps_per_cpu"] = res["requests"] / cpu_s if cpu_s > 0 else None
    # CPU per request in the process (user) and in the kernel for it (sys: the syscalls)
    if res["requests"]:
        res["us_user"] = 1e6 * user / res["requests"]
        res["us_sys"] = 1e6 * system / res["requests"]
    if not res["rps"]:
        res["error"] = f"wrk: {out.strip()[-300:]}"
    return res


def contention(res: dict) -> float:
    """CPU% other processes took on the busier of the two pinned cores during a run."""
    return max(res.get("other_srv_cpu_pct", 0), res.get("other_wrk_cpu_pct", 0))


def bench_one(srv: Server, test: str, rnd: int, args: argparse.Namespace) -> dict:
    """Check the endpoint, then time it; a contended run is redone and the calmest kept."""
    rec: dict = {"round": rnd, "server": srv.name, "test": test, "loadavg": loadavg()}
    try:
        problem = check(srv.port, test, args.depth)
    except Exception as exc:  # report it and go on with the other tests
        problem = f"check: {exc!r}"
    if problem:
        rec["error"] = f"check failed: {problem}"
    else:
        tries = [run_wrk(srv, test, args)]
        while contention(tries[-1]) > args.max_other and len(tries) <= args.retries:
            time.sleep(1)
            tries.append(run_wrk(srv, test, args))
        tries.sort(key=contention)
        rec.update(tries[0], discarded=tries[1:])
    log(
        f"    {test:10s} {rec.get('rps', 0):>10,.0f} req/s"
        f" {rec.get('rps_per_cpu') or 0:>10,.0f} req/CPU-s  p99 {rec.get('p99_ms') or 0:5.2f} ms"
        f"  cpu srv/wrk {rec.get('srv_cpu_pct', 0):.0f}/{rec.get('wrk_cpu_pct', 0):.0f}"
        f"  others {rec.get('other_srv_cpu_pct', 0):.0f}/{rec.get('other_wrk_cpu_pct', 0):.0f}"
        f"  tries {1 + len(rec.get('discarded', []))}  {rec.get('error', '')}"
    )
    return rec


def warm_up(srv: Server, args: argparse.Namespace) -> None:
    """Some wrk load after a start: imports, caches and allocators settle before timing."""
    if args.warmup:
        argv = wrk_argv(args, srv.port, "plaintext", args.warmup)
        subprocess.run(argv, capture_output=True, timeout=args.warmup + 30)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- the run ---------------------------------------------------------------------


def takes(server: str, args: argparse.Namespace) -> list[str]:
    return [t for t in args.tests if t in SERVERS[server][1]]


def run_rounds(args: argparse.Namespace, base: str) -> list[dict]:
    runs: list[dict] = []
    for rnd in range(1, args.rounds + 1):
        for name in args.servers:
            log(f"[round {rnd}/{args.rounds}] {name} (load {loadavg()})")
            srv = Server(name, args, f"{base}-{name}.log")
            try:
                srv.start()
                warm_up(srv, args)
                for test in takes(name, args):
                    runs.append(bench_one(srv, test, rnd, args))
                    time.sleep(0.5)
            except Exception as exc:  # a server that fails one round still gets the others
                done = {r["test"] for r in runs if r["round"] == rnd and r["server"] == name}
                runs += [
                    {"round": rnd, "server": name, "test": t, "error": f"server: {exc}"}
                    for t in takes(name, args)
                    if t not in done
                ]
                log(f"    ERROR {exc}")
            finally:
                srv.stop()
    return runs


def versions(py: str, env: dict[str, str] | None) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys, os, squall\n"
        "v = {'python': sys.version.split()[0], 'squall from': os.path.dirname(squall.__file__)}\n"
        "for p in ('squall', 'aiohttp', 'uvloop', 'httptools', 'multidict', 'yarl'):\n"
        "    try: v[p] = m.version(p)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(v))"
    )
    out = subprocess.run([py, "-c", code], capture_output=True, text=True, env=env).stdout
    v = json.loads(out or "{}")
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    m = re.search(r"\d+\.\d+[\w.+-]*", wrk.stdout + wrk.stderr)
    v["wrk"] = m.group(0) if m else "?"
    return v


def machine() -> dict[str, str | int | None]:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"host": platform.platform(), "cpu": model, "nproc": os.cpu_count()}


def source(args: argparse.Namespace) -> dict[str, str | None]:
    """Which squall is measured: a commit, or a working tree (its commit and a digest of
    its uncommitted diff, which tells apart runs of the same commit)."""
    if args.rev:
        rev = subprocess.run(
            ["git", "-C", ROOT, "describe", "--always", args.rev], capture_output=True, text=True
        )
        return {"what": f"commit {args.rev}", "git": rev.stdout.strip() or None, "diff": None}
    git = subprocess.run(
        ["git", "-C", args.src, "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    diff = subprocess.run(["git", "-C", args.src, "diff", "HEAD", "--", "."], capture_output=True)
    return {
        "what": f"working tree {args.src}" + (" (as installed)" if args.live else ""),
        "git": git.stdout.strip() or None,
        "diff": hashlib.sha1(diff.stdout).hexdigest()[:12] if diff.stdout else None,
    }


# -- the report ------------------------------------------------------------------

METRICS = ("rps", "rps_per_cpu", "p99_ms", "srv_cpu_pct", "wrk_cpu_pct")
METRICS += ("other_srv_cpu_pct", "other_wrk_cpu_pct", "us_user", "us_sys")


def median_of(rows: list[dict], key: str) -> float | None:
    xs = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(xs) if xs else None


def summarize(runs: list[dict], args: argparse.Namespace) -> dict[tuple[str, str], dict]:
    """{(server, test): medians over rounds, spreads, error counts}."""
    cells = {}
    for s in args.servers:
        for t in args.tests:
            rows = [r for r in runs if r["server"] == s and r["test"] == t]
            if not rows:
                continue
            ok = [r for r in rows if not r.get("error")]
            cell: dict = {
                "n": len(ok),
                "problems": sorted({r["error"][:160] for r in rows if r.get("error")}),
            }
            if ok:
                cell.update({k: median_of(ok, k) for k in METRICS})
                for k in ("rps", "rps_per_cpu"):
                    xs = [r[k] for r in ok if r.get(k)]
                    cell[k + "_range_pct"] = 100 * (max(xs) - min(xs)) / cell[k] if xs else 0
                cell["errors"] = sum(r["non2xx"] + sum(r["socket_errors"].values()) for r in ok)
                cell["contended"] = sum(contention(r) > args.max_other for r in ok)
            cells[s, t] = cell
    return cells


def ratio(cells: dict, server: str, test: str, key: str) -> float | None:
    a = cells.get((server, test), {}).get(key)
    b = cells.get((BASELINE, test), {}).get(key)
    return a / b if a and b else None


def _num(value: float | None, fmt: str = ",.0f") -> str:
    return "-" if value is None else format(value, fmt)


def results_table(cells: dict, args: argparse.Namespace) -> str:
    """One row per test: each server's medians, then each ratio to the baseline."""
    others = [s for s in args.servers if s != BASELINE and BASELINE in args.servers]
    cols = [f"{s} req/s" for s in args.servers] + [f"{s}/{BASELINE}" for s in others]
    cols += [f"{s} req/CPU-s" for s in args.servers] + [f"{s}/{BASELINE}" for s in others]
    cols += [f"{s} p99 ms" for s in args.servers]
    cols += ["target"] if others else []
    lines = ["| test | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for t in args.tests:
        row = []
        for key in ("rps", "rps_per_cpu"):
            row += [_cell(cells.get((s, t)), key) for s in args.servers]
            row += [_ratio_text(ratio(cells, s, t, key), t, s) for s in others]
        row += [_cell(cells.get((s, t)), "p99_ms", ".2f") for s in args.servers]
        if others:
            row.append(f"≥{TARGETS[t]:g}x" if t in TARGETS else "")
        lines.append(f"| {t} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _cell(cell: dict | None, key: str, fmt: str = ",.0f") -> str:
    """A median for a table; blank for a test the server does not take."""
    if cell is None:
        return ""
    if not cell["n"]:
        return "FAILED"
    return _num(cell.get(key), fmt) + (" †" if cell.get("errors") else "")


def _ratio_text(value: float | None, test: str, server: str) -> str:
    if value is None:
        return "-"
    text = f"{value:.2f}x"
    met = server == "squall" and test in TARGETS and value >= TARGETS[test]
    return f"**{text}**" if met else text


def cpu_table(cells: dict, args: argparse.Namespace) -> str:
    """Server CPU per request, user + sys (µs): where the process spends it vs the kernel."""
    cols = list(args.servers)
    lines = ["| test | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for t in args.tests:
        row = []
        for s in args.servers:
            c = cells.get((s, t))
            ok = c and c["n"] and c.get("us_user") is not None
            row.append(f"{c['us_user']:.2f} + {c['us_sys']:.2f}" if ok else "")
        lines.append(f"| {t} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def noise_table(cells: dict, args: argparse.Namespace) -> str:
    cols = list(args.servers)
    lines = ["| test | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for t in args.tests:
        row = []
        for s in args.servers:
            c = cells.get((s, t))
            if not c or not c["n"]:
                row.append("")
                continue
            row.append(
                f"{c['rps_range_pct']:.0f}%/{c['rps_per_cpu_range_pct']:.0f}% · "
                f"{c['srv_cpu_pct']:.0f}/{c['wrk_cpu_pct']:.0f} · "
                f"{c['other_srv_cpu_pct']:.0f}/{c['other_wrk_cpu_pct']:.0f}"
            )
        lines.append(f"| {t} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def problems(cells: dict, args: argparse.Namespace) -> list[str]:
    out = [f"- {s} / {t}: {p}" for (s, t), c in cells.items() for p in c["problems"]]
    out += [
        f"- {s} / {t}: {c['errors']} non-2xx/socket errors (summed over rounds)"
        for (s, t), c in cells.items()
        if c.get("errors")
    ]
    out += [
        f"- {s} / {t}: {c['contended']} of {c['n']} kept runs still contended "
        f"(others took > {args.max_other:g}% of a pinned core)"
        for (s, t), c in cells.items()
        if c.get("contended")
    ]
    return out


def markdown(cells: dict, args: argparse.Namespace, meta: dict) -> str:
    m, v, src = meta["machine"], meta["versions"], meta["source"]
    out = [
        f"## Squall vs aiohttp, {meta['started']}\n",
        f"Machine: {m['cpu']} x {m['nproc']}, {m['host']}. Squall: {src['what']} at "
        f"`{src['git']}`"
        + (f" + uncommitted diff (sha1 {src['diff']})" if src["diff"] else "")
        + (f"; squall-alt: a copy of `{args.alt_src}`" if args.alt_src else "")
        + ". Versions: "
        + ", ".join(f"{k} {x}" for k, x in v.items() if k != "squall from")
        + ".\n",
        f"Server on CPU {args.server_cpu} (`taskset`), `wrk -t1 -c{args.connections} "
        f"-d{args.duration}s --latency` on CPU {args.client_cpu}; {args.warmup} s warm-up after "
        f"each start; R={args.rounds} interleaved rounds, median of rounds; pipeline = "
        f"{args.depth} requests per write. Load average before `{meta['loadavg_before']}`, "
        f"after `{meta.get('loadavg_after')}`.\n",
        "**Medians** (ratio = server / aiohttp, bold where squall meets the target; "
        "req/CPU-s = requests ÷ server CPU-seconds; † = wrk saw errors)\n",
        results_table(cells, args),
        "**Server CPU per request**, µs, user + sys (medians; sys is the kernel's share: "
        "reads, writes, epoll)\n",
        cpu_table(cells, args),
        "**Noise**: spread (max-min)/median of req/s / of req/CPU-s · CPU% server/wrk · "
        f"CPU% other processes took on CPU {args.server_cpu}/{args.client_cpu} (medians)\n",
        noise_table(cells, args),
    ]
    if probs := problems(cells, args):
        out += ["**Problems**\n", "\n".join(probs) + "\n"]
    return "\n".join(out)


# -- main ------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default = " ".join(DEFAULT_SERVERS)
    ap.add_argument("servers", nargs="*", help=f"any of {', '.join(SERVERS)} (default: {default})")
    ap.add_argument("-R", "--rounds", type=int, default=3)
    ap.add_argument("-d", "--duration", type=int, default=8, help="seconds per wrk run")
    ap.add_argument("-c", "--connections", type=int, default=64)
    ap.add_argument("--depth", type=int, default=16, help="requests per write in pipeline")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of wrk after each start")
    ap.add_argument("--tests", default=",".join(TESTS), help="comma-separated subset")
    ap.add_argument("--py", default=os.environ.get("BENCH_PY", DEFAULT_PY))
    ap.add_argument("--peer-py", default=DEFAULT_PEER_PY, help="python of the peers' venv")
    ap.add_argument(
        "--src",
        default=os.path.join(ROOT, "src"),
        help="directory holding the squall package to measure (copied at start)",
    )
    ap.add_argument("--rev", help="measure this git commit of squall instead of the working tree")
    ap.add_argument("--alt-src", help="the squall package dir for server squall-alt (A/B tests)")
    ap.add_argument(
        "--live", action="store_true", help="import squall as installed; no copy of --src"
    )
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    ap.add_argument(
        "--max-other",
        type=float,
        default=15,
        help="redo a run if other processes took more than this %% of a pinned core",
    )
    ap.add_argument("--retries", type=int, default=2, help="redos allowed per run")
    args = ap.parse_args()
    args.servers = args.servers or list(DEFAULT_SERVERS)
    args.tests = args.tests.split(",")
    if unknown := [s for s in args.servers if s not in SERVERS]:
        ap.error(f"unknown servers: {unknown}")
    if unknown := [t for t in args.tests if t not in TESTS]:
        ap.error(f"unknown tests: {unknown}")
    if ("squall-alt" in args.servers) != bool(args.alt_src):
        ap.error("squall-alt and --alt-src go together")
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            ap.error(f"{tool} not found (Debian/Ubuntu: apt-get install -y wrk util-linux)")
    return args


def snapshot(src: str, rev: str | None = None) -> str:
    """Copy the squall package in ``src`` (or at commit ``rev``) to a temporary directory;
    return the directory to put on PYTHONPATH.

    Others edit src/ while a benchmark runs and every round restarts the server: without
    a copy, rounds would measure different code (or a half-saved file)."""
    tmp = tempfile.mkdtemp(prefix="squall-bench-")
    if rev:
        tar = subprocess.run(
            ["git", "-C", ROOT, "archive", rev, "src/squall"], capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            archive.extractall(tmp, filter="data")
        shutil.move(os.path.join(tmp, "src", "squall"), os.path.join(tmp, "squall"))
    else:
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
        shutil.copytree(os.path.join(src, "squall"), os.path.join(tmp, "squall"), ignore=ignore)
        # a mypyc build keeps its shared runtime beside the package: <hash>__mypyc.*.so
        for name in os.listdir(src):
            if "__mypyc" in name and name.endswith((".so", ".pyd")):
                shutil.copy2(os.path.join(src, name), tmp)
    return tmp


def env_with(path: str) -> dict[str, str]:
    """This environment, importing squall from ``path`` first."""
    pythonpath = os.pathsep.join(p for p in (path, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": pythonpath}


def environments(args: argparse.Namespace) -> list[str]:
    """Set ``args.envs`` (server -> environment); return the copies to delete at the end."""
    copies = []
    env = None
    if args.rev or not args.live:
        copies.append(snapshot(args.src, args.rev))
        env = env_with(copies[-1])
    args.envs = dict.fromkeys(SERVERS, env)
    if args.alt_src:
        copies.append(snapshot(args.alt_src))
        args.envs["squall-alt"] = env_with(copies[-1])
    return copies


def run_meta(args: argparse.Namespace) -> dict:
    """What a report says of its run, taken as it starts (after ``environments``)."""
    return {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "args": {k: v for k, v in vars(args).items() if k != "envs"},
        "machine": machine(),
        "source": source(args),
        "versions": versions(args.py, args.envs["squall"]),
        "loadavg_before": loadavg(),
    }


def write_report(
    runs: list[dict], args: argparse.Namespace, meta: dict, base: str, title: str
) -> None:
    """A feature benchmark's ending (bench/sessions.py, bench/templates.py): the
    Markdown report of ``runs`` under ``title``, printed and written to ``base``.md."""
    meta["loadavg_after"] = loadavg()
    report = markdown(summarize(runs, args), args, meta).replace("## Squall vs aiohttp", title)
    with open(base + ".md", "w") as f:
        f.write(report)
    print(report)
    log(f"written: {base}.md")


def main() -> None:
    args = parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join(RESULTS, f"bench-{stamp}")
    copies = environments(args)
    meta = run_meta(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so finally: stops the servers
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    runs: list[dict] = []
    try:
        runs = run_rounds(args, base)
    finally:
        Server.stop_all()
        for path in copies:
            shutil.rmtree(path, ignore_errors=True)
        meta["loadavg_after"] = loadavg()
        cells = summarize(runs, args)
        report = markdown(cells, args, meta)
        summary = [{"server": s, "test": t, **c} for (s, t), c in cells.items()]
        with open(base + ".json", "w") as f:
            json.dump({"meta": meta, "runs": runs, "summary": summary}, f, indent=1)
        with open(base + ".md", "w") as f:
            f.write(report)
        chart.write_chart(base + ".svg", {"meta": meta, "summary": summary}, BASELINE)
        print(report)
        log(f"written: {base}.md, {base}.json, {base}.svg")


if __name__ == "__main__":
    main()
