"""``run_app(app, workers=N)``: N processes serving the same addresses.

Theory of operation
-------------------
The parent process is a supervisor and never serves a request. It binds the
addresses once, forks N children and then only waits for signals:

- TCP on Linux: every child gets a socket of its own, bound with ``SO_REUSEPORT``
  to the same address; the kernel spreads new connections over the listening
  ones by a hash of the connection's addresses. The parent keeps one socket per
  address bound but not listening: it turns ``port=0`` into one real port that
  all children share, and keeps the port while a child is being replaced.
- Unix ``path``, a caller's ``sock``, and TCP where ``SO_REUSEPORT`` does not
  balance (not Linux): one listening socket that every child inherits through
  ``fork`` and accepts on; whichever child is free takes the connection.

Each child runs ``run_app`` with its own event loop on those sockets; an
``Application`` or a coroutine returning one is used as given (a coroutine is
awaited in each child: ``fork`` gives every child its own copy).

Rules
-----
1. The parent prints the banner once, when every first-generation child listens.
2. A child that dies is replaced; one that dies within ``_HEALTHY_AFTER`` seconds
   of its start is replaced after a back-off that doubles up to ``_MAX_BACKOFF``.
   If no child has ever started serving and one fails to start, everything stops
   and ``run_app`` raises (a broken application must not respawn forever).
3. SIGTERM or SIGINT to the parent: SIGTERM to each child (each shuts down
   gracefully), wait up to ``shutdown_timeout`` plus ``_STOP_MARGIN``, SIGKILL what
   is left, reap everything, return. A second signal kills the children at once.
4. Children live in their own process group (a terminal's Ctrl+C reaches only the
   parent, which then stops them once) and stop by themselves when the parent dies
   (they watch a pipe whose only writer is the parent). A child acts on the first
   SIGTERM/SIGINT only: a second one never cuts its graceful shutdown short.

This needs ``fork``: not on Windows.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import select
import signal
import socket
import stat
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from squall.framework.app import Application

logger = logging.getLogger("squall.prefork")

_HEALTHY_AFTER = 5.0  # a child that lived this long was not failing at start-up
_FIRST_BACKOFF = 0.25
_MAX_BACKOFF = 10.0
_STOP_MARGIN = 5.0  # beyond shutdown_timeout, for on_shutdown/on_cleanup hooks
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_HANDLED = (*_STOP_SIGNALS, signal.SIGCHLD)

# NOTE: SO_REUSEPORT spreads connections over sockets only on Linux (BSDs and
# macOS give them all to one socket); elsewhere the children share one socket.
_REUSEPORT_BALANCES = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class WorkersFailedError(RuntimeError):
    """The worker processes could not start serving."""


def run_workers(workers: int | None, app: Any, run_kwargs: dict[str, Any]) -> None:
    """Serve ``app`` from ``workers`` processes; ``run_kwargs`` are run_app's own.

    ``workers=None`` means one process per CPU (``os.cpu_count()``).
    Returns after SIGTERM or SIGINT once every worker has exited.
    """
    count = _check_workers(workers)
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        raise NotImplementedError("run_app(workers=N) needs os.fork (not available on Windows)")
    listeners = _bind(run_kwargs)
    try:
        _Supervisor(count, app, run_kwargs, listeners).run()
    finally:
        listeners.close()
        if asyncio.iscoroutine(app):
            app.close()  # the parent's copy is never awaited: no "never awaited" warning


def _check_workers(workers: object) -> int:
    if workers is None:
        return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(f"workers must be an int, got {workers!r}")
    if workers < 1:
        raise ValueError(f"workers must be 1 or more, got {workers}")
    return workers


# -- the addresses -------------------------------------------------------------------------


@dataclass
class _Listeners:
    """What the parent bound: TCP addresses to re-bind per child, shared sockets."""

    names: list[str] = field(default_factory=list)
    reuseport: list[socket.socket] = field(default_factory=list)  # bound, not listening
    shared: list[socket.socket] = field(default_factory=list)  # listening, inherited
    owned: list[socket.socket] = field(default_factory=list)  # ours to close
    unix_paths: list[tuple[str, int]] = field(default_factory=list)  # (path, inode)

    def sockets_for_child(self) -> list[socket.socket]:
        """The sockets one new child serves on (fresh SO_REUSEPORT ones + the shared)."""
        fresh = [_reuseport_socket(s.family, s.getsockname()) for s in self.reuseport]
        return fresh + self.shared

    def close(self) -> None:
        for sock in self.owned:
            sock.close()
        for path, inode in self.unix_paths:
            with contextlib.suppress(OSError):
                if os.stat(path).st_ino == inode:
                    os.unlink(path)


def _bind(kw: dict[str, Any]) -> _Listeners:
    out = _Listeners()
    try:
        _bind_all(kw, out)
    except BaseException:
        out.close()
        raise
    return out


def _bind_all(kw: dict[str, Any], out: _Listeners) -> None:
    host, port, path, sock = kw.get("host"), kw.get("port"), kw.get("path"), kw.get("sock")
    scheme = "https" if kw.get("ssl_context") else "http"
    backlog = int(kw.get("backlog", 128))
    # the same choice of sites as run_app makes with one process
    if host is not None or (path is None and sock is None) or port is not None:
        if port is None:
            port = 8443 if kw.get("ssl_context") else 8080
        hosts: list[str | None] = [host] if host is None or isinstance(host, str) else list(host)
        for h in hosts:
            port = _bind_host(h, port, backlog, out)
            shown = h or "0.0.0.0"
            out.names.append(f"{scheme}://{f'[{shown}]' if ':' in shown else shown}:{port}")
    if path is not None:
        paths = [path] if isinstance(path, str | os.PathLike) else list(path)
        for p in paths:
            unix = _unix_socket(os.fspath(p), backlog)
            out.owned.append(unix)
            out.shared.append(unix)
            out.unix_paths.append((os.fspath(p), os.stat(p).st_ino))
            out.names.append(f"{scheme}://unix:{os.fspath(p)}:")
    if sock is not None:
        for s in [sock] if isinstance(sock, socket.socket) else list(sock):
            out.shared.append(s)  # the caller's: not ours to close
            if s.family == socket.AF_UNIX:
                out.names.append(f"http://unix:{s.getsockname()}:")
            else:
                h, p = s.getsockname()[:2]
                out.names.append(f"http://{h}:{p}")


def _bind_host(host: str | None, port: int, backlog: int, out: _Listeners) -> int:
    """Bind every address ``host`` resolves to (both families for None, as asyncio
    does); return the port, the real one after binding port 0."""
    infos = socket.getaddrinfo(
        host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
    )
    seen: set[tuple[int, Any]] = set()
    for family, _, _, _, addr in infos:
        if (family, addr) in seen or family not in (socket.AF_INET, socket.AF_INET6):
            continue
        seen.add((family, addr))
        addr = (addr[0], port, *addr[2:])  # port 0: every address on the first one's port
        if _REUSEPORT_BALANCES:
            sock = _reuseport_socket(family, addr)
            out.reuseport.append(sock)
        else:
            sock = _plain_socket(family, addr)
            sock.listen(backlog)
            out.shared.append(sock)
        out.owned.append(sock)
        port = int(sock.getsockname()[1])
    return port


def _new_tcp_socket(family: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:  # as asyncio: an IPv6 socket takes IPv6 only
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    return sock


def _plain_socket(family: int, addr: Any) -> socket.socket:
    sock = _new_tcp_socket(family)
    try:
        sock.bind(addr)
    except BaseException:
        sock.close()
        raise
    return sock


def _reuseport_socket(family: int, addr: Any) -> socket.socket:
    sock = _new_tcp_socket(family)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(addr)
    except BaseException:
        sock.close()
        raise
    return sock


def _unix_socket(path: str, backlog: int) -> socket.socket:
    # as asyncio's create_unix_server: a stale socket file is replaced, anything else kept
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(backlog)  # listening already: connections queue while a child restarts
    except BaseException:
        sock.close()
        raise
    return sock


# -- the supervisor ------------------------------------------------------------------------


@dataclass
class _Child:
    slot: int
    started: float
    ready_fd: int  # the parent's end of the pipe the child writes to when it serves
    ready: bool = False
    watching: bool = True  # the parent still waits for the ready byte


class _Supervisor:
    """The parent's loop: fork, wait for signals and readiness, replace, stop."""

    def __init__(
        self, count: int, app: Any, run_kwargs: dict[str, Any], listeners: _Listeners
    ) -> None:
        self.count = count
        self.app = app
        self.run_kwargs = run_kwargs
        self.listeners = listeners
        self.children: dict[int, _Child] = {}
        self.failures = [0] * count  # quick deaths in a row, per slot
        self.respawn_at: dict[int, float] = {}  # slot -> monotonic time
        self.ever_ready = False
        self.announced = False
        self.stopping = False
        self.deadline = 0.0
        self.boot_error: str | None = None
        # the children watch the read end; its only writer is this process
        self.alive_r, self.alive_w = os.pipe()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    # -- main loop -----------------------------------------------------------------------

    def run(self) -> None:
        saved = self._install_signals()
        try:
            for slot in range(self.count):
                self._spawn(slot)
            while self.children or (self.respawn_at and not self.stopping):
                self._step()
        finally:
            self._kill_all()
            self._restore_signals(saved)
            for fd in (self.alive_r, self.alive_w, self.wake_r, self.wake_w):
                os.close(fd)
        if self.boot_error is not None:
            raise WorkersFailedError(self.boot_error)

    def _step(self) -> None:
        now = time.monotonic()
        due = [slot for slot, at in self.respawn_at.items() if at <= now]
        for slot in due:
            del self.respawn_at[slot]
            if not self.stopping:
                self._spawn(slot)
        timeout: float | None = None
        if self.respawn_at and not self.stopping:
            timeout = max(0.0, min(self.respawn_at.values()) - now)
        if self.stopping:
            timeout = max(0.0, self.deadline - now)
            if timeout == 0.0:
                self._signal_children(signal.SIGKILL)
                timeout = None
        fds = [self.wake_r] + [c.ready_fd for c in self.children.values() if c.watching]
        try:
            readable, _, _ = select.select(fds, [], [], timeout)
        except InterruptedError:  # pragma: no cover - PEP 475 retries select
            readable = []
        for fd in readable:
            if fd == self.wake_r:
                self._on_signals()
            else:
                self._on_ready(fd)
        self._reap()

    # -- children ------------------------------------------------------------------------

    def _spawn(self, slot: int) -> None:
        socks = self.listeners.sockets_for_child()
        ready_r, ready_w = os.pipe()
        # the child must not run the parent's handlers before it resets them
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)
        try:
            pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(ready_r)
            os.close(ready_w)
            raise
        if pid == 0:  # pragma: no cover - runs in the child (coverage is per process)
            self._become_child(socks, ready_w, ready_r, mask)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(ready_w)
        for sock in socks:
            if sock not in self.listeners.shared:
                sock.close()  # the child's own SO_REUSEPORT socket
        self.children[pid] = _Child(slot, time.monotonic(), ready_r)

    def _become_child(
        self,
        socks: list[socket.socket],
        ready_w: int,
        ready_r: int,
        mask: set[int | signal.Signals],
    ) -> None:
        code = 1
        try:
            os.setpgid(0, 0)
            self._restore_signals({})
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(ready_r)
            for fd in (self.alive_w, self.wake_r, self.wake_w):
                os.close(fd)
            for other in self.children.values():
                os.close(other.ready_fd)
            for sock in self.listeners.reuseport:
                sock.close()  # the parent's placeholders; the child has its own
            _serve_in_child(self.app, self.run_kwargs, socks, self.alive_r, ready_w)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            # NOTE: anything escaping must end this process here, never unwind into
            # the parent's stack (which this process shares a copy of)
            traceback.print_exc()
        finally:
            with contextlib.suppress(BaseException):
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def _on_ready(self, fd: int) -> None:
        for pid, child in self.children.items():
            if child.ready_fd == fd:
                try:
                    data = os.read(fd, 1)
                except OSError:  # pragma: no cover - the child is gone: reaping tells
                    data = b""
                child.watching = False  # EOF (the child died first) or done
                if data:
                    child.ready = True
                    self.ever_ready = True
                    logger.debug("worker %d (pid %d) is serving", child.slot, pid)
                break
        if (
            not self.announced
            and not self.stopping
            and len(self.children) == self.count
            and all(c.ready for c in self.children.values())
        ):
            self.announced = True
            printer = self.run_kwargs.get("print")
            if printer is not None:
                names = ", ".join(sorted(self.listeners.names))
                printer(f"======== Running on {names} ========\n(Press CTRL+C to quit)")

    def _reap(self) -> None:
        # one pid at a time: waitpid(-1) would steal the exit of a process the
        # application itself started (subprocess.Popen)
        for pid in list(self.children):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # pragma: no cover - reaped by someone else
                done, status = pid, 0
            if done == 0:
                continue
            child = self.children.pop(pid)
            os.close(child.ready_fd)
            self._on_exit(pid, child, os.waitstatus_to_exitcode(status))

    def _on_exit(self, pid: int, child: _Child, code: int) -> None:
        if self.stopping:
            return
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        if not child.ready and not self.ever_ready:
            self.boot_error = f"worker process {pid} {how} before it could serve"
            logger.error("%s; stopping", self.boot_error)
            self._stop()
            return
        lived = time.monotonic() - child.started
        slot = child.slot
        self.failures[slot] = self.failures[slot] + 1 if lived < _HEALTHY_AFTER else 0
        failures = self.failures[slot]
        delay = 0.0 if failures == 0 else min(_FIRST_BACKOFF * 2 ** (failures - 1), _MAX_BACKOFF)
        logger.warning("worker process %d %s; replacing it in %.2f s", pid, how, delay)
        self.respawn_at[slot] = time.monotonic() + delay

    # -- stopping ------------------------------------------------------------------------

    def _stop(self) -> None:
        if self.stopping:
            self._signal_children(signal.SIGKILL)  # a second request: no more waiting
            return
        self.stopping = True
        self.respawn_at.clear()
        timeout = float(self.run_kwargs.get("shutdown_timeout", 60.0))
        self.deadline = time.monotonic() + timeout + _STOP_MARGIN
        self._signal_children(signal.SIGTERM)

    def _signal_children(self, sig: signal.Signals) -> None:
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def _kill_all(self) -> None:
        """Leave no child behind, whatever happened in the loop."""
        self._signal_children(signal.SIGKILL)
        for pid, child in list(self.children.items()):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            os.close(child.ready_fd)
        self.children.clear()

    # -- signals -------------------------------------------------------------------------

    def _install_signals(self) -> dict[int, Any]:
        saved: dict[int, Any] = {}
        for sig in _HANDLED:
            saved[sig] = signal.signal(sig, _note_signal)
            signal.siginterrupt(sig, False)
        saved[-1] = signal.set_wakeup_fd(self.wake_w)
        return saved

    def _restore_signals(self, saved: dict[int, Any]) -> None:
        for sig in _HANDLED:
            signal.signal(sig, saved.get(sig, signal.SIG_DFL))
        signal.set_wakeup_fd(saved.get(-1, -1))

    def _on_signals(self) -> None:
        try:
            data = os.read(self.wake_r, 512)
        except BlockingIOError:  # pragma: no cover - woken without data
            return
        except OSError as exc:  # pragma: no cover
            if exc.errno != errno.EINTR:
                raise
            return
        if any(sig in data for sig in _STOP_SIGNALS):
            self._stop()
        # SIGCHLD needs nothing more: every wake-up reaps


