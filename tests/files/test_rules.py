"""The conditional, range and Accept-Encoding rules as pure functions (RFC 9110 12-14)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from squall.http.conditional import evaluate_preconditions, if_range_holds
from squall.http.encoding import accepts, choose_coding, parse_accept_encoding
from squall.http.etag import ETag
from squall.http.ranges import (
    RangeNotSatisfiable,
    content_range,
    parse_range_set,
    resolve_ranges,
)

TAG = ETag("abc")
MTIME = 1_000_000
AT = datetime.fromtimestamp(MTIME, UTC)
BEFORE = datetime.fromtimestamp(MTIME - 1, UTC)


@pytest.mark.parametrize(
    ("method", "kwargs", "expected"),
    [
        ("GET", {}, None),
        # 13.1.1: If-Match, strong comparison; "*" matches a current representation
        ("GET", {"if_match": (ETag("abc"),)}, None),
        ("GET", {"if_match": (ETag("abc", True),)}, 412),
        ("GET", {"if_match": (ETag("zzz"),)}, 412),
        ("GET", {"if_match": (ETag("*"),)}, None),
        # 13.1.4: If-Unmodified-Since, ignored when If-Match is present (13.2.2 step 2)
        ("GET", {"if_unmodified_since": BEFORE}, 412),
        ("GET", {"if_unmodified_since": AT}, None),
        ("GET", {"if_match": (ETag("abc"),), "if_unmodified_since": BEFORE}, None),
        # 13.1.2: If-None-Match, weak comparison; 304 for GET/HEAD, else 412
        ("GET", {"if_none_match": (ETag("abc", True),)}, 304),
        ("HEAD", {"if_none_match": (ETag("*"),)}, 304),
        ("POST", {"if_none_match": (ETag("abc"),)}, 412),
        ("GET", {"if_none_match": (ETag("zzz"),)}, None),
        # 13.1.3: If-Modified-Since, GET/HEAD only, ignored beside If-None-Match
        ("GET", {"if_modified_since": AT}, 304),
        ("GET", {"if_modified_since": BEFORE}, None),
        ("POST", {"if_modified_since": AT}, None),
        ("GET", {"if_none_match": (ETag("zzz"),), "if_modified_since": AT}, None),
        # step 1 before step 3
        ("GET", {"if_match": (ETag("zzz"),), "if_none_match": (ETag("abc"),)}, 412),
    ],
)
def test_preconditions(method: str, kwargs: dict[str, object], expected: int | None) -> None:
    assert evaluate_preconditions(method, TAG, MTIME, **kwargs) == expected  # type: ignore[arg-type]


def test_if_match_without_a_representation_fails() -> None:
    assert evaluate_preconditions("GET", None, None, if_match=(ETag("*"),)) == 412


@pytest.mark.parametrize(
    ("value", "holds"),
    [
        (None, True),
        ('"abc"', True),
        ('"abd"', False),
        ('W/"abc"', False),  # 13.1.5: a weak tag never matches
        ('"abc', False),
        ("Mon, 12 Jan 1970 13:46:40 GMT", True),  # exactly the modification time
        ("Mon, 12 Jan 1970 13:46:41 GMT", False),  # not equal: the whole file
        ("Mon, 12 Jan 1970 13:46:39 GMT", False),
        ("yesterday", False),
    ],
)
def test_if_range(value: str | None, holds: bool) -> None:
    assert if_range_holds(value, TAG, MTIME) is holds


@pytest.mark.parametrize(
    ("value", "specs"),
    [
        ("bytes=0-9", [(0, 9)]),
        ("bytes=5-", [(5, None)]),
        ("bytes=-5", [(None, 5)]),
        ("BYTES = 0-0 , -1", [(0, 0), (None, 1)]),  # read leniently: case, spaces
        ("bytes=0-0, -1,,", [(0, 0), (None, 1)]),
        ("items=0-5", None),  # 14.2: another unit is ignored
        ("whatever", None),
    ],
)
def test_parse_range_set(value: str, specs: object) -> None:
    assert parse_range_set(value) == specs


@pytest.mark.parametrize(
    "value", ["bytes=", "bytes=a-b", "bytes=5-3", "bytes=--1", "bytes=1-2-3", ""]
)
def test_parse_range_set_refuses(value: str) -> None:
    with pytest.raises(ValueError):
        parse_range_set(value)


def test_too_many_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="too many"):
        parse_range_set("bytes=" + ",".join(f"{i}-{i}" for i in range(101)))
    assert len(parse_range_set("bytes=" + ",".join(f"{i}-{i}" for i in range(100))) or []) == 100


@pytest.mark.parametrize(
    ("specs", "size", "expected"),
    [
        ([(0, 9)], 100, [(0, 10)]),
        ([(0, 999)], 100, [(0, 100)]),  # 14.1.2: the last position is cut to the end
        ([(99, None)], 100, [(99, 100)]),
        ([(None, 5)], 100, [(95, 100)]),
        ([(None, 500)], 100, [(0, 100)]),
        ([(100, None), (0, 0)], 100, [(0, 1)]),  # the unsatisfiable one is dropped
    ],
)
def test_resolve_ranges(
    specs: list[tuple[int | None, int | None]], size: int, expected: object
) -> None:
    assert resolve_ranges(specs, size) == expected


@pytest.mark.parametrize(
    ("specs", "size"),
    [([(100, None)], 100), ([(None, 0)], 100), ([(0, None)], 0), ([(None, 5)], 0)],
)
def test_unsatisfiable(specs: list[tuple[int | None, int | None]], size: int) -> None:
    with pytest.raises(RangeNotSatisfiable, match=f"bytes \\*/{size}"):
        resolve_ranges(specs, size)


def test_content_range() -> None:
    assert content_range(0, 10, 100) == "bytes 0-9/100"


@pytest.mark.parametrize(
    ("accept", "offered", "chosen"),
    [
        (None, ("gzip",), "identity"),
        ("", ("gzip",), "identity"),
        ("gzip", ("gzip", "deflate"), "gzip"),
        ("gzip, deflate", ("br", "gzip", "deflate"), "gzip"),  # server order on a tie
        ("deflate;q=1, gzip;q=0.5", ("gzip", "deflate"), "deflate"),
        ("gzip;q=0", ("gzip",), "identity"),
        ("*", ("br", "gzip"), "br"),
        ("*;q=0.5, gzip;q=0", ("br", "gzip"), "br"),
        ("GZIP", ("gzip",), "gzip"),  # 8.4.1: case-insensitive
        ("x-gzip", ("gzip",), "gzip"),
        ("identity;q=1, gzip;q=0.5", ("gzip",), "identity"),
        ("gzip;q=abc", ("gzip",), "identity"),
        ("gzip;q=2", ("gzip",), "identity"),
        ("br;q=0.9, zstd", ("zstd", "br", "gzip"), "zstd"),
    ],
)
def test_choose_coding(accept: str | None, offered: tuple[str, ...], chosen: str) -> None:
    assert choose_coding(accept, offered) == chosen


def test_accept_encoding_parse_keeps_first_and_star() -> None:
    assert parse_accept_encoding("gzip;q=0.3, gzip;q=1, *;q=0") == {"gzip": 0.3, "*": 0.0}
    assert accepts("br, *;q=0", "br") and not accepts("br, *;q=0", "gzip")
    assert accepts("*", "zstd") and not accepts(None, "gzip")
