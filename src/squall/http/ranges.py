"""Byte ranges (RFC 9110 14.1.2): a Range request header as a Python slice."""

from __future__ import annotations

import re

# One range of bytes; a set of several ranges is not taken (as aiohttp).
_BYTE_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.IGNORECASE)


def parse_byte_range(value: str | None) -> slice:
    """Return the range as a slice of the representation: ``bytes=0-9`` is
    ``slice(0, 10, 1)``, ``bytes=-5`` (the last five) ``slice(-5, None, 1)``,
    ``bytes=5-`` ``slice(5, None, 1)``; no header is ``slice(None, None, 1)``.

    Raise ValueError when the value is not one byte range, or when the range is
    empty (first position after last, or no position at all).
    """
    if value is None:
        return slice(None, None, 1)
    match = _BYTE_RANGE.fullmatch(value.strip(" \t"))
    if match is None:
        raise ValueError("range not in acceptable format")
    first, last = match.groups()
    if not first and not last:
        raise ValueError("No start or end of range specified")
    if not first:  # a suffix: the last N bytes
        return slice(-int(last), None, 1)
    start = int(first)
    if not last:
        return slice(start, None, 1)
    end = int(last) + 1  # inclusive on the wire, exclusive in a slice
    if start >= end:
        raise ValueError("start cannot be after end")
    return slice(start, end, 1)
