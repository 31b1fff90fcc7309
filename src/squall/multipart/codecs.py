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
    __slots__ = ("_gzip", "_obj", "_pending")

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._obj: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        self._pending = b""

    def feed(self, data: bytes) -> None:
        if self._obj is None and data:
            # RFC 9110 8.4.1.2 says zlib-wrapped; some senders send raw deflate
            raw = (data[0] & 0x0F) != 8
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        self._pending += data

    def read(self, max_length: int) -> bytes:
        obj = self._obj
        if obj is None:
            return b""
        data = self._pending or obj.unconsumed_tail
        self._pending = b""
        if not data or obj.eof:
            return b""
        try:
            out: bytes = obj.decompress(data, max_length)
        except zlib.error:
            raise BodyDecodeError("Invalid compressed body") from None
        if obj.unconsumed_tail and not out:  # cannot happen with max_length > 0
            raise BodyDecodeError("Invalid compressed body")
        return out

    def finish(self) -> None:
        obj = self._obj
        if obj is not None and not obj.eof:
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
    """

    __slots__ = ("_obj", "_out", "_pending")
    _SLICE = 64

    def __init__(self) -> None:
        assert _zstd is not None
        self._obj: Any = _zstd.ZstdDecompressor().decompressobj()
        self._pending = b""
        self._out = b""

    def feed(self, data: bytes) -> None:
        self._pending += data

    def read(self, max_length: int) -> bytes:
        out = self._out
        while len(out) < max_length and self._pending:
            piece, self._pending = self._pending[: self._SLICE], self._pending[self._SLICE :]
            try:
                out += self._obj.decompress(piece)
            except _zstd.ZstdError:  # type: ignore[union-attr]
                raise BodyDecodeError("Invalid compressed body") from None
        self._out = out[max_length:]
        return out[:max_length]

    def finish(self) -> None:
        if self._out or not self._obj.eof:
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
