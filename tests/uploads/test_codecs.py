"""The content decoders without I/O: fed whole, byte by byte and in odd pieces;
gzip members and zstd frames one after another, what follows the end refused,
and every read bounded by its max_length."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest
import zstandard

from squall.multipart.codecs import BodyDecodeError, content_decoder

STEPS = [1, 2, 3, 7, 64, 65, 1000, 1 << 20]


def decode(coding: str, data: bytes, step: int, max_length: int = 100) -> bytes:
    decoder = content_decoder(coding)
    assert decoder is not None
    out = []
    for i in range(0, len(data), step):
        decoder.feed(data[i : i + step])
        while chunk := decoder.read(max_length):
            assert len(chunk) <= max_length
            out.append(chunk)
    decoder.finish()
    return b"".join(out)


def zstd(data: bytes) -> bytes:
    return bytes(zstandard.ZstdCompressor().compress(data))


TEXT = os.urandom(3000) + b"abc" * 5000

GOOD = {
    "gzip, two members (RFC 1952 2.2)": (
        "gzip",
        gzip.compress(b"hello") + gzip.compress(b"world"),
        b"helloworld",
    ),
    "gzip, empty members around one": (
        "gzip",
        gzip.compress(b"") + gzip.compress(TEXT) + gzip.compress(b""),
        TEXT,
    ),
    "gzip, only empty members": ("gzip", gzip.compress(b"") * 3, b""),
    "gzip, one member": ("gzip", gzip.compress(TEXT), TEXT),
    "deflate": ("deflate", zlib.compress(TEXT), TEXT),
    "zstd, two frames (RFC 8878 3.1)": ("zstd", zstd(b"hello") + zstd(TEXT), b"hello" + TEXT),
    "zstd, one frame": ("zstd", zstd(TEXT), TEXT),
}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("case", list(GOOD), ids=list(GOOD))
def test_decodes(case: str, step: int) -> None:
    coding, data, expected = GOOD[case]
    assert decode(coding, data, step) == expected


BAD = {
    "gzip, garbage after the member": ("gzip", gzip.compress(b"hello") + b"garbage"),
    "gzip, a zero after the member": ("gzip", gzip.compress(b"hello") + b"\0"),
    "gzip, half a magic after the member": ("gzip", gzip.compress(b"hello") + b"\x1f"),
    "gzip, a magic and then garbage": ("gzip", gzip.compress(b"hello") + b"\x1fxyz"),
    "gzip, second member cut": ("gzip", gzip.compress(b"hello") + gzip.compress(TEXT)[:-3]),
    "gzip, cut": ("gzip", gzip.compress(TEXT)[:-1]),
    "deflate, data after the end": ("deflate", zlib.compress(b"hello") + b"x"),
    "deflate, a second stream": ("deflate", zlib.compress(b"hello") * 2),
    "zstd, garbage after the frame": ("zstd", zstd(b"hello") + b"junk"),
    "zstd, second frame cut": ("zstd", zstd(b"hello") + zstd(TEXT)[:-2]),
}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_refuses(case: str, step: int) -> None:
    coding, data = BAD[case]
    with pytest.raises(BodyDecodeError):
        decode(coding, data, step)


@pytest.mark.parametrize("coding", ["gzip", "zstd"])
def test_each_read_is_bounded_across_members(coding: str) -> None:
    """Keep the bomb bound: a second member of 64 MiB of zeros comes out no more
    than max_length at a time, and only as it is asked for."""
    pack = gzip.compress if coding == "gzip" else zstd
    data = pack(b"a") + pack(bytes(64 << 20))
    decoder = content_decoder(coding)
    assert decoder is not None
    decoder.feed(data)
    sizes = [len(decoder.read(4096)) for _ in range(50)]
    assert sizes[0] in (1, 4096) and all(0 < size <= 4096 for size in sizes), sizes
