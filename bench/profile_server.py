#!/usr/bin/env python3
"""Where a server's time goes under load: py-spy samples it while wrk runs one test.

The server runs pinned as in run.py; py-spy attaches to it for the length of the
wrk run and writes collapsed stacks; this script then prints the functions that
take the most time, by self time (the frame on top of the stack) and by total
time (anywhere on the stack), as percentages of the samples.

    .venv/bin/python bench/profile_server.py param              # squall, GET /hello/world, 10 s
    .venv/bin/python bench/profile_server.py plaintext -d 20 --server aiohttp
    .venv/bin/python bench/profile_server.py pipeline --native  # C frames too (uvloop, httptools)

Needs py-spy (``.venv/bin/pip install py-spy``) and root or ptrace rights.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (
    DEFAULT_PY,
    RESULTS,
    ROOT,
    SERVERS,
    TESTS,
    Server,
    check,
    environments,
    log,
    wrk_argv,
)

_LINENO = re.compile(r":\d+\)$")


def record(args: argparse.Namespace, out_path: str) -> None:
    """Start the server, sample it with py-spy while wrk runs, stop both."""
    srv = Server(args.server, args, out_path + ".log")
    try:
        srv.start()
        problem = check(srv.port, args.test, args.depth)
        if problem:
            raise SystemExit(f"{args.server} fails {args.test}: {problem}")
        warm = wrk_argv(args, srv.port, "plaintext", 2)
        subprocess.run(warm, capture_output=True, timeout=60)
        spy = [args.py_spy, "record", "--pid", str(srv.pid), "--rate", str(args.rate)]
        spy += ["--duration", str(args.duration), "--format", "raw", "-o", out_path]
        spy += ["--native"] if args.native else []
        spy += ["--nonblocking"] if args.nonblocking else []
        # py-spy on the client's CPU: the server's core stays the server's
        sampler = subprocess.Popen(["taskset", "-c", args.client_cpu, *spy], stdout=sys.stderr)
        time.sleep(0.5)  # attached before the load starts
        wrk = subprocess.run(
            wrk_argv(args, srv.port, args.test, args.duration),
            capture_output=True,
            text=True,
            timeout=args.duration + 60,
        )
        sampler.wait(args.duration + 60)
        rps = re.search(r"Requests/sec:\s+([\d.]+)", wrk.stdout)
        log(f"wrk: {rps.group(1) if rps else '?'} req/s (under sampling)")
    finally:
        srv.stop()


def summarize(path: str, top: int) -> str:
    """Self and total shares per function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            n = int(count)
            frames = [_LINENO.sub(")", fr) for fr in stack.split(";") if fr]
            if not frames:  # a sample py-spy could not read (--nonblocking)
                continue
            samples += n
            own[frames[-1]] += n
            for fr in set(frames):
                total[fr] += n
    out = [f"{samples} samples in {path}", "", "self%  total%  function"]
    for fn, n in own.most_common(top):
        out.append(f"{100 * n / samples:5.1f}  {100 * total[fn] / samples:6.1f}  {fn}")
    out += ["", "total%  function (inclusive)"]
    for fn, n in total.most_common(top):
        out.append(f"{100 * n / samples:6.1f}  {fn}")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("test", choices=list(TESTS))
    ap.add_argument("--server", default="squall", choices=list(SERVERS))
    ap.add_argument("-d", "--duration", type=int, default=10, help="seconds of load")
    ap.add_argument("--rate", type=int, default=500, help="samples per second")
    ap.add_argument("--native", action="store_true", help="sample C frames too")
    ap.add_argument("--nonblocking", action="store_true", help="sample without stopping the server")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("-c", "--connections", type=int, default=64)
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--py", default=os.environ.get("BENCH_PY", DEFAULT_PY))
    ap.add_argument("--src", default=os.path.join(ROOT, "src"), help="as in run.py")
    ap.add_argument("--rev", help="as in run.py: profile this commit of squall")
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    args = ap.parse_args()
    if args.native and args.nonblocking:
        ap.error("py-spy cannot take native frames without stopping the process")
    args.py_spy = shutil.which("py-spy", path=os.path.dirname(args.py)) or shutil.which("py-spy")
    if args.py_spy is None:
        ap.error("py-spy not found: .venv/bin/pip install py-spy")
    os.makedirs(RESULTS, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = os.path.join(RESULTS, f"profile-{args.server}-{args.test}-{stamp}.txt")
    args.live, args.alt_src = False, None
    copies = environments(args)  # what is sampled stays put while others edit src/
    try:
        record(args, out)
    finally:
        for path in copies:
            shutil.rmtree(path, ignore_errors=True)
    report = summarize(out, args.top)
    with open(out.replace(".txt", "-summary.txt"), "w") as f:
        f.write(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
