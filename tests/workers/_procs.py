"""Real processes for the worker tests: start, read their output as it comes,
find their children, ask them over fresh connections who answers.

Synchronisation is on output lines and on process exits, never on sleeps; the
timeouts are hang guards for a loaded machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

HANG = 60.0  # seconds: only ever reached when something is broken


class Output:
    """The lines of one stream, collected in the background; wait for one that matches."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self.closed = False
        self._changed = asyncio.Event()
        self._task = asyncio.ensure_future(self._collect(stream))

    async def _collect(self, stream: asyncio.StreamReader) -> None:
        while True:
            line = await stream.readline()
            if not line:
                break
            self.lines.append(line.decode(errors="replace").rstrip("\n"))
            self._changed.set()
        self.closed = True
        self._changed.set()

    async def wait_for(self, pattern: str, timeout: float = HANG) -> re.Match[str]:
        """The first line matching ``pattern`` (a regex searched in each line)."""
        regex = re.compile(pattern)

        async def scan() -> re.Match[str]:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    found = regex.search(line)
                    if found:
                        return found
                seen = len(self.lines)
                if self.closed:
                    raise AssertionError(f"no line matching {pattern!r} in:\n{self.text}")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def wait_for_n(self, pattern: str, n: int, timeout: float = HANG) -> list[str]:
        """The first group of the first ``n`` lines matching ``pattern``."""
        regex = re.compile(pattern)

        async def scan() -> list[str]:
            while True:
                found = [m.group(1) for m in map(regex.search, self.lines) if m]
                if len(found) >= n:
                    return found[:n]
                if self.closed:
                    raise AssertionError(f"fewer than {n} lines match {pattern!r}:\n{self.text}")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def closed_by_all(self, timeout: float = HANG) -> None:
        """Wait for EOF: every process holding the stream's write end has exited."""
        await asyncio.wait_for(asyncio.shield(self._task), timeout)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class Proc:
    """A started process with its stdout and stderr collected."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.pid = proc.pid
        assert proc.stdout is not None and proc.stderr is not None
        self.out = Output(proc.stdout)
        self.err = Output(proc.stderr)
        self.seen_children: set[int] = set()

    def children(self) -> set[int]:
        """The live child processes (Linux's /proc), remembered for the clean-up."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            pids = {int(p) for p in path.read_text().split()}
        except FileNotFoundError:
            pids = set()
        self.seen_children |= pids
        return pids

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = HANG) -> int:
        """The exit code, once the process and everything holding its output have gone."""
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await self.out.closed_by_all(timeout)
        await self.err.closed_by_all(timeout)
        return code


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONASYNCIODEBUG", None)
    return env


def gone(pid: int) -> bool:
    """True when ``pid`` has exited (a zombie nobody reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


async def wait_gone(pid: int, timeout: float = HANG) -> None:
    """For a process that is not our child (no exit to wait on): poll /proc."""

    async def poll() -> None:
        while not gone(pid):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


@asynccontextmanager
async def started(*args: str, cwd: Path) -> AsyncIterator[Proc]:
    """Run ``python *args``; at the end SIGKILL it and every child it was seen with."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=cwd,
        env=child_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    p = Proc(proc)
    try:
        yield p
    finally:
        with contextlib.suppress(ProcessLookupError):
            p.children()
        for pid in p.seen_children:  # only the ones this test started
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def ask(port: int, path: str = "/", host: str = "127.0.0.1") -> str:
    """GET ``path`` on a fresh connection (``Connection: close``); the body."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), HANG)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        data = await asyncio.wait_for(reader.read(), HANG)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), data
    return body.decode()


async def ask_until(
    port: int, done: Callable[[set[str]], bool], limit: int = 400, path: str = "/"
) -> set[str]:
    """Fresh connections until ``done(answers)``; connection errors (a worker
    dying mid-way) are retried. Fails after ``limit`` answers."""
    answers: set[str] = set()
    for _ in range(limit):
        try:
            answers.add(await ask(port, path))
        except (ConnectionError, asyncio.IncompleteReadError, AssertionError):
            continue
        if done(answers):
            return answers
    raise AssertionError(f"gave up after {limit} requests; answers: {sorted(answers)}")


async def ask_until_new(port: int, known: set[str], path: str = "/") -> str:
    """Ask until an answer not in ``known`` comes (a replacement worker); hang-guarded."""

    async def loop() -> str:
        while True:
            try:
                answer = await ask(port, path)
            except (ConnectionError, asyncio.IncompleteReadError, AssertionError):
                continue
            if answer not in known:
                return answer

    return await asyncio.wait_for(loop(), HANG)


class Upload:
    """A POST whose body arrives in two halves: the handler is in flight between them."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def begin(cls, port: int, path: str = "/upload", size: int = 10) -> Upload:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), HANG)
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\n\r\n".encode()
            + b"x" * (size // 2)
        )
        await writer.drain()
        return cls(reader, writer)

    async def finish(self, size: int = 10) -> tuple[bytes, bytes]:
        """Send the rest; (head, body) of the answer, read to the server's close."""
        self.writer.write(b"y" * (size - size // 2))
        await self.writer.drain()
        try:
            data = await asyncio.wait_for(self.reader.read(), HANG)
        finally:
            self.writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        return head, body
