"""``FileResponse``: a file from disk, with conditional and range requests.

The steps, each small and named:

1. ``_Asked``: what the request asks (Accept-Encoding, the If-* fields, Range),
   read on the loop into plain values.
2. ``plan_file`` (in a thread: every call that may block on the disk is there):
   pick the file (a precompressed ``.br``/``.zst``/``.gz`` sibling the client
   accepts, else the file), stat it, decide 304/412 by RFC 9110 13.2.2, open it,
   decide 200/206/416 by RFC 9110 14, and read a small body right away.
3. ``FileResponse.prepare``: turn the plan into a status and headers, then send
   the body: a small one in the same write as the head; a large one with
   ``loop.sendfile`` where the transport can, else in ``chunk_size`` reads.

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
from dataclasses import dataclass
from datetime import datetime
from mimetypes import MimeTypes
from stat import S_ISREG
from typing import TYPE_CHECKING, Any, BinaryIO

from squall.framework.streamresponse import StreamResponse
from squall.http import hdrs
from squall.http.conditional import evaluate_preconditions, if_range_holds
from squall.http.dates import parse_http_date
from squall.http.encoding import parse_accept_encoding
from squall.http.etag import ETag, parse_etag_list
from squall.http.ranges import RangeNotSatisfiable, content_range, parse_range_set, resolve_ranges
from squall.http.status import body_forbidden
from squall.typedefs import ClientDisconnectedError

if TYPE_CHECKING:
    from collections.abc import Mapping

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
    fobj: BinaryIO | None = None
    body: bytes | None = None  # the slice, read already (a small file)
    start: int = 0
    count: int = 0


def file_etag(st: os.stat_result) -> str:
    """The strong ETag value of a file: mtime (ns) and size in hex, as aiohttp makes it."""
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


def _select(
    path: pathlib.Path, accept_encoding: str
) -> tuple[pathlib.Path, os.stat_result, str | None]:
    """The file to send: a precompressed sibling the client takes, else ``path``."""
    if accept_encoding:
        qualities = parse_accept_encoding(accept_encoding)
        star = qualities.get("*")
        for coding, suffix in SIBLINGS:
            quality = qualities.get(coding, star)
            if not quality:
                continue
            sibling = path.with_name(path.name + suffix)
            try:
                st = sibling.lstat()  # SECURITY: a sibling is never a symlink
            except OSError:
                continue
            if S_ISREG(st.st_mode):
                return sibling, st, coding
    return path, path.stat(), None


def plan_file(path: pathlib.Path, asked: _Asked, small: int = SMALL_FILE) -> _Plan:
    """Decide the answer for ``path`` (runs in a thread: it stats, opens and reads).

    Raises OSError when the file cannot be reached (the caller answers 403 for
    a PermissionError, 404 otherwise).
    """
    file_path, st, encoding = _select(path, asked.accept_encoding)
    if not S_ISREG(st.st_mode):
        return _Plan(403)  # a directory, a socket, a device: never served
    status = evaluate_preconditions(  # RFC 9110 13.2.2
        asked.method,
        ETag(file_etag(st)),
        math.ceil(st.st_mtime),
        if_match=asked.if_match,
        if_none_match=asked.if_none_match,
        if_modified_since=asked.if_modified_since,
        if_unmodified_since=asked.if_unmodified_since,
    )
    if status is not None:
        return _Plan(status, st, encoding)
    fobj = file_path.open("rb")
    try:
        st = os.fstat(fobj.fileno())  # the file opened, not the one stat'ed before
        plan = _plan_range(asked, st)
        plan.encoding = encoding
        if plan.status == 416:
            fobj.close()
            return plan
        if plan.count <= small:
            plan.body = os.pread(fobj.fileno(), plan.count, plan.start) if plan.count else b""
            fobj.close()
        else:
            plan.fobj = fobj
        return plan
    except BaseException:
        fobj.close()
        raise


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
        self._path = pathlib.Path(path)
        self._chunk_size = chunk_size

    async def prepare(self, request: BaseRequest) -> StreamResponse | None:
        if self._eof_sent:
            return None
        if self._sink is not None:
            return self
        plan = self._plan
        if plan is None:
            loop = asyncio.get_running_loop()
            try:
                plan = await loop.run_in_executor(None, plan_file, self._path, _Asked.of(request))
            except PermissionError:
                plan = _Plan(403)
            except OSError:  # gone, not a directory, a symlink loop: 404 as aiohttp
                plan = _Plan(404)
        self._plan = None
        fobj = plan.fobj
        try:
            return await self._send_plan(request, plan)
        finally:
            if fobj is not None:
                fobj.close()

    async def _send_plan(self, request: BaseRequest, plan: _Plan) -> StreamResponse | None:
        status = plan.status
        st = plan.st
        if st is None or status in (403, 404):
            self.set_status(status)
            return await super().prepare(request)
        etag = file_etag(st)
        if status == 304:
            self.set_status(status)
            self.etag = etag
            self.last_modified = st.st_mtime
            return await super().prepare(request)
        if status == 412:
            self.set_status(status)
            self.content_length = 0
            return await super().prepare(request)
        if status == 416:
            self._headers["Content-Range"] = f"bytes */{st.st_size}"
            self.set_status(status)
            return await super().prepare(request)
        headers = self._headers
        if status == 206:
            self.set_status(status)
            headers["Content-Range"] = content_range(
                plan.start, plan.start + plan.count, st.st_size
            )
        if hdrs.CONTENT_TYPE not in headers:
            self.content_type = CONTENT_TYPES.guess_type(self._path)[0] or FALLBACK_CONTENT_TYPE
        if plan.encoding is not None:
            headers[hdrs.CONTENT_ENCODING] = plan.encoding
            headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
            self._compression = False  # never compressed twice
        self.etag = etag
        self.last_modified = st.st_mtime
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
        elif plan.fobj is not None:
            await self._send_file(request, plan.fobj, plan.start, plan.count)
        return self

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

    async def _send_file(
        self, request: BaseRequest, fobj: BinaryIO, offset: int, count: int
    ) -> None:
        """``count`` bytes from ``offset``: by sendfile(2) where the transport can."""
        sink = self._sink
        assert sink is not None
        sent: int | None = None
        if not NOSENDFILE and self._compressor is None:
            transport = sink.transport  # what the connection batched goes out first
            if transport is not None and transport.get_extra_info("sslcontext") is None:
                loop = asyncio.get_running_loop()
                try:
                    sent = await loop.sendfile(transport, fobj, offset, count, fallback=False)
                except (NotImplementedError, asyncio.SendfileNotAvailableError):
                    sent = None  # uvloop, or a transport without it: read and write
                except ConnectionError as exc:
                    raise ClientDisconnectedError(str(exc)) from exc
                if sent is not None:
                    self._body_length += sent
        if sent is None:
            sent = await self._send_chunks(fobj, offset, count)
        if sent < count:
            self._truncated(request, sent, count)

    async def _send_chunks(self, fobj: BinaryIO, offset: int, count: int) -> int:
        """The fallback: ``chunk_size`` reads in a thread, each written and drained."""
        loop = asyncio.get_running_loop()
        fd = fobj.fileno()
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
