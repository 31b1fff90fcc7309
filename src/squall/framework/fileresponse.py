"""``FileResponse``: a file from disk, with conditional and range requests.

The steps, each small and named:

1. ``_Asked``: what the request asks (Accept-Encoding, the If-* fields, Range),
   read on the loop into plain values.
2. ``plan_file`` (in a thread: every call that may block on the disk is there):
   pick the file (a precompressed ``.br``/``.zst``/``.gz`` sibling the client
   accepts, else the file; any sibling means ``Vary``), stat it, decide 304/412
   by RFC 9110 13.2.2, open it, decide 200/206/416 by RFC 9110 14 (a 206, 412
   or 416 is never compressed on the way), and read a small body right away. A small
   file read whole is kept in ``SMALL_FILES``; the next request for it is
   planned on the loop by ``plan_cached`` (a stat that must match, no thread).
3. ``FileResponse.prepare``: turn the plan into a status and headers, then send
   the body: a small one in the same write as the head; a large one by
   sendfile(2) straight to the socket once the transport's buffer is empty
   (``_zero_copy``, on every loop), else (TLS, compression, ``NOSENDFILE``) in
   ``chunk_size`` reads.

A file that shrinks or vanishes while it is being sent cannot honour the
Content-Length already sent: the connection is aborted (the client sees a short
body), never padded or left waiting.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import pathlib
import time
from dataclasses import dataclass
from datetime import datetime
from mimetypes import MimeTypes
from stat import S_ISREG
from typing import TYPE_CHECKING, Any

from squall.framework.compression import add_vary
from squall.framework.streamresponse import StreamResponse
from squall.http import hdrs
from squall.http.conditional import evaluate_preconditions, if_range_holds
from squall.http.dates import format_http_date, parse_http_date
from squall.http.encoding import parse_accept_encoding
from squall.http.etag import ETag, parse_etag_list
from squall.http.ranges import RangeNotSatisfiable, content_range, parse_range_set, resolve_ranges
from squall.http.status import body_forbidden
from squall.typedefs import ClientDisconnectedError, ResponseSink

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from squall.framework.request import BaseRequest

logger = logging.getLogger("squall.web")

DEFAULT_CHUNK_SIZE = 256 * 1024  # aiohttp's
# PERF: a body up to this size is read in the thread that opened the file and goes
# out in the same write as the head: one executor hop per small file in all.
SMALL_FILE = 64 * 1024
NOSENDFILE = bool(os.environ.get("AIOHTTP_NOSENDFILE") or os.environ.get("SQUALL_NOSENDFILE"))
FALLBACK_CONTENT_TYPE = "application/octet-stream"

# Content types by file name, as aiohttp guesses them: ``x.tar.gz`` is
# application/gzip (the encodings map is cleared), plus the compression formats.
CONTENT_TYPES = MimeTypes()
CONTENT_TYPES.encodings_map.clear()
for _ctype, _ext in (
    ("application/gzip", ".gz"),
    ("application/x-brotli", ".br"),
    ("application/x-bzip2", ".bz2"),
    ("application/x-compress", ".Z"),
    ("application/x-xz", ".xz"),
    ("application/zstd", ".zst"),
):
    CONTENT_TYPES.add_type(_ctype, _ext)

# Precompressed siblings, tried in this order among those the client accepts.
SIBLINGS = (("br", ".br"), ("zstd", ".zst"), ("gzip", ".gz"))
# statuses never compressed on the way (enable_compression): FileResponse._start_compression
_UNCODED = frozenset((206, 412, 416))


@dataclass(frozen=True, slots=True)
class _Asked:
    """What a request asks of a file, as plain values (safe to read in a thread)."""

    method: str
    accept_encoding: str
    if_match: tuple[ETag, ...] | None
    if_none_match: tuple[ETag, ...] | None
    if_modified_since: datetime | None
    if_unmodified_since: datetime | None
    range: str | None
    if_range: str | None

    @classmethod
    def of(cls, request: BaseRequest) -> _Asked:
        get = request.headers.get
        return cls(
            request.method,
            get(hdrs.ACCEPT_ENCODING, ""),
            parse_etag_list(get(hdrs.IF_MATCH)),
            parse_etag_list(get(hdrs.IF_NONE_MATCH)),
            parse_http_date(get(hdrs.IF_MODIFIED_SINCE)),
            parse_http_date(get(hdrs.IF_UNMODIFIED_SINCE)),
            get(hdrs.RANGE),
            get(hdrs.IF_RANGE),
        )


@dataclass(slots=True)
class _Plan:
    """What to answer: a status, and for 2xx the file, its slice and maybe its bytes."""

    status: int
    st: os.stat_result | None = None
    encoding: str | None = None
    fd: int = -1  # the open file, for a body sent from it (the response closes it)
    body: bytes | None = None  # the slice, read already (a small file)
    start: int = 0
    count: int = 0
    path: str = ""  # the file read: the one asked for, or its precompressed sibling
    whole: bytes | None = None  # the whole file, read in the thread (for SMALL_FILES)
    varies: bool = False  # a precompressed sibling exists: the answer depends on Accept-Encoding


def file_etag(st: os.stat_result) -> str:
    """The strong ETag value of a file: mtime (ns) and size in hex, as aiohttp makes it."""
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


# PERF: header values derived from a file's name and stat, computed once per
# name or version rather than per response (bounded: emptied when full)
_TYPES: dict[pathlib.Path, str] = {}
_VALIDATORS: dict[tuple[int, int], tuple[str, str]] = {}
_MEMO_MAX = 1024


def _content_type(path: pathlib.Path) -> str:
    """The Content-Type of a file by its name, as aiohttp guesses it."""
    ctype = _TYPES.get(path)
    if ctype is None:
        if len(_TYPES) >= _MEMO_MAX:
            _TYPES.clear()
        ctype = _TYPES[path] = CONTENT_TYPES.guess_type(path)[0] or FALLBACK_CONTENT_TYPE
    return ctype


def _validators(st: os.stat_result) -> tuple[str, str]:
    """The ETag and Last-Modified values of a file version (what the setters make)."""
    key = (st.st_mtime_ns, st.st_size)
    values = _VALIDATORS.get(key)
    if values is None:
        if len(_VALIDATORS) >= _MEMO_MAX:
            _VALIDATORS.clear()
        # Last-Modified rounded up as aiohttp does (RFC 9110 13.1.4; see last_modified)
        values = (f'"{file_etag(st)}"', format_http_date(math.ceil(st.st_mtime)))
        _VALIDATORS[key] = values
    return values


def _select(
    path: str, accept_encoding: str, st: os.stat_result | None = None, probe_all: bool = True
) -> tuple[str, os.stat_result, str | None, bool]:
    """The file to send: a precompressed sibling the client takes, else ``path``
    (whose stat the caller may have taken already); and whether a sibling exists.

    A sibling makes the answer depend on Accept-Encoding, which every response
    from the file then says with ``Vary`` (RFC 9110 12.5.5; 15.4.5 for a 304),
    the identity one too. ``probe_all`` looks for the siblings the client does
    not take as well (the thread's way); without it only the accepted ones are
    looked for (the loop's way: ``plan_cached`` knows the rest from SMALL_FILES).
    """
    varies = False
    if accept_encoding or probe_all:
        qualities = parse_accept_encoding(accept_encoding) if accept_encoding else {}
        star = qualities.get("*")
        for coding, suffix in SIBLINGS:
            quality = qualities.get(coding, star)
            if not quality and (varies or not probe_all):
                continue
            try:
                sibling_st = os.lstat(path + suffix)  # SECURITY: a sibling is never a symlink
            except OSError:
                continue
            if S_ISREG(sibling_st.st_mode):
                if quality:
                    return path + suffix, sibling_st, coding, True
                varies = True
    return path, os.stat(path) if st is None else st, None, varies


def _preconditions(
    asked: _Asked, st: os.stat_result, encoding: str | None, varies: bool
) -> _Plan | None:
    """304 or 412 as RFC 9110 13.2.2 orders the If-* fields, else None (go on)."""
    status = evaluate_preconditions(
        asked.method,
        ETag(file_etag(st)),
        math.ceil(st.st_mtime),
        if_match=asked.if_match,
        if_none_match=asked.if_none_match,
        if_modified_since=asked.if_modified_since,
        if_unmodified_since=asked.if_unmodified_since,
    )
    return None if status is None else _Plan(status, st, encoding, varies=varies)


def plan_file(path: str, asked: _Asked, small: int = SMALL_FILE) -> _Plan:
    """Decide the answer for ``path`` (runs in a thread: it stats, opens and reads).

    Raises OSError when the file cannot be reached (the caller answers 403 for
    a PermissionError, 404 otherwise).
    """
    file_path, st, encoding, varies = _select(path, asked.accept_encoding)
    if not S_ISREG(st.st_mode):
        return _Plan(403)  # a directory, a socket, a device: never served
    plan = _preconditions(asked, st, encoding, varies)
    if plan is not None:
        return plan
    # SECURITY: O_NONBLOCK: a FIFO swapped in since the stat cannot hang the thread
    fd = os.open(file_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)  # the file opened, not the one stat'ed before
        if not S_ISREG(st.st_mode):
            os.close(fd)
            return _Plan(403)
        plan = _plan_range(asked, st)
        plan.encoding = encoding
        plan.varies = varies
        plan.path = file_path
        if plan.status == 416:
            os.close(fd)
        elif st.st_size <= SMALL_FILES.file_max:  # PERF: all of it, kept for next time
            plan.whole = whole = os.pread(fd, st.st_size, 0)
            plan.body = whole if plan.count == st.st_size else _slice(whole, plan)
            os.close(fd)
        elif plan.count <= small:
            plan.body = os.pread(fd, plan.count, plan.start) if plan.count else b""
            os.close(fd)
        else:
            plan.fd = fd
            if _FADVISE is not None:
                # NOTE: sendfile(2) reads the page cache on the loop; a file not in it
                # would make the loop wait for the disk: ask for the start now
                _FADVISE(fd, plan.start, min(plan.count, READ_AHEAD), os.POSIX_FADV_WILLNEED)
        return plan
    except BaseException:
        os.close(fd)
        raise


def plan_cached(path: str, asked: _Asked, st: os.stat_result | None = None) -> _Plan | None:
    """Decide the answer for ``path`` from SMALL_FILES, on the loop; None when the
    file is not there or changed (then ``plan_file`` must run, in a thread).

    ``st`` is the stat of ``path`` if the caller took it. Raises nothing: any
    OSError is a None (the thread finds out again and answers it).
    """
    try:
        file_path, st, encoding, varies = _select(path, asked.accept_encoding, st, False)
    except OSError:
        return None
    kept = SMALL_FILES.get(file_path, st)
    if kept is None:
        return None
    whole, siblings = kept
    varies = varies or siblings
    plan = _preconditions(asked, st, encoding, varies)
    if plan is not None:
        return plan
    plan = _plan_range(asked, st)
    plan.encoding = encoding
    plan.varies = varies
    plan.path = file_path
    if plan.status != 416:
        plan.body = whole if plan.count == st.st_size else _slice(whole, plan)
    return plan


async def plan_in_thread(path: str, asked: _Asked) -> _Plan:
    """``plan_file`` in the executor; what it read whole is kept in SMALL_FILES."""
    loop = asyncio.get_running_loop()
    try:
        plan = await loop.run_in_executor(None, plan_file, path, asked)
    except PermissionError:
        return _Plan(403)
    except OSError:  # gone, not a directory, a symlink loop: 404 as aiohttp
        return _Plan(404)
    remember(plan)
    return plan


def remember(plan: _Plan) -> None:
    """Keep what ``plan_file`` read whole (on the loop: SMALL_FILES is the loop's)."""
    if plan.whole is not None and plan.st is not None:
        SMALL_FILES.put(plan.path, plan.st, plan.whole, plan.varies)
        plan.whole = None


def _slice(whole: bytes, plan: _Plan) -> bytes:
    return whole[plan.start : plan.start + plan.count]


def _plan_range(asked: _Asked, st: os.stat_result) -> _Plan:
    """200 with the whole file, 206 with one range, or 416 (RFC 9110 14.2, 13.1.5).

    Several satisfiable ranges get the whole file with a 200, which RFC 9110
    14.2 allows (a server may ignore Range); a unit other than bytes is ignored
    (14.2: MUST); an invalid range set is a 416, as aiohttp answers it.
    """
    size = st.st_size
    whole = _Plan(200, st, count=size)
    if asked.range is None or asked.method not in ("GET", "HEAD"):
        return whole
    if not if_range_holds(asked.if_range, ETag(file_etag(st)), math.ceil(st.st_mtime)):
        return whole
    try:
        specs = parse_range_set(asked.range)
        if specs is None:
            return whole
        ranges = resolve_ranges(specs, size)
    except (ValueError, RangeNotSatisfiable):
        return _Plan(416, st)
    if len(ranges) != 1:
        return whole
    start, end = ranges[0]
    return _Plan(206, st, start=start, count=end - start)


# -- small files kept in memory ----------------------------------------------------


class SmallFiles:
    """The bytes of small files, each valid while a stat of it says it is unchanged.

    PERF: a small file asked for again is answered on the loop: one stat(2) there
    instead of a hop to a thread that stats, opens, reads and closes it
    (bench/files.py, docs/responses.md).

    NOTE: freshness. An entry holds the file's identity and version: device,
    inode, size, mtime and ctime in nanoseconds; any write, truncation,
    ``touch``, ``chmod``, rename over it or replacement changes one of them, and
    the next request reads the file again. File systems stamp times at a clock
    tick, so a write in the same tick as the one before could leave them all
    equal (git's "racy" files): a file changed less than ``settle`` seconds ago
    is therefore never kept.

    NOTE: an entry also remembers whether a precompressed sibling existed when
    the file was read (the ``Vary`` of its identity answers). A sibling added or
    removed later changes nothing of the file, so that flag may be stale until
    the file changes: only ``Vary`` on an identity answer depends on it (the
    siblings a client accepts are looked for at every request).

    Only the loop touches an instance (threads return what they read).
    """

    def __init__(
        self,
        file_max: int = 64 * 1024,
        total_max: int = 8 * 1024 * 1024,
        settle: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.file_max = file_max
        self.total_max = total_max
        self.settle = settle
        self.clock = clock  # wall-clock seconds, as file times are
        # path -> (identity and version, (bytes, a precompressed sibling existed))
        self._entries: dict[str, tuple[tuple[int, int, int, int, int], tuple[bytes, bool]]] = {}
        self._total = 0

    def get(self, path: str, st: os.stat_result) -> tuple[bytes, bool] | None:
        """The bytes of ``path`` and whether it had a precompressed sibling, if kept
        and ``st`` says it has not changed since."""
        entry = self._entries.get(path)
        if entry is None:
            return None
        if entry[0] != (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns):
            self._drop(path)
            return None
        return entry[1]

    def put(self, path: str, st: os.stat_result, data: bytes, siblings: bool = False) -> None:
        """Keep ``data``, read from ``path`` after ``st`` was taken, if it is all of a
        small file that has settled; the oldest entries make room. ``siblings``:
        a precompressed sibling of it was seen."""
        size = len(data)
        if size != st.st_size or size > self.file_max or not S_ISREG(st.st_mode):
            return
        if self.clock() - max(st.st_mtime, st.st_ctime) < self.settle:
            return  # racy: a write in the same tick would go unseen
        self._drop(path)
        entries = self._entries
        while entries and self._total + size > self.total_max:
            self._drop(next(iter(entries)))
        key = (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        entries[path] = (key, (data, siblings))
        self._total += size

    def holds(self, path: str) -> bool:
        """True when ``path`` or one of its precompressed siblings is kept."""
        entries = self._entries
        return path in entries or any(path + suffix in entries for _, suffix in SIBLINGS)

    def clear(self) -> None:
        self._entries.clear()
        self._total = 0

    def _drop(self, path: str) -> None:
        entry = self._entries.pop(path, None)
        if entry is not None:
            self._total -= len(entry[1][0])


SMALL_FILES = SmallFiles()


# -- zero-copy sending ------------------------------------------------------------
#
# PERF: uvloop has no ``loop.sendfile`` for its transports (it copied every large
# file through Python: 1.13x aiohttp per server CPU-second on 1 MiB, 3.8x with
# this; bench/files.py, docs/responses.md). Both loops' transports write straight
# to the socket when their buffer is empty, so once it is, the file can go from
# the page cache to the socket with sendfile(2), the transport none the wiser: one
# implementation for both loops (asyncio's own loop.sendfile does the same, with a
# buffer-empty waiter and a pause of reading around it).
#
# SECURITY: the socket's descriptor number is only trusted until the first await: a
# transport closed meanwhile frees the number for another connection. Any wait for
# the socket to drain therefore happens on a duplicate (``os.dup``) taken before
# awaiting, which names this socket for as long as it is open, and every later
# sendfile(2) goes to that duplicate. The duplicate is closed when the body ends,
# however it ends (a client gone, a cancelled handler).

_SENDFILE = getattr(os, "sendfile", None)
_FADVISE = getattr(os, "posix_fadvise", None)
READ_AHEAD = 4 * 1024 * 1024  # bytes of a large body the thread asks the kernel to read
# errors of a peer that went away, from sendfile(2) on a socket
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
# how often a wait for a socket that takes nothing checks that the transport lives
RECHECK = 1.0
# ServerConfig.send_timeout's default, for a sink that has no server config (a
# mocked request's)
DEFAULT_SEND_TIMEOUT = 60.0


def send_timeout_of(sink: object) -> float:
    """The server's ``send_timeout`` for the connection behind ``sink`` (a sink
    without one, such as a mocked request's, gets the default)."""
    return float(getattr(sink, "send_timeout", DEFAULT_SEND_TIMEOUT))


async def _zero_copy(sink: ResponseSink, in_fd: int, offset: int, count: int) -> int | None:
    """Send ``count`` bytes of ``in_fd`` from ``offset`` by sendfile(2), after what
    the transport holds; the bytes sent, or None when this connection cannot
    (TLS, no socket, no sendfile(2)): then nothing was sent.

    SECURITY: a client that stops reading leaves the transport's buffer empty
    (sendfile(2) bypasses it), so the server's send_timeout sweep never sees it:
    once the socket has taken nothing for ``send_timeout`` seconds the transport is
    aborted and ClientDisconnectedError raised here (the handler, the file and the
    connection were held for ever)."""
    if _SENDFILE is None:
        return None
    await sink.drain()  # the head, and answers batched before it, leave the batch
    transport = sink.transport
    if transport is None:
        raise ClientDisconnectedError("Connection lost")
    if transport.get_extra_info("sslcontext") is not None:
        return None
    sock = transport.get_extra_info("socket")
    if sock is None:
        return None
    loop = asyncio.get_running_loop()
    out_fd = sock.fileno()
    dup = -1
    sent = 0
    try:
        while transport.get_write_buffer_size():  # the transport's bytes go first
            if dup < 0:
                dup = os.dup(out_fd)
            await _writable(loop, dup, transport)  # the server's sweep times this wait
        if dup >= 0:
            out_fd = dup  # awaited: only the duplicate is sure to be this socket
        limit = send_timeout_of(sink)
        stalled: float | None = None  # since when sendfile(2) has sent nothing
        while sent < count:
            try:
                n = _SENDFILE(out_fd, in_fd, offset + sent, count - sent)
            except BlockingIOError:
                if dup < 0:
                    dup = out_fd = os.dup(out_fd)  # before the first await (SECURITY)
                now = loop.time()
                if stalled is None:
                    stalled = now
                elif now - stalled > limit:  # looked at every RECHECK at most
                    logger.debug("Send timed out: the client does not read the file")
                    transport.abort()
                    raise ClientDisconnectedError("Send timed out") from None
                await _writable(loop, dup, transport)
                continue
            except _GONE as exc:
                raise ClientDisconnectedError(str(exc)) from exc
            except OSError:
                if sent:
                    raise
                return None  # a file sendfile(2) cannot read (EINVAL): read and write it
            if not n:
                break  # end of file: it shrank (the caller ends the connection)
            stalled = None  # progress
            sent += n
            sink.sent_directly(n)  # the access log's %b counts them
    finally:
        if dup >= 0:
            os.close(dup)
    return sent


async def _writable(loop: asyncio.AbstractEventLoop, fd: int, transport: Any) -> None:
    """Wait until the socket ``fd`` (a duplicate: the transport owns the original)
    can take bytes, or RECHECK seconds; raise ClientDisconnectedError once the
    transport is closing."""
    waiter = loop.create_future()

    def wake() -> None:
        if not waiter.done():
            waiter.set_result(None)

    loop.add_writer(fd, wake)
    # NOTE: a transport closed while its client reads nothing never makes the
    # duplicate writable: look at it now and then instead of waiting forever
    timer = loop.call_later(RECHECK, wake)
    try:
        await waiter
    finally:
        timer.cancel()
        loop.remove_writer(fd)
    if transport.is_closing():
        raise ClientDisconnectedError("Connection closed while sending a file")


class FileResponse(StreamResponse):
    """A file from disk: conditional requests, ranges and precompressed siblings."""

    _plan: _Plan | None = None  # decided ahead (by a static route), else in prepare()

    def __init__(
        self,
        path: str | os.PathLike[str],
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        status: int = 200,
        reason: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status=status, reason=reason, headers=headers)
        self._path = path if isinstance(path, pathlib.Path) else pathlib.Path(path)
        self._chunk_size = chunk_size

    async def prepare(self, request: BaseRequest) -> StreamResponse | None:
        if self._eof_sent:
            return None
        if self._sink is not None:
            return self
        plan = self._plan
        if plan is None:
            asked = _Asked.of(request)
            path = os.fspath(self._path)
            plan = plan_cached(path, asked) if SMALL_FILES.holds(path) else None
            if plan is None:
                plan = await plan_in_thread(path, asked)
        self._plan = None
        fd = plan.fd
        try:
            return await self._send_plan(request, plan)
        finally:
            if fd >= 0:
                os.close(fd)

    async def _send_plan(self, request: BaseRequest, plan: _Plan) -> StreamResponse | None:
        status = plan.status
        st = plan.st
        if st is None or status in (403, 404):
            self.set_status(status)
            return await super().prepare(request)
        headers = self._headers
        tag, last_modified = _validators(st)
        if plan.varies or (status == 304 and self._compression and self._compression_force is None):
            # RFC 9110 12.5.5: which file (or coding) depends on Accept-Encoding;
            # 15.4.5: a 304 carries the Vary its 200 would
            headers[hdrs.VARY] = add_vary(headers.get(hdrs.VARY), hdrs.ACCEPT_ENCODING)
        if status == 304:
            self.set_status(status)
            headers[hdrs.ETAG] = tag
            headers[hdrs.LAST_MODIFIED] = last_modified
            return await super().prepare(request)
        if status in _UNCODED:
            self._compression = False  # see _start_compression
        if status == 412:
            self.set_status(status)
            self.content_length = 0
            return await super().prepare(request)
        if status == 416:
            headers["Content-Range"] = f"bytes */{st.st_size}"
            self.set_status(status)
            return await super().prepare(request)
        if status == 206:
            self.set_status(status)
            headers["Content-Range"] = content_range(
                plan.start, plan.start + plan.count, st.st_size
            )
        if hdrs.CONTENT_TYPE not in headers:
            headers[hdrs.CONTENT_TYPE] = _content_type(self._path)
        if plan.encoding is not None:
            headers[hdrs.CONTENT_ENCODING] = plan.encoding
            self._compression = False  # never compressed twice
        headers[hdrs.ETAG] = tag
        headers[hdrs.LAST_MODIFIED] = last_modified
        self.content_length = plan.count
        headers["Accept-Ranges"] = "bytes"
        body = plan.body
        await request._prepare_hook(self)
        if body is not None and not self._compression:
            self._send_small(request, body)
            return self
        self._start(request)
        if plan.count == 0 or body_forbidden(request.method, self._status):
            return self
        if body is not None:
            await self.write(body)
        elif plan.fd >= 0:
            await self._send_file(request, plan.fd, plan.start, plan.count)
        return self

    def _start_compression(self, request: BaseRequest) -> None:
        # RFC 9110 14.4: a Content-Range counts bytes of the representation the
        # 200 would carry; a 206 compressed on the way would say offsets of the
        # file over bytes of another coding. 412 and 416 have no body to code.
        # (Checked here too: a prepare hook may enable compression late.)
        if self._status not in _UNCODED:
            super()._start_compression(request)

    def _send_small(self, request: BaseRequest, body: bytes) -> None:
        """Head and a small body in one write, after the prepare hooks ran."""
        # PERF: what StreamResponse.prepare + write + write_eof do, in one go
        self._req = request
        items = self._head_items(request, len(body))
        if body_forbidden(request.method, self._status):
            body = b""
        sink = request._sink
        sink.send_response(
            request.version, self._status, self._reason, items, body, self._keep_alive
        )
        self._body_length = len(body)
        self._eof_sent = True

    async def _send_file(self, request: BaseRequest, fd: int, offset: int, count: int) -> None:
        """``count`` bytes from ``offset``: by sendfile(2) where the transport can."""
        sink = self._sink
        assert sink is not None
        sent: int | None = None
        if not NOSENDFILE and self._compressor is None:
            sent = await _zero_copy(sink, fd, offset, count)
            if sent is not None:
                self._body_length += sent
        if sent is None:
            sent = await self._send_chunks(fd, offset, count)
        if sent < count:
            self._truncated(request, sent, count)

    async def _send_chunks(self, fd: int, offset: int, count: int) -> int:
        """The fallback: ``chunk_size`` reads in a thread, each written and drained."""
        loop = asyncio.get_running_loop()
        sent = 0
        while sent < count:
            size = min(self._chunk_size, count - sent)
            chunk = await loop.run_in_executor(None, os.pread, fd, size, offset + sent)
            if not chunk:
                break  # the file shrank
            await self.write(chunk)
            sent += len(chunk)
        return sent

    def _truncated(self, request: BaseRequest, sent: int, count: int) -> None:
        """The file changed under us: end the connection, the response cannot be whole."""
        logger.warning(
            "%s shrank while being sent (%d of %d bytes): closing the connection",
            self._path,
            sent,
            count,
        )
        self._keep_alive = False
        self._eof_sent = True
        transport: Any = request._sink.transport
        if transport is not None:
            transport.abort()

    def __repr__(self) -> str:
        return f"<FileResponse {self._path} {self.reason}>"
