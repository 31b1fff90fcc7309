"""The value parsers of ``squall.http``, fed whole: pure functions of a header value.

Each parser reads what a client sent, so each must return a value (or raise the one
error its docstring names) for any input; ``fuzz_values.py`` beside this file keeps
hammering that, and the seeded run at the end of this file replays a slice of it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from fuzz_values import TARGETS, one_input  # type: ignore[import-not-found]

from squall.http.cookies import parse_cookie_header
from squall.http.dates import parse_http_date
from squall.http.etag import ETag, parse_etag_list
from squall.http.forwarded import parse_forwarded
from squall.http.mediatype import parse_content_type
from squall.http.ranges import parse_byte_range

# -- dates (RFC 9110 5.6.7) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  # obsolete asctime: no zone, read as UTC
        "Sun, 06 Nov 1994 09:49:37 +0100",  # not an HTTP-date, but converted right
    ],
)
def test_http_dates_in_every_form(value: str) -> None:
    parsed = parse_http_date(value)
    assert parsed == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert parsed is not None and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "yesterday",
        "6 Nov 4 5477580849:7",  # F4: OverflowError in the stdlib
        "Nov 187011721896 -1 12:16:38931",
        "Fri, 31 Dec 9999 23:59:59 -2359",  # after datetime.max once in UTC
        "Sun, 31 Feb 1994 08:49:37 GMT",
    ],
)
def test_malformed_dates_are_none(value: str | None) -> None:
    assert parse_http_date(value) is None


# -- cookies (RFC 6265 5.4) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", {}),
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1; a=2", {"a": "2"}),
        ("a=1; b", {"a": "1", "b": ""}),
        ("a=1;;  ; b = 2 ", {"a": "1", "b": "2"}),
        ('a="x;y"; b=1', {"a": "x;y", "b": "1"}),
        ('b="\\808"', {"b": "808"}),  # F3: 8 is not an octal digit
        ('b="\\101\\102"', {"b": "AB"}),
        ('b="\\\u0661\u0662\u0663"', {"b": "\u0661\u0662\u0663"}),  # no octal but ASCII's
        ('b="\\477"', {"b": "477"}),  # above \377: not an escape
        ('a="x"y', {"a": '"x"y'}),
        ('a="', {"a": '"'}),
        ("a=x y", {"a": "x y"}),  # kept as sent (aiohttp splits at the space)
    ],
)
def test_cookie_header(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected


# -- media types (RFC 9110 8.3) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ("application/octet-stream", {})),
        ("Text/HTML; Charset=UTF-8", ("text/html", {"charset": "UTF-8"})),
        ('text/plain; charset="a\\"b"', ("text/plain", {"charset": 'a"b'})),
        ("text/plain; a=1; a=2", ("text/plain", {"a": "1"})),
        ("text/plain;;a=1", ("text/plain", {"a": "1"})),
        ("text/plain; flag", ("text/plain", {"flag": ""})),
        (
            'multipart/mixed; boundary="x;y"; q=1',
            ("multipart/mixed", {"boundary": "x;y", "q": "1"}),
        ),
        ("nonsense; charset=utf-8", ("application/octet-stream", {"charset": "utf-8"})),
        ("a/b/c", ("application/octet-stream", {})),
        ("\udc8b\x8a", ("application/octet-stream", {})),  # F2: b"\x8b\xc2\x8a" decoded
        ("text/plain; charset=\udc8b\x8a", ("text/plain", {"charset": "\udc8b\x8a"})),
    ],
)
def test_content_type(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_content_type(value) == expected


# -- entity tags (RFC 9110 8.8.3, 13.1.1) -----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("*", (ETag("*"),)),
        ('"a", W/"b"', (ETag("a"), ETag("b", is_weak=True))),
        ('"a",', (ETag("a"),)),
        ('"a", *', (ETag("a"),)),
        ('""', ()),
        ('"a"b', ()),
        ('"\u00e9\udc8b"', (ETag("\u00e9\udc8b"),)),  # obs-text, decoded or not
    ],
)
def test_etag_list(value: str | None, expected: tuple[ETag, ...] | None) -> None:
    assert parse_etag_list(value) == expected


# -- Forwarded (RFC 7239) ----------------------------------------------------------------------


def test_forwarded_elements_across_fields() -> None:
    parsed = parse_forwarded(['for=a;proto=https, for="[::1]:80"', "by=b"])
    assert [dict(m) for m in parsed] == [
        {"for": "a", "proto": "https"},
        {"for": "[::1]:80"},
        {"by": "b"},
    ]


def test_forwarded_mappings_are_read_only() -> None:
    (element,) = parse_forwarded(["for=a"])
    with pytest.raises(TypeError):
        element["for"] = "b"  # type: ignore[index]


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("", [{}]),
        ("for=a;for=b", [{"for": "b"}]),
        ("for=a for=b, by=c", [{"for": "a"}, {"by": "c"}]),  # no separator: skip to ","
        ('for="unterminated, by=c', [{}, {"by": "c"}]),
        ('for="caf\u00e9"', [{"for": "caf\u00e9"}]),  # obs-text is qdtext
        ("for=1.2.3.4:65536", [{"for": "1.2.3.4:6553"}]),  # at most four digits, as aiohttp
    ],
)
def test_forwarded_field(field: str, expected: list[dict[str, str]]) -> None:
    assert [dict(m) for m in parse_forwarded([field])] == expected


# -- byte ranges (RFC 9110 14.1.2) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, slice(None, None, 1)),
        ("bytes=0-0", slice(0, 1, 1)),
        ("bytes=10-", slice(10, None, 1)),
        ("bytes=-10", slice(-10, None, 1)),
        ("Bytes=1-2", slice(1, 3, 1)),
    ],
)
def test_byte_range(value: str | None, expected: slice) -> None:
    assert parse_byte_range(value) == expected


@pytest.mark.parametrize(
    "value", ["", "bytes=", "bytes=-", "bytes=2-1", "bytes=0-1,3-4", "bytes=\u0661-2", "lines=1-2"]
)
def test_bad_byte_range_raises_value_error(value: str) -> None:
    with pytest.raises(ValueError):
        parse_byte_range(value)


# -- every parser, any input --------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_seeded_fuzz_slice(seed: int) -> None:
    """A few thousand inputs of the fuzz target, replayed: none may raise."""
    rng = random.Random(seed)
    alphabet = b'"\\;,=:/ \t*-Wabc019\x80\xc2\x8b\xef\xbc\xbb\x00\r'
    for _ in range(500):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        one_input(data)
    assert len(TARGETS) == 6
