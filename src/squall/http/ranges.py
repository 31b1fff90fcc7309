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


# RFC 9110 14.1.1: ranges-specifier = range-unit "=" range-set, range-set = 1#range-spec,
# int-range = first-pos "-" [ last-pos ], suffix-range = "-" suffix-length. Spaces
# around the commas of the list are optional whitespace (RFC 9110 5.6.1).
_SPEC = re.compile(r"([0-9]+)-([0-9]*)|-([0-9]+)")
_MAX_RANGES = 100  # SECURITY: RFC 9110 14.2 lets a server refuse a set of many ranges

ByteRange = tuple[int, int]  # (first byte, one past the last byte)


class RangeNotSatisfiable(ValueError):
    """No range of the set overlaps the representation (RFC 9110 15.5.17: 416)."""


def parse_range_set(value: str) -> list[tuple[int | None, int | None]] | None:
    """The specs of a ``Range`` value as (first, last) pairs, inclusive as on the
    wire: ``bytes=0-9, -5`` is ``[(0, 9), (None, 5)]`` (a suffix: first None,
    last the length); ``bytes=5-`` is ``[(5, None)]``.

    None for a range unit other than ``bytes``: RFC 9110 14.2 says such a Range
    MUST be ignored. Raise ValueError for an invalid range-set (bad syntax, a
    first position after the last, more than ``_MAX_RANGES`` specs), which 14.2
    lets a server reject.
    """
    unit, eq, ranges = value.strip(" \t").partition("=")
    if not eq or unit.strip(" \t").lower() != "bytes":
        if not eq and not unit:
            raise ValueError("empty Range")
        return None
    specs: list[tuple[int | None, int | None]] = []
    for part in ranges.split(","):
        part = part.strip(" \t")
        if not part:
            continue  # RFC 9110 5.6.1: empty list elements are ignored
        match = _SPEC.fullmatch(part)
        if match is None:
            raise ValueError(f"invalid range {part!r}")
        first, last, suffix = match.groups()
        if suffix is not None:
            specs.append((None, int(suffix)))
            continue
        first_pos = int(first)
        last_pos = int(last) if last else None
        if last_pos is not None and last_pos < first_pos:
            raise ValueError("start cannot be after end")  # RFC 9110 14.1.1: invalid
        specs.append((first_pos, last_pos))
    if not specs:
        raise ValueError("No start or end of range specified")
    if len(specs) > _MAX_RANGES:
        raise ValueError("too many ranges")
    return specs


def resolve_ranges(specs: list[tuple[int | None, int | None]], size: int) -> list[ByteRange]:
    """The satisfiable ranges of ``specs`` over a representation of ``size`` bytes.

    RFC 9110 14.1.2: an int-range is satisfiable when its first position is below
    the size (its last is cut to the end); a suffix range when its length is not
    zero (the whole representation if longer). Raise RangeNotSatisfiable when none
    is (14.1.2: then the answer is a 416 with ``Content-Range: bytes */size``).
    """
    result: list[ByteRange] = []
    for first, last in specs:
        if first is None:
            assert last is not None
            if last == 0 or size == 0:
                continue
            result.append((max(size - last, 0), size))
        elif first < size:
            end = size if last is None else min(last + 1, size)
            result.append((first, end))
    if not result:
        raise RangeNotSatisfiable(f"bytes */{size}")
    return result


def content_range(start: int, end: int, size: int) -> str:
    """RFC 9110 14.4: the Content-Range of bytes ``start`` up to ``end`` (exclusive)."""
    return f"bytes {start}-{end - 1}/{size}"
