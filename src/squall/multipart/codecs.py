"""Incremental decoders for what a body or a part may be wrapped in, each bounded.

- transfer encodings of a part (RFC 2045 6): ``base64``, ``quoted-printable``
  (``7bit``, ``8bit``, ``binary`` leave bytes as they are);
- content codings (RFC 9110 8.4.1) of a request body or of a part: ``gzip``,
  ``deflate`` (zlib-wrapped or raw, as senders disagree), ``br`` and ``zstd`` when
  the ``brotli`` / ``zstandard`` packages are installed.

SECURITY: a decompressor never returns more than ``max_length`` bytes per call, so a
small bomb (10 MB of gzip that expands to 10 GB) costs its reader only what the
reader asks for before its own size bound trips.
"""

from __future__ import annotations

import binascii
import importlib
import zlib
from types import ModuleType
from typing import Any, Protocol

from squall.multipart.errors import MultipartError


class BodyDecodeError(MultipartError):
    """Bytes that do not decode in their declared coding (400)."""


class UnsupportedCodingError(MultipartError):
    """A coding this server cannot decode (415, RFC 9110 15.5.16)."""

    status = 415


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:  # an extra that is not installed
        return None


_GZIP_MAGIC = b"\x1f\x8b"  # RFC 1952 2.3.1: ID1, ID2
_WINDOW_MIN = 64
_WINDOW_MAX = 64 * 1024
_brotli = _optional("brotli")
_zstd = _optional("zstandard")


# -- transfer encodings (RFC 2045 6) ----------------------------------------------


class TransferDecoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Identity:
    __slots__ = ()

    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_B64_NOISE = bytes(c for c in range(256) if c not in _B64_ALPHABET)


class _Base64:
    """Decodes whole quartets as they come; line breaks and other noise dropped
    (RFC 2045 6.8 tells decoders to ignore characters outside the alphabet)."""

    __slots__ = ("_carry",)

    def __init__(self) -> None:
        self._carry = b""

    def decode(self, data: bytes) -> bytes:
        data = self._carry + data.translate(None, _B64_NOISE)
        cut = len(data) - len(data) % 4
        self._carry = data[cut:]
        return self._b64(data[:cut])

    def flush(self) -> bytes:
        carry, self._carry = self._carry, b""
        return self._b64(carry) if carry else b""

    @staticmethod
    def _b64(data: bytes) -> bytes:
        try:
            return binascii.a2b_base64(data)
        except binascii.Error:
            raise BodyDecodeError("Invalid base64 in a part") from None


class _QuotedPrintable:
    """Decodes up to the last line break; the line in progress waits (a ``=``
    soft break or an ``=XX`` escape may be cut across chunks)."""

    __slots__ = ("_carry",)

    def __init__(self) -> None:
        self._carry = b""

    def decode(self, data: bytes) -> bytes:
        data = self._carry + data
        cut = data.rfind(b"\n") + 1
        if not cut and len(data) > 4096:  # a long line: keep only a possible escape
            cut = len(data) - 2
        self._carry = data[cut:]
        return binascii.a2b_qp(data[:cut])

    def flush(self) -> bytes:
        carry, self._carry = self._carry, b""
        return binascii.a2b_qp(carry)


def transfer_decoder(encoding: str | None) -> TransferDecoder:
    """The decoder for a part's Content-Transfer-Encoding (None: as is)."""
    name = (encoding or "").strip().lower()
    if name in ("", "7bit", "8bit", "binary"):
        return _Identity()
    if name == "base64":
        return _Base64()
    if name == "quoted-printable":
        return _QuotedPrintable()
    raise UnsupportedCodingError(f"Unknown Content-Transfer-Encoding: {name}")


# -- content codings (RFC 9110 8.4.1) ----------------------------------------------


class Decompressor(Protocol):
    """Feed input with ``feed``; ``read(max_length)`` returns at most that many
    bytes, b"" when it needs more input; ``finish()`` checks the stream ended."""

    def feed(self, data: bytes) -> None: ...
    def read(self, max_length: int) -> bytes: ...
    def finish(self) -> None: ...


class _Zlib:
    """gzip (RFC 1952) or deflate (RFC 9110 8.4.1.2) with a bounded output per read.

    RFC 1952 2.2: a gzip stream is a series of members, each a complete gzip file;
    after a member ends, the next must start with the gzip magic. Anything else
    after the end (of a member, or of the deflate stream) is an error, never dropped.

    PERF: input goes to the decompressor in windows that start at 64 bytes and
    double (up to 64 KiB) along a member: zlib copies whatever follows a member's
    end into ``unused_data``, so handing it a whole chunk at every member's start
    would be quadratic over a chunk of small members.
    """

    __slots__ = ("_at", "_gzip", "_in", "_obj", "_window")

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._obj: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        self._in = memoryview(b"")  # input fed; the decompressor has had it up to _at
        self._at = 0
        self._window = _WINDOW_MIN

    def feed(self, data: bytes) -> None:
        if self._obj is None and data:
            # RFC 9110 8.4.1.2 says zlib-wrapped; some senders send raw deflate
            raw = (data[0] & 0x0F) != 8
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        rest = self._in[self._at :]
        self._in = memoryview(bytes(rest) + data if rest else data)
        self._at = 0

    def read(self, max_length: int) -> bytes:
        obj = self._obj
        if obj is None:
            return b""
        while True:
            if obj.eof:
                obj = self._next_member()
                if obj is None:
                    return b""
            data = obj.unconsumed_tail  # what max_length held back last time
            if not data:
                start = self._at
                if start >= len(self._in):
                    return b""
                self._at = min(start + self._window, len(self._in))
                self._window = min(self._window * 2, _WINDOW_MAX)
                data = self._in[start : self._at]
            try:
                out: bytes = obj.decompress(data, max_length)
            except zlib.error:
                raise BodyDecodeError("Invalid compressed body") from None
            if obj.eof:  # what follows the end was handed over: take it back
                self._at -= len(obj.unused_data)
            if out:
                return out
            # no output: the input went into headers, or an empty member ended

    def _next_member(self) -> Any:
        """After the end of a stream: a decompressor for the next gzip member, or
        None while no byte follows. A lone first byte of the magic is enough to
        start: zlib checks the second when it comes."""
        start = self._at
        if start >= len(self._in):
            return None
        if not self._gzip or self._in[start] != _GZIP_MAGIC[0]:
            raise BodyDecodeError("Data after the end of the compressed body")
        self._obj = obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._window = _WINDOW_MIN
        return obj

    def finish(self) -> None:
        obj = self._obj
        if obj is not None and (not obj.eof or self._at < len(self._in)):
            raise BodyDecodeError("Truncated compressed body")