def _note_signal(signum: int, frame: Any) -> None:
    """The handler behind ``set_wakeup_fd``: the byte in the pipe is the message."""


# -- the child -----------------------------------------------------------------------------


def _serve_in_child(
    app: Any,
    run_kwargs: dict[str, Any],
    socks: list[socket.socket],
    alive_fd: int,
    ready_fd: int,
) -> None:
    from squall.runner import run_app  # NOTE: runner imports this module lazily

    def ready(*args: Any, **kwargs: Any) -> None:
        # run_app "prints" once every site listens: that is the readiness signal
        with contextlib.suppress(OSError):
            os.write(ready_fd, b"r")
            os.close(ready_fd)

    kwargs = dict(run_kwargs)
    kwargs.update(
        host=None,
        port=None,
        path=None,
        sock=socks,
        print=ready,
        handle_signals=False,  # _watch_parent installs the worker's own
        reuse_address=None,
        reuse_port=None,
        workers=1,
    )
    run_app(_watch_parent(app, alive_fd), **kwargs)


async def _watch_parent(app: Any, alive_fd: int) -> Any:
    """Resolve the application in this child's loop and stop when the parent dies."""
    if not isinstance(app, Application):
        app = await app
    loop = asyncio.get_running_loop()
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, _stop_once, loop)
    loop.add_reader(alive_fd, _parent_gone, loop, alive_fd)
    return app


def _stop_once(loop: asyncio.AbstractEventLoop) -> None:
    """SIGTERM/SIGINT in a worker: shut down gracefully; ignore any later one.

    NOTE: a worker may get SIGTERM twice (systemd's default KillMode signals the
    whole cgroup and the supervisor forwards its own): a second GracefulExit would
    cut the graceful shutdown short, so the first one is the only one.
    """
    from squall.runner import GracefulExit

    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, _ignore)
    raise GracefulExit()


def _ignore() -> None:
    pass


def _parent_gone(loop: asyncio.AbstractEventLoop, alive_fd: int) -> None:
    # EOF on the pipe: the supervisor died (SIGKILL, crash); stop as if told to
    loop.remove_reader(alive_fd)
    logger.warning("worker %d: the supervisor process is gone; stopping", os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)


__all__ = ["WorkersFailedError", "run_workers"]
