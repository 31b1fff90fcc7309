"""Response compression: ``ContentCoding``, the codecs, and compressing off the loop.

gzip and deflate come from the standard library; ``br`` and ``zstd`` when the
``brotli`` and ``zstandard`` packages are installed (the ``brotli`` and ``zstd``
extras). Which one a response gets is decided by ``squall.http.encoding``.

A body above ``executor_size`` bytes is compressed in an executor (the loop's
default one unless given), as aiohttp does above its threshold: compressing
100 KB costs about a millisecond the event loop would otherwise stall for.
"""

from __future__ import annotations

import asyncio
import enum
import importlib
import zlib
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, Protocol


def _optional(name: str) -> Any:
    """An optional codec package, or None when its extra is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


_brotli = _optional("brotli")
_zstd = _optional("zstandard")

# aiohttp's threshold (``zlib_executor_size``): bigger bodies go to the executor
DEFAULT_EXECUTOR_SIZE = 4096
# PERF: level 6 (zlib's default, aiohttp's), brotli quality 4 and zstd level 3 cost
# about the same time per byte; brotli's default quality 11 is 50-100x slower.
BROTLI_QUALITY = 4
ZSTD_LEVEL = 3


class ContentCoding(enum.Enum):
    """The content codings a response can be compressed with (aiohttp's enum,
    plus ``br`` and ``zstd``)."""

    deflate = "deflate"
    gzip = "gzip"
    identity = "identity"
    br = "br"
    zstd = "zstd"


class Compressor(Protocol):
    """A streaming compressor: ``compress`` as data comes, ``flush`` at the end."""

    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Zlib:
    __slots__ = ("_obj",)

    def __init__(self, wbits: int, strategy: int | None) -> None:
        self._obj = zlib.compressobj(
            zlib.Z_DEFAULT_COMPRESSION,
            zlib.DEFLATED,
            wbits,
            strategy=zlib.Z_DEFAULT_STRATEGY if strategy is None else strategy,
        )

    def compress(self, data: bytes) -> bytes:
        return self._obj.compress(data)

    def flush(self) -> bytes:
        return self._obj.flush(zlib.Z_FINISH)


class _Brotli:
    __slots__ = ("_obj",)

    def __init__(self) -> None:
        assert _brotli is not None
        self._obj = _brotli.Compressor(quality=BROTLI_QUALITY)

    def compress(self, data: bytes) -> bytes:
        result: bytes = self._obj.process(data)
        return result

    def flush(self) -> bytes:
        result: bytes = self._obj.finish()
        return result


class _Zstd:
    __slots__ = ("_obj",)

    def __init__(self) -> None:
        assert _zstd is not None
        self._obj = _zstd.ZstdCompressor(level=ZSTD_LEVEL).compressobj()

    def compress(self, data: bytes) -> bytes:
        result: bytes = self._obj.compress(data)
        return result

    def flush(self) -> bytes:
        result: bytes = self._obj.flush()
        return result


def available_codings() -> tuple[str, ...]:
    """The codings this installation can produce, in the server's preference order."""
    codings: list[str] = []
    if _zstd is not None:
        codings.append("zstd")
    if _brotli is not None:
        codings.append("br")
    codings += ["gzip", "deflate"]
    return tuple(codings)


OFFERED = available_codings()


def make_compressor(coding: ContentCoding, strategy: int | None = None) -> Compressor:
    """A fresh compressor for ``coding`` (never ``identity``)."""
    if coding is ContentCoding.gzip:
        return _Zlib(16 + zlib.MAX_WBITS, strategy)
    if coding is ContentCoding.deflate:
        return _Zlib(zlib.MAX_WBITS, strategy)  # RFC 9110 8.4.1.2: the zlib format
    if coding is ContentCoding.br:
        if _brotli is None:
            raise RuntimeError("br compression needs the brotli package (the brotli extra)")
        return _Brotli()
    if coding is ContentCoding.zstd:
        if _zstd is None:
            raise RuntimeError("zstd compression needs the zstandard package (the zstd extra)")
        return _Zstd()
    raise ValueError(f"no compressor for {coding!r}")


async def run_compressor(
    call: Callable[..., bytes],
    data: bytes,
    executor_size: int | None,
    executor: Executor | None,
) -> bytes:
    """``call(data)``, in ``executor`` when ``data`` is bigger than ``executor_size``."""
    if executor_size is not None and len(data) > executor_size:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, call, data)
    return call(data)


def compress_whole(compressor: Compressor, data: bytes) -> bytes:
    """A whole body compressed (for an executor: one call does it all)."""
    return compressor.compress(data) + compressor.flush()


def add_vary(current: str | None, name: str) -> str:
    """A ``Vary`` value that lists ``name`` (RFC 9110 12.5.5), keeping what was there."""
    if not current:
        return name
    names = [item.strip().lower() for item in current.split(",")]
    if "*" in names or name.lower() in names:
        return current
    return f"{current}, {name}"


__all__ = ["ContentCoding", "make_compressor"]