class _Brotli:
    """brotli's ``output_buffer_limit`` (brotli >= 1.2) stops the output growing
    past the limit; what overshoots it waits for the next read."""

    __slots__ = ("_obj", "_out", "_pending")

    def __init__(self) -> None:
        assert _brotli is not None
        self._obj: Any = _brotli.Decompressor()
        self._pending = b""
        self._out = b""

    def feed(self, data: bytes) -> None:
        self._pending += data

    def read(self, max_length: int) -> bytes:
        obj = self._obj
        out = self._out
        try:
            if not out:
                if self._pending and obj.can_accept_more_data():
                    data, self._pending = self._pending, b""
                else:  # output still inside the decoder comes out first
                    data = b""
                out = bytes(obj.process(data, output_buffer_limit=max_length))
        except _brotli.error:  # type: ignore[union-attr]
            raise BodyDecodeError("Invalid compressed body") from None
        self._out = out[max_length:]
        return out[:max_length]

    def finish(self) -> None:
        if self._out or not self._obj.is_finished():
            raise BodyDecodeError("Truncated compressed body")


class _Zstd:
    """zstandard's decompressobj has no output bound, so input goes in by slices.

    SECURITY: a zstd block (128 KiB at most) can come from 4 input bytes, so a
    64-byte slice yields at most about 2 MiB; the output is handed out in
    ``max_length`` pieces from there.

    PERF: the input and the output are walked with offsets (memoryview slices of
    the input), never re-sliced: cutting the rest off on every 64-byte piece
    copied a 64 KiB chunk a thousand times over.
    """

    __slots__ = ("_in", "_in_at", "_obj", "_out", "_out_at")
    _SLICE = 64

    def __init__(self) -> None:
        assert _zstd is not None
        self._obj: Any = _zstd.ZstdDecompressor().decompressobj()
        self._in = memoryview(b"")
        self._in_at = 0
        self._out = b""
        self._out_at = 0

    def feed(self, data: bytes) -> None:
        rest = self._in[self._in_at :]
        self._in = memoryview(bytes(rest) + data if rest else data)
        self._in_at = 0

    def read(self, max_length: int) -> bytes:
        if self._out_at >= len(self._out):
            self._out = self._inflate(max_length)
            self._out_at = 0
        start = self._out_at
        end = start + max_length
        self._out_at = end
        out = self._out
        return out[start:end] if start or end < len(out) else out

    def _inflate(self, max_length: int) -> bytes:
        """At least ``max_length`` bytes of output when the input has them."""
        data = self._in
        at = self._in_at
        size = len(data)
        step = self._SLICE
        obj = self._obj
        pieces = []
        produced = 0
        try:
            while produced < max_length and at < size:
                if obj.eof:  # RFC 8878 3.1: frames follow one another
                    self._obj = obj = _zstd.ZstdDecompressor().decompressobj()  # type: ignore[union-attr]
                piece = obj.decompress(data[at : at + step])
                at = min(at + step, size)
                if obj.eof:  # what follows the frame's end was handed over: take it back
                    at -= len(obj.unused_data)
                if piece:
                    pieces.append(piece)
                    produced += len(piece)
        except _zstd.ZstdError:  # type: ignore[union-attr]
            raise BodyDecodeError("Invalid compressed body") from None
        finally:
            self._in_at = at
        return b"".join(pieces)

    def finish(self) -> None:
        if self._out_at < len(self._out) or self._in_at < len(self._in) or not self._obj.eof:
            raise BodyDecodeError("Truncated compressed body")


def content_decoder(coding: str) -> Decompressor | None:
    """The decompressor for a Content-Encoding value; None for ``identity`` or
    no value; UnsupportedCodingError for anything else (a list of codings too)."""
    name = coding.strip().lower()
    if name in ("", "identity"):
        return None
    if name in ("gzip", "x-gzip"):
        return _Zlib(gzip=True)
    if name == "deflate":
        return _Zlib(gzip=False)
    if name == "br" and _brotli is not None:
        return _Brotli()
    if name == "zstd" and _zstd is not None:
        return _Zstd()
    raise UnsupportedCodingError(f"Unsupported Content-Encoding: {name[:40]}")
