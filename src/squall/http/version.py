"""HTTP versions, as aiohttp's ``HttpVersion`` named tuples."""

from __future__ import annotations

from typing import NamedTuple


class HttpVersion(NamedTuple):
    major: int
    minor: int


HttpVersion10 = HttpVersion(1, 0)
HttpVersion11 = HttpVersion(1, 1)
