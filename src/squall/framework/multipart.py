"""``request.multipart()``: aiohttp's streaming MultipartReader and BodyPartReader,
a thin async layer over the sans-IO decoder in ``squall.multipart``.

Theory of operation: one ``_Feed`` per body pulls bytes from the body source,
feeds the decoder and hands out its events; the reader turns ``PartStarted`` into
a ``BodyPartReader`` (or a nested ``MultipartReader`` for a ``multipart/*`` part,
which decodes that part's bytes with a decoder of its own), and each part reader
takes ``PartData`` until ``PartEnded``.

Rules:
1. Nothing is read ahead of the handler: a part's bytes are pulled as it reads
   them, and ``next()`` first drops whatever the previous part left unread.
2. ``max_size`` (0: none) bounds the bytes taken from the source, checked as they
   arrive: a route's ``max_body``, or ``client_max_size`` under ``post()``. A
   part's ``read()`` (whole, into memory) is bounded by ``client_max_size`` as on
   aiohttp; ``read_chunk()`` is not.
3. The decoder's errors become HTTP errors here (400, 413, 415), so a hostile
   body gets a short answer and never a traceback.
4. Nesting is bounded (``max_depth``, 4 by default): a ``multipart/*`` part one
   level deeper is a 400 before any of its bytes are read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy

from squall.framework.exceptions import (
    HTTPBadRequest,
    HTTPException,
    HTTPRequestEntityTooLarge,
    HTTPUnsupportedMediaType,
)
from squall.http import hdrs
from squall.http.mediatype import parse_content_type
from squall.multipart import (
    NEED_DATA,
    Event,
    MultipartDecoder,
    MultipartError,
    PartData,
    PartStarted,
    disposition_param,
    parse_content_disposition,
)
from squall.multipart.codecs import Decompressor, content_decoder, transfer_decoder
from squall.multipart.decoder import DEFAULT_MAX_PARTS

_LINE_LIMIT = 2**19  # as request.content.readline()
# SECURITY: each level of nesting decodes every byte of the parts below it once
# more, and walking the levels recurses; RFC 7578 4.3 deprecates multipart/mixed in
# forms, and mail nests two or three levels (mixed, alternative, related)
DEFAULT_MAX_DEPTH = 4
_DECODE_STEP = 64 * 1024


class _ByteSource(Protocol):
    async def readany(self) -> bytes: ...


class InvalidBodyError(HTTPBadRequest, ValueError):
    """A multipart body, a part or a form that cannot be read: a 400 if uncaught.

    NOTE: aiohttp raises a ValueError there (its own, a JSONDecodeError, a
    UnicodeDecodeError...), which is a 500 unless caught; this is still a
    ValueError for handlers that catch it, and its ``str()`` is the message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(text=message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# NOTE: ``reason`` is the response's (the HTTP reason): UnicodeDecodeError keeps its
# own in its C struct, set by its __init__, unseen behind the property
class TextDecodeError(InvalidBodyError, UnicodeDecodeError):  # type: ignore[override]
    """Bytes that are not text in their charset: the UnicodeDecodeError aiohttp
    lets out of ``text()``, and a 400 if uncaught."""

    def __init__(self, message: str, err: UnicodeDecodeError) -> None:
        UnicodeDecodeError.__init__(self, err.encoding, err.object, err.start, err.end, err.reason)
        InvalidBodyError.__init__(self, message)


class CharsetError(InvalidBodyError, LookupError):
    """A charset that names no text codec: the LookupError aiohttp lets out of
    ``text()``, and a 400 if uncaught."""


def http_error(exc: MultipartError, max_size: int = 0) -> HTTPException:
    """The HTTP answer a decoder error earns: a short text, never the input."""
    if exc.status == 413:
        return HTTPRequestEntityTooLarge(max_size=max_size, text=str(exc))
    if exc.status == 415:
        return HTTPUnsupportedMediaType(text=str(exc))
    return InvalidBodyError(str(exc))


@dataclass(frozen=True, slots=True)
class FileField:
    """A file part of ``await request.post()``: ``file`` is a spooled temporary
    file (memory up to a small size, then disk), positioned at its start."""

    name: str
    filename: str
    file: BinaryIO
    content_type: str
    headers: CIMultiDictProxy[str]


class _Feed:
    """The decoder and the source it reads from, shared by a reader and its parts."""

    __slots__ = ("_decoder", "_eof", "_max_size", "_source", "consumed")

    def __init__(self, source: _ByteSource, decoder: MultipartDecoder, max_size: int) -> None:
        self._source = source
        self._decoder = decoder
        self._max_size = max_size
        self._eof = False
        self.consumed = 0

    def poll(self) -> Event | None:
        """The next event if it needs no more input (None otherwise)."""
        try:
            event = self._decoder.next_event()
        except MultipartError as exc:
            raise http_error(exc, self._max_size) from None
        return None if event is NEED_DATA else event  # type: ignore[return-value]

    async def next_event(self) -> Event | None:
        """The next event, reading as needed; None once the input is all read."""
        decoder = self._decoder
        while True:
            event = self.poll()
            if event is not None:
                return event
            if self._eof:
                return None  # the decoder is complete (it raises otherwise)
            data = await self._source.readany()
            try:
                if not data:
                    self._eof = True
                    decoder.feed_eof()
                    continue
                self.consumed += len(data)
                if self._max_size and self.consumed > self._max_size:
                    raise HTTPRequestEntityTooLarge(
                        max_size=self._max_size, actual_size=self.consumed
                    )
                decoder.feed(data)
            except MultipartError as exc:
                raise http_error(exc, self._max_size) from None


class BodyPartReader:
    """One part of a multipart body, read as it arrives (aiohttp's API)."""

    chunk_size = 8192

    def __init__(
        self,
        feed: _Feed,
        headers: CIMultiDictProxy[str],
        *,
        subtype: str = "mixed",
        default_charset: str | None = None,
        client_max_size: int = sys.maxsize,
    ) -> None:
        self.headers = headers
        self._feed = feed
        self._is_form_data = subtype == "form-data"
        self._default_charset = default_charset
        self._client_max_size = client_max_size
        self._pending = b""  # data of the part not handed out yet, from _offset on
        self._offset = 0
        self._at_eof = False

    # -- reading -------------------------------------------------------------

    async def read_chunk(self, size: int = chunk_size) -> bytes:
        """Up to ``size`` bytes of the part, as sent; b"" at its end."""
        data = self._pending
        start = self._offset
        if start >= len(data):
            if self._at_eof:
                return b""
            event = await self._feed.next_event()
            if not isinstance(event, PartData):
                self._at_eof = True  # PartEnded (anything else cannot come here)
                return b""
            data = event.data
            start = 0
        end = start + size
        if end < len(data):
            # PERF: an offset, not data[size:]: re-slicing the rest on every call
            # copied a 256 KiB chunk 32 times over for the default 8 KiB reads
            self._pending = data
            self._offset = end
            return data[start:end]
        self._pending = b""
        self._offset = 0
        if not self._at_eof:
            self._peek_end()
        return data[start:] if start else data

    def _peek_end(self) -> None:
        """Mark the end as soon as the decoder has seen it, without waiting
        (so ``at_eof()`` is true after the last chunk, as on aiohttp)."""
        event = self._feed.poll()
        if isinstance(event, PartData):
            self._pending = event.data
        elif event is not None:
            self._at_eof = True

    async def read(self, *, decode: bool = False) -> bytes | bytearray:
        """The whole part (at most ``client_max_size`` bytes, else 413);
        ``decode=True`` undoes its transfer encoding and content coding.

        A ``bytearray``, as aiohttp's (``b""`` when nothing is left).
        """
        if self.at_eof():
            return b""
        return bytearray(await self._read(decode))

    async def _read(self, decode: bool = False) -> bytes:
        """``read()`` as bytes, for the readers here (no copy into a bytearray)."""
        parts = []
        size = 0
        limit = self._client_max_size
        while chunk := await self.read_chunk(_DECODE_STEP):
            size += len(chunk)
            if size > limit:
                raise HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
            parts.append(chunk)
        data = b"".join(parts)
        return self.decode(data) if decode else data

    async def readline(self) -> bytes:
        """The next line of the part, with its line break; b"" at its end."""
        buf = b""
        while True:
            index = buf.find(b"\n")
            if index >= 0:
                self._pending = buf[index + 1 :] + self._pending[self._offset :]
                self._offset = 0
                if not self._pending and not self._at_eof:
                    self._peek_end()
                return buf[: index + 1]
            if len(buf) > _LINE_LIMIT:
                raise HTTPBadRequest(text=f"Got more than {_LINE_LIMIT} bytes when reading a line")
            chunk = await self.read_chunk(_DECODE_STEP)
            if not chunk:
                return buf
            buf += chunk

    async def release(self) -> None:
        """Read the rest of the part and drop it."""
        self._pending = b""
        self._offset = 0
        while not self._at_eof:
            event = await self._feed.next_event()
            if not isinstance(event, PartData):
                self._at_eof = True

    async def text(self, *, encoding: str | None = None) -> str:
        """The part decoded, as text in its charset (utf-8 by default)."""
        data = await self._read(decode=True)
        return _text(data, encoding or self.get_charset(default="utf-8"))

    async def json(self, *, encoding: str | None = None) -> Any:
        """The part parsed as JSON; None for an empty part; 400 for bad JSON."""
        data = await self._read(decode=True)
        if not data:
            return None
        text = _text(data, encoding or self.get_charset(default="utf-8"))
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # JSONDecodeError included
            raise InvalidBodyError("Invalid JSON in a part") from None

    async def form(self, *, encoding: str | None = None) -> list[tuple[str, str]]:
        """The part parsed as an url-encoded form."""
        data = await self._read(decode=True)
        if not data:
            return []
        charset = encoding or self.get_charset(default="utf-8")
        try:
            text = _text(data, charset).rstrip()
        except TextDecodeError:  # aiohttp: a plain ValueError here
            raise InvalidBodyError("Part is not valid text") from None
        try:
            return parse_qsl(text, keep_blank_values=True, encoding=charset)
        except (LookupError, ValueError):
            raise InvalidBodyError("Unsupported charset") from None

    def at_eof(self) -> bool:
        """True once the part's end was reached."""
        return self._at_eof and self._offset >= len(self._pending)

    def __aiter__(self) -> BodyPartReader:
        return self

    async def __anext__(self) -> bytes | bytearray:
        data = await self.next()
        if data is None:
            raise StopAsyncIteration
        return data

    async def next(self) -> bytes | bytearray | None:
        data = await self.read()
        return data or None

    # -- decoding --------------------------------------------------------------

    def decode(self, data: bytes) -> bytes:
        """Undo the part's Content-Transfer-Encoding (base64, quoted-printable),
        then, outside ``multipart/form-data`` (RFC 7578 4.8), its Content-Encoding
        (gzip, deflate, br, zstd); the result is bounded by ``client_max_size``."""
        try:
            decoder = transfer_decoder(self.headers.get("Content-Transfer-Encoding"))
            data = decoder.decode(data) + decoder.flush()
            if not data:
                return data  # an empty part is empty in any coding, as on aiohttp
            inflater = self._inflater()
            if inflater is None:
                return data
            inflater.feed(data)
            parts = []
            size = 0
            while chunk := inflater.read(_DECODE_STEP):
                size += len(chunk)
                if size > self._client_max_size:
                    raise HTTPRequestEntityTooLarge(
                        max_size=self._client_max_size, actual_size=size
                    )
                parts.append(chunk)
            inflater.finish()
            return b"".join(parts)
        except MultipartError as exc:
            raise http_error(exc, self._client_max_size) from None

    async def decode_iter(self, data: bytes) -> AsyncIterator[bytes]:
        """``decode(data)`` as an async iterator (aiohttp's name for it)."""
        yield self.decode(data)

    def _inflater(self) -> Decompressor | None:
        """The decoder of the part's Content-Encoding; None when it has none to
        undo (RFC 7578 4.8: a ``multipart/form-data`` part has no content coding)."""
        coding = self.headers.get(hdrs.CONTENT_ENCODING)
        if self._is_form_data or not coding:
            return None
        return content_decoder(coding)

    async def _decoded_chunks(self, size: int) -> AsyncIterator[bytes]:
        """The part's bytes as ``decode()`` gives them, ``read_chunk(size)`` at a time.

        NOTE: the decoders are incremental: a base64 quartet or a compressed block
        cut between two chunks is decoded whole (aiohttp decodes each chunk alone).
        """
        transfer = transfer_decoder(self.headers.get("Content-Transfer-Encoding"))
        inflater = self._inflater()
        while True:
            chunk = await self.read_chunk(size)
            data = transfer.decode(chunk) if chunk else transfer.flush()
            if inflater is None:
                if data:
                    yield data
            else:
                if data:
                    inflater.feed(data)
                while out := inflater.read(size):
                    yield out
                if not chunk:
                    inflater.finish()
            if not chunk:
                return

    def get_charset(self, default: str) -> str:
        """The part's charset parameter, else the form's ``_charset_``, else ``default``."""
        _, params = parse_content_type(self.headers.get(hdrs.CONTENT_TYPE, ""))
        return params.get("charset") or self._default_charset or default

    @property
    def name(self) -> str | None:
        """The Content-Disposition ``name``; None when absent."""
        return disposition_param(self._disposition, "name")

    @property
    def filename(self) -> str | None:
        """The Content-Disposition ``filename`` as the client sent it.

        SECURITY: the client's text, not a safe path: see ``squall.framework.uploads``.
        """
        return disposition_param(self._disposition, "filename")

    @property
    def _disposition(self) -> dict[str, str]:
        params: dict[str, str] | None = self.__dict__.get("_params")
        if params is None:
            try:
                _, params = parse_content_disposition(self.headers.get(hdrs.CONTENT_DISPOSITION))
            except MultipartError as exc:
                raise http_error(exc) from None
            self.__dict__["_params"] = params
        return params


def _text(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset)
    except UnicodeDecodeError as err:
        raise TextDecodeError("Part is not valid text", err) from None
    except (LookupError, ValueError):  # the client's charset
        raise CharsetError("Unsupported charset") from None


class _PartSource:
    """A part's bytes as a source for the nested reader that decodes them."""

    __slots__ = ("_part",)

    def __init__(self, part: BodyPartReader) -> None:
        self._part = part

    async def readany(self) -> bytes:
        return await self._part.read_chunk(_DECODE_STEP)


class MultipartReader:
    """A multipart body, part by part (aiohttp's API): ``await reader.next()``
    gives each part in turn, then None; ``async for part in reader`` too. A
    ``multipart/*`` part comes as a nested reader, at most ``max_depth`` levels
    deep (deeper: 400)."""

    def __init__(
        self,
        headers: Mapping[str, str],
        content: _ByteSource,
        *,
        client_max_size: int = sys.maxsize,
        max_size: int = 0,
        max_parts: int = DEFAULT_MAX_PARTS,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self.headers = headers
        mimetype, params = parse_content_type(headers.get(hdrs.CONTENT_TYPE, ""))
        if not mimetype.startswith("multipart/"):
            raise InvalidBodyError("multipart/* content type expected")
        self._subtype = mimetype.partition("/")[2]
        try:
            decoder = MultipartDecoder(params.get("boundary", ""), max_parts=max_parts)
        except MultipartError as exc:
            raise http_error(exc) from None
        self._feed = _Feed(content, decoder, max_size)
        self._client_max_size = client_max_size
        self._max_parts = max_parts
        self._max_depth = max_depth
        self._depth = 0  # how deep inside the body's own reader this one is
        self._default_charset: str | None = None
        self._last: BodyPartReader | None = None
        self._at_eof = False

    def at_eof(self) -> bool:
        """True once the closing boundary was read."""
        return self._at_eof

    @property
    def consumed(self) -> int:
        """Bytes taken from the source so far."""
        return self._feed.consumed

    def __aiter__(self) -> MultipartReader:
        return self

    async def __anext__(self) -> MultipartReader | BodyPartReader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    async def next(self) -> MultipartReader | BodyPartReader | None:
        """The next part (what the previous one left unread is dropped); None at the end."""
        while True:
            part = await self._next_part()
            if part is None:
                return None
            # RFC 7578 4.6: a first form field named _charset_ is the form's default
            if (
                self._subtype == "form-data"
                and self._default_charset is None
                and isinstance(part, BodyPartReader)
                and part.name == "_charset_"
                and part.filename is None
            ):
                value = await part.read_chunk(32)
                if len(value) > 31 or (not part.at_eof() and await part.read_chunk(1)):
                    raise InvalidBodyError("Invalid _charset_ field")
                self._default_charset = value.strip().decode("ascii", "replace")
                continue
            return part

    async def _next_part(self) -> MultipartReader | BodyPartReader | None:
        if self._at_eof:
            return None
        if self._last is not None:
            await self._last.release()
            self._last = None
        event = await self._feed.next_event()
        if not isinstance(event, PartStarted):
            # Finished (or the input's end): drop the epilogue, bounded by the decoder
            self._at_eof = True
            while await self._feed.next_event() is not None:
                pass
            return None
        headers = CIMultiDictProxy(CIMultiDict(event.headers))
        part = BodyPartReader(
            self._feed,
            headers,
            subtype=self._subtype,
            default_charset=self._default_charset,
            client_max_size=self._client_max_size,
        )
        self._last = part
        if parse_content_type(headers.get(hdrs.CONTENT_TYPE, ""))[0].startswith("multipart/"):
            if self._depth >= self._max_depth:
                raise InvalidBodyError(f"Multipart nested over {self._max_depth} levels deep")
            nested = MultipartReader(
                headers,
                _PartSource(part),
                client_max_size=self._client_max_size,
                max_parts=self._max_parts,
                max_depth=self._max_depth,
            )
            nested._depth = self._depth + 1
            return nested
        return part

    async def release(self) -> None:
        """Read every remaining part and drop it."""
        while (part := await self.next()) is not None:
            await part.release()


async def iter_parts(reader: MultipartReader) -> AsyncIterator[BodyPartReader]:
    """Every leaf part, nested ``multipart/*`` parts walked depth first."""
    async for part in reader:
        if isinstance(part, MultipartReader):
            async for inner in iter_parts(part):
                yield inner
        else:
            yield part
