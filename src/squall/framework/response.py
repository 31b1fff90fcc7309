"""``Response``: a response whose whole body is known up front, sent in one write.

Its body may also be a file object or an async iterable, as on aiohttp: those are
read when the response is sent, in chunks (a real file in a thread), and closed
after it.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import re
import stat
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from multidict import CIMultiDict, istr

from squall.framework.compression import (
    ContentCoding,
    compress_whole,
    make_compressor,
    run_compressor,
)
from squall.framework.streamresponse import (
    _CONTENT_LENGTH,
    _CONTENT_TYPE,
    ResponseKey,
    StreamResponse,
)
from squall.http import hdrs
from squall.http.status import REASONS as _REASONS
from squall.http.status import bodiless_status, body_forbidden
from squall.multipart.errors import MultipartError
from squall.typedefs import MalformedBodyError

if TYPE_CHECKING:
    from squall.framework.multipart import BodyPartReader
    from squall.framework.request import BaseRequest


# PERF: the statuses whose head is the four standard lines, in one lookup. Not:
# 1xx (refused unless a 101 to an upgrade request), 204 and 304 (no body), 205
# (an empty body whatever the handler gave) and anything outside 100-599
# (refused): see StreamResponse._frame and _check_status.
_SIMPLE_STATUSES = frozenset(range(200, 600)) - {204, 205, 304}
# the fields the head writes itself, or that decide how the body is framed
_HEAD_OWN = frozenset(
    {"content-type", "content-length", "transfer-encoding", "connection", "date", "server"}
)


class Response(StreamResponse):
    """A response whose whole body is known up front; sent in one write."""

    # PERF: the wire always takes ``_body`` (bytes); only ``body``/``text`` tell
    # "no body given" (None, as in aiohttp) from an empty one.
    _no_body = False
    _stream: Any = None  # a file object or async iterable read when sent

    def __init__(
        self,
        *,
        body: Any = None,
        status: int = 200,
        reason: str | None = None,
        text: str | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        charset: str | None = None,
        zlib_executor_size: int | None = None,
        zlib_executor: Any = None,
    ) -> None:
        if body is not None and text is not None:
            raise ValueError("body and text are not allowed together")
        if headers is None and (content_type is None or ";" not in content_type):
            # PERF: the common constructions, with no header dict built.
            if text is not None:
                if not isinstance(text, str):
                    raise TypeError(f"text argument must be str ({type(text)!r})")
                if content_type is None and charset is None:  # the default: no concatenation
                    lazy_ctype: str | None = "text/plain; charset=utf-8"
                    body = text.encode()
                else:
                    charset = charset or "utf-8"
                    lazy_ctype = (content_type or "text/plain") + "; charset=" + charset
                    body = text.encode(charset)
            elif content_type is not None:
                lazy_ctype = (
                    content_type if charset is None else content_type + "; charset=" + charset
                )
            else:
                lazy_ctype = None  # aiohttp ignores a charset without a content_type
            if reason is None and type(status) is int:  # PERF: StreamResponse.__init__ inlined
                self._status = status
                self._reason = _REASONS.get(status, "")
            else:
                self.set_status(status, reason)
            if lazy_ctype is not None:
                self._lazy_ctype = lazy_ctype
            if type(body) is bytes:
                self._body: bytes = body
            else:
                self._body = b""
                self.body = body
            if zlib_executor_size is not None or zlib_executor is not None:
                self._zlib_executor_size = zlib_executor_size
                self._zlib_executor = zlib_executor
            return
        # a copy: the response adds its own fields to it (see StreamResponse.__init__)
        real_headers: CIMultiDict[str] = CIMultiDict() if headers is None else CIMultiDict(headers)
        if content_type is not None and "charset" in content_type:
            raise ValueError("charset must not be in content_type argument")
        if text is not None:
            if _CONTENT_TYPE in real_headers:
                if content_type or charset:
                    raise ValueError(
                        "passing both Content-Type header and content_type or charset params "
                        "is forbidden"
                    )
            else:
                if not isinstance(text, str):
                    raise TypeError(f"text argument must be str ({type(text)!r})")
                # PERF: the common case fills the header and encodes directly.
                charset = charset or "utf-8"
                real_headers[_CONTENT_TYPE] = (
                    (content_type or "text/plain") + "; charset=" + charset
                )
                body = text.encode(charset)
                text = None
        elif _CONTENT_TYPE in real_headers:
            if content_type is not None or charset is not None:
                raise ValueError(
                    "passing both Content-Type header and content_type or charset params "
                    "is forbidden"
                )
        elif content_type is not None:
            if charset is not None:
                content_type += "; charset=" + charset
            real_headers[_CONTENT_TYPE] = content_type
        super().__init__(status=status, reason=reason)
        self._hdrs = real_headers
        if zlib_executor_size is not None or zlib_executor is not None:
            self._zlib_executor_size = zlib_executor_size
            self._zlib_executor = zlib_executor
        self._body = b""
        if text is not None:
            self.text = text
        else:
            self.body = body

    @property
    def body(self) -> Any:
        """The body; None when none was given (as in aiohttp), ``b""`` for an empty one.

        A file object or async iterable given as the body is returned as it is.
        """
        if self._stream is not None:
            return self._stream
        return None if self._no_body else self._body

    @body.setter
    def body(self, body: Any) -> None:
        if self._no_body:
            del self._no_body  # back to the class default
        if self._stream is not None:
            self._drop_stream()
        if body is None:
            self._body = b""
            self._no_body = True
        elif isinstance(body, bytes):
            self._body = body
        elif isinstance(body, bytearray | memoryview):
            self._body = bytes(body)
        elif isinstance(body, str):
            # aiohttp wraps a str body in a payload encoded as utf-8
            self._body = body.encode(self.charset or "utf-8")
            if _CONTENT_TYPE not in self._headers:
                self._headers[_CONTENT_TYPE] = "text/plain; charset=utf-8"
        elif isinstance(body, io.StringIO):  # in memory: its text, as a str body is sent
            self.body = body.read()
        elif isinstance(body, io.BytesIO):  # in memory: its bytes from where it stands
            self._body = body.read()
            if _CONTENT_TYPE not in self._headers:  # as aiohttp's payload sets it
                self._headers[_CONTENT_TYPE] = "application/octet-stream"
        elif isinstance(body, io.IOBase | AsyncIterable):
            self._set_stream(body)
        else:
            raise ValueError(f"Unsupported body type {type(body)!r}")

    def _set_stream(self, body: Any) -> None:
        """Take a file object or async iterable, with aiohttp's headers for it."""
        # NOTE: imported here: multipart.py builds on exceptions.py, which builds on this
        from squall.framework.multipart import BodyPartReader

        self._body = b""
        self._stream = body
        headers = self._headers
        if isinstance(body, BodyPartReader):  # a part of request.multipart(), as aiohttp
            ctype = "application/octet-stream"
            disposition = _part_disposition(body)
        else:
            ctype, disposition = _file_headers(body)
        if _CONTENT_TYPE not in headers:
            headers[_CONTENT_TYPE] = ctype
        if disposition is not None and hdrs.CONTENT_DISPOSITION not in headers:
            headers[hdrs.CONTENT_DISPOSITION] = disposition
        if not self._compression:
            # NOTE: the application's fast path sends a Response whole unless
            # ``_compression`` is set: a streamed body must go through ``_finish``.
            # ``compression`` still answers False until enable_compression().
            self._compression = True
            self._compression_routing = True

    def _drop_stream(self) -> None:
        """Forget a streamed body (a new body was set)."""
        self._stream = None
        if self._compression_routing:
            self._compression = self._compression_routing = False

    @property
    def compression(self) -> bool:
        return self._compression and not self._compression_routing

    @property
    def text(self) -> str | None:
        if self._stream is not None:
            return _peek_text(self._stream, self.charset or "utf-8")
        if self._no_body:
            return None
        return self._body.decode(self.charset or "utf-8")

    @text.setter
    def text(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text argument must be str ({type(text)!r})")
        if self.content_type == "application/octet-stream":
            self.content_type = "text/plain"
        if self.charset is None:
            self.charset = "utf-8"
        if self._no_body:
            del self._no_body
        if self._stream is not None:
            self._drop_stream()
        self._body = text.encode(self.charset or "utf-8")

    @property
    def content_length(self) -> int | None:
        if self._chunked:
            return None
        if _CONTENT_LENGTH in self._headers:
            return int(self._headers[_CONTENT_LENGTH])
        return None if self._stream is not None else len(self._body)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        raise RuntimeError("Content length is set automatically")

    async def write_eof(self, data: bytes = b"") -> None:
        """Finish the response, sending the body unless it was written by hand."""
        if self._eof_sent:
            return
        if self._sink is None:
            raise RuntimeError("Response has not been started")
        if self._stream is not None:
            await self._send_stream()
        elif self._body and not self._body_length:
            # prepared, then finished: the body goes out now, as on aiohttp
            await self.write(self._body)
        await super().write_eof(data)

    async def _send_stream(self, request: BaseRequest | None = None) -> None:
        """Write the streamed body (unless the status or HEAD forbid one), then close it;
        with ``request``, prepare the response once the first chunk is read."""
        source = self._stream
        try:
            chunks = _read_chunks(source, self.charset or "utf-8")
            if request is not None:
                # aiohttp holds a Response's head until its first body chunk: the
                # head goes out with data, after the handler's last word, and a
                # client still sending the part it gets back sees no answer before
                # that part has arrived (aiohttp's client closes the upload's file
                # when the answer's head comes: a head sent first cut its upload)
                try:
                    first = await anext(chunks, b"")
                except Exception as exc:  # nothing is out: the app answers it
                    raise FirstChunkError(_client_fault(exc)) from exc
                await self.prepare(request)  # the stream still set: its head
                if self._stream is not source:
                    return  # a prepare hook gave another body: write_eof sends it
                self._stream = None
                if first:
                    await self.write(first)
            self._stream = None
            if self._length_check:
                async for chunk in chunks:
                    await self.write(chunk)
        except ValueError as exc:
            fault = _client_fault(exc)
            if fault is exc:
                raise
            raise fault from exc
        finally:
            self._stream = None
            close = getattr(source, "aclose", None) or getattr(source, "close", None)
            if close is not None:
                result = close()
                if asyncio.iscoroutine(result):
                    await result

    async def _finish(self, request: BaseRequest) -> None:
        if self._sink is not None or self._stream is not None:  # a head before the body
            if self._sink is None:
                stream = self._stream
                if (
                    stream is not None
                    and not isinstance(stream, io.IOBase)  # a file's length is in its head
                    and not (body_forbidden(request.method, self._status) or self._status == 205)
                ):
                    await self._send_stream(request)
                else:
                    await self.prepare(request)
            await self.write_eof()
            return
        if self._eof_sent:
            return
        if request._has_prepare_hooks:
            await request._prepare_hook(self)
        await self._code_whole(request)
        self._send_whole(request)

    async def _code_whole(self, request: BaseRequest) -> None:
        """Compress the whole body, if compression is on and the client takes it."""
        if self._compression and not self._coded and self._stream is None:
            coding = self._coded_body(request)
            if coding is not None:
                compressor = make_compressor(coding, self._compression_strategy)
                self._set_coded(
                    coding,
                    await run_compressor(
                        partial(compress_whole, compressor),
                        self._body,
                        self._zlib_executor_size,
                        self._zlib_executor,
                    ),
                )

    def _coded_body(self, request: BaseRequest) -> ContentCoding | None:
        """The coding of a whole body, None to send it as it is."""
        self._coded = True
        if not self._body:
            return None  # nothing to gain, as aiohttp sends an empty body
        return self._choose_coding(request)

    def _set_coded(self, coding: ContentCoding, body: bytes) -> None:
        """The body from now on is the compressed one (what went on the wire)."""
        self._body = body
        self._headers[hdrs.CONTENT_ENCODING] = coding.value
        if _CONTENT_LENGTH in self._headers:
            self._headers[_CONTENT_LENGTH] = str(len(body))

    def _send_whole(self, request: BaseRequest) -> None:
        """Send head and body in one go (the response has not been prepared)."""
        body = self._body
        self._req = request
        status = self._status
        if (
            not self._chunked
            and status in _SIMPLE_STATUSES
            and request._head.method != "CONNECT"
            and (body or request._head.method != "HEAD")  # an empty HEAD: rule 3 of _frame
        ):
            if self._hdrs is None and not self._cookies and not self._plain_cookies:
                # PERF: nobody touched the headers: the head is four known lines.
                request._sink.send_simple(
                    request._head.version,
                    status,
                    self._reason,
                    self._lazy_ctype,
                    body,
                    request._head.method == "HEAD",
                    self._keep_alive,
                )
                self._body_length = len(body)
                self._eof_sent = True
                return
            head = request._head.method == "HEAD"
            # (a coded body's Content-Encoding goes after the cookies, as aiohttp's)
            plain = None if self._compression else self._plain_fields(head)
            if plain is not None:
                # PERF: fields that frame nothing (a cookie, a Location, a Vary) go
                # into the simple head: in process a Response with one added field
                # cost 9.8 µs against 6.1 for a bare one through _head_items
                request._sink.send_simple(
                    request._head.version,
                    status,
                    self._reason,
                    plain[0],
                    body,
                    head,
                    self._keep_alive,
                    plain[1],
                    plain[2],
                )
                self._body_length = len(body)
                self._eof_sent = True
                return
        if self._compression and not self._coded:
            # sent by the application's fast path: compressed here, on the loop
            coding = self._coded_body(request)
            if coding is not None:
                compressor = make_compressor(coding, self._compression_strategy)
                self._set_coded(coding, compress_whole(compressor, body))
                body = self._body
        items = self._head_items(request, len(body))
        if body_forbidden(request.method, status) or status == 205:
            body = b""
        sink = request._sink
        if self._wire_chunked:  # enable_chunked_encoding() on HTTP/1.1: one chunk
            sink.start_response(
                request._head.version, status, self._reason, items, True, self._keep_alive
            )
            self._sink = sink
            sink.send_body(body)
            sink.end_response()
        else:
            sink.send_response(
                request._head.version, status, self._reason, items, body, self._keep_alive
            )
        self._body_length = len(body)
        self._eof_sent = True

    def _plain_fields(
        self, head: bool
    ) -> tuple[str | None, list[tuple[str, str]], list[tuple[str, str]]] | None:
        """The Content-Type, the other fields and the cookies' fields when none of
        the fields is one the head writes itself (the framing, ``Connection``,
        ``Date``, ``Server``) and a ``Content-Type`` comes first if at all: then the
        simple head with those added is the head ``_head_items`` would make. None
        otherwise, and for a HEAD without a type (``_head_items`` gives it none,
        as aiohttp; the simple head would give the default)."""
        headers = self._headers
        content_type = None
        fields: list[tuple[str, str]] = []
        for name, value in headers.items():
            if name.lower() in _HEAD_OWN:
                # (the simple head spells it so: another spelling is sent as given)
                if fields or content_type is not None or name != "Content-Type":
                    return None
                content_type = value
            else:
                fields.append((name, value))
        if head and content_type is None:
            return None
        cookies = self._cookie_fields() if self._cookies or self._plain_cookies else []
        return content_type, fields, cookies

    async def prepare(self, request: BaseRequest) -> StreamResponse | None:
        """Send the head; the body follows at ``write_eof()`` or when returned.

        The length is the body's after the ``on_response_prepare`` hooks ran: a hook
        may change the body.
        """
        if self._eof_sent:
            return None
        if self._sink is not None:
            return self
        await request._prepare_hook(self)
        if not self._chunked and self._body:
            # the head declares the coded length; an empty body prepared to be
            # written after (``write()``) keeps the streaming compressor
            await self._code_whole(request)
        if (
            not self._chunked
            and _CONTENT_LENGTH not in self._headers
            and not bodiless_status(request.method, self._status)
        ):  # a HEAD answer declares the length a GET would have, if not 0 (RFC 9110 8.6)
            if self._stream is not None:
                size = _stream_size(self._stream)
                if size is not None:
                    self._headers[_CONTENT_LENGTH] = str(size)
            elif self._body or request.method != "HEAD":
                self._headers[_CONTENT_LENGTH] = str(len(self._body))
        self._start(request)
        return self


# -- bodies read when sent ------------------------------------------------------------

_CHUNK = 64 * 1024


def _stream_size(source: Any) -> int | None:
    """The bytes a binary regular file has left to send; None when unknown.

    NOTE: a text file's byte size is not what its decoded text encodes to (newlines
    are translated, the encodings may differ): its length is left to chunking. A
    pipe or socket has no size either (``st_size`` 0 would cut the body).
    """
    if isinstance(source, io.TextIOBase) or not isinstance(source, io.IOBase):
        return None
    try:
        st = os.fstat(source.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        return max(0, st.st_size - source.tell())
    except (OSError, ValueError, AttributeError):  # no file behind it, or closed
        return None


def _file_headers(body: Any) -> tuple[str, str | None]:
    """The Content-Type and Content-Disposition of a file object or async iterable
    sent as a body: from its name, if it has one."""
    name = getattr(body, "name", None)
    filename = (
        os.path.basename(name)
        if isinstance(name, str) and name and not (name[0] == "<" and name[-1] == ">")
        else None
    )
    if isinstance(body, io.TextIOBase):
        ctype = "text/plain; charset=utf-8"
    else:
        guessed = mimetypes.guess_type(filename)[0] if filename else None
        ctype = guessed or "application/octet-stream"
    if not filename:
        return ctype, None
    # SECURITY: the name percent-encoded: no quote, CR or LF reaches the head
    return ctype, f'attachment; filename="{quote(filename, "")}"'


# RFC 5322 3.2.4 qtext is %x21 / %x23-5B / %x5D-7E: the rest of the printable
# range (SP, HTAB, DQUOTE, backslash) goes in a quoted-pair, as aiohttp writes it
_NOT_QTEXT = re.compile(r'[\t "\\]')
_PRINTABLE = re.compile(r"[\t\x20-\x7e]*")


def _part_disposition(part: BodyPartReader) -> str | None:
    """``attachment`` with the part's ``name`` and ``filename``; None when it has neither.

    SECURITY: the client's text: the filename percent-encoded, the name quoted
    (or, outside printable ASCII, RFC 8187's ``name*=utf-8''``, percent-encoded),
    so no quote, CR or LF of theirs reaches the head.
    """
    params = []
    name = part.name
    if name is not None:
        if _PRINTABLE.fullmatch(name):
            params.append('name="' + _NOT_QTEXT.sub(r"\\\g<0>", name) + '"')
        else:
            params.append("name*=utf-8''" + quote(name, ""))
    filename = part.filename
    if filename is not None:
        params.append(f'filename="{quote(filename, "")}"')
    return "; ".join(["attachment", *params]) if params else None


class FirstChunkError(Exception):
    """A streamed body failed before its first chunk, so before the head went out:
    the application answers ``error`` as it answers a handler's exception."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _client_fault(exc: Exception) -> Exception:
    """A request body (a multipart part, request.content) sent back that broke on the
    way (a MultipartError, or one of the 400s of framework.multipart) is the client's
    fault, with no server error in the log (MalformedBodyError): a 400 before the head
    is out, else the connection drops. Anything else is what it is."""
    if isinstance(exc, MultipartError) or (
        isinstance(exc, ValueError) and getattr(exc, "status_code", None) == 400
    ):
        return MalformedBodyError(str(exc) or exc.__class__.__name__)
    return exc


async def _read_chunks(source: Any, encoding: str) -> AsyncIterator[bytes]:
    """The body's bytes: a file read in chunks (in a thread when it is a real file)."""
    from squall.framework.multipart import BodyPartReader  # NOTE: see Response._set_stream

    if isinstance(source, io.IOBase):
        try:
            source.fileno()
            blocking = True
        except (OSError, ValueError, AttributeError):  # in memory: reads do not block
            blocking = False
        loop = asyncio.get_running_loop()
        while True:
            if blocking:
                chunk = await loop.run_in_executor(None, source.read, _CHUNK)
            else:
                chunk = source.read(_CHUNK)
            if not chunk:
                return
            yield chunk.encode(encoding) if isinstance(chunk, str) else chunk
    elif isinstance(source, BodyPartReader):
        async for chunk in source._decoded_chunks(_CHUNK):
            yield chunk
    else:
        # a StreamReader (request.content, a client's response) by its chunks, not lines
        iter_any = getattr(source, "iter_any", None)
        async for chunk in iter_any() if iter_any is not None else source:
            yield chunk


def _peek_text(source: Any, encoding: str) -> str:
    """A file body's text, read and put back (aiohttp's ``text`` does this blocking read)."""
    if not isinstance(source, io.IOBase):
        raise TypeError("Unable to decode a streamed body before it is sent")
    try:
        position: int | None = source.tell()
    except (OSError, ValueError):
        position = None
    data = source.read()
    if position is not None:
        source.seek(position)
    return data if isinstance(data, str) else bytes(data).decode(encoding)


__all__ = ["Response", "ResponseKey", "StreamResponse", "istr"]
