"""Fuzz target (c): the parsers of header values, alone and through a Request.

Every one of them reads what a client wrote, so each has a contract that holds for
any string: cookies, dates, entity-tag lists, Forwarded and Content-Type never
raise; a Range is a slice or a ValueError. Dates formatted by Squall parse back to
the same instant. The same values are then set on a request built with
``make_mocked_request`` and read through its properties, where the framework
combines them (charset from Content-Type, cookies, conditional fields, the URL
from Host).

Values are decoded from bytes as Request.headers decodes them (UTF-8 with
surrogateescape), or taken as any Unicode text.

    .venv/bin/python fuzz/fuzz_values.py /tmp/fuzz-values -dict=fuzz/http.dict
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import atheris

with atheris.instrument_imports(include=["squall"]):
    from squall.http.cookies import parse_cookie_header
    from squall.http.dates import format_http_date, parse_http_date
    from squall.http.etag import ETag, parse_etag_list
    from squall.http.mediatype import parse_content_type
    from squall.testing import make_mocked_request
    from squall.web import HTTPException

    def optional(module: str, name: str) -> Callable[..., Any] | None:
        """A parser that may not exist yet in this checkout (ranges, forwarded)."""
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            return None

    parse_byte_range = optional("squall.http.ranges", "parse_byte_range")
    parse_forwarded = optional("squall.http.forwarded", "parse_forwarded")

FIELDS = [
    "Cookie", "Content-Type", "If-Modified-Since", "If-Unmodified-Since", "If-Range",
    "If-Match", "If-None-Match", "Range", "Forwarded", "Host",
]  # fmt: skip
PROPERTIES = (
    "content_type", "charset", "cookies", "if_modified_since", "if_unmodified_since",
    "if_range", "if_match", "if_none_match", "forwarded", "host", "url", "query",
)  # fmt: skip


def text(fdp: atheris.FuzzedDataProvider, most: int = 64) -> str:
    if fdp.ConsumeIntInRange(0, 3):
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, most)).decode("utf-8", "surrogateescape")
    return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, most))


def check_values(value: str) -> None:
    cookies = parse_cookie_header(value)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in cookies.items())
    when = parse_http_date(value)
    assert when is None or when.tzinfo == UTC, when
    tags = parse_etag_list(value)
    assert tags is None or all(isinstance(tag, ETag) for tag in tags)
    mimetype, params = parse_content_type(value)
    assert isinstance(mimetype, str) and isinstance(params, dict)
    if parse_forwarded is not None:
        assert isinstance(parse_forwarded([value, value]), tuple)
    if parse_byte_range is not None:
        try:
            part = parse_byte_range(value)
        except ValueError:
            pass
        else:
            assert isinstance(part, slice)
            if part.start is not None and part.stop is not None:
                assert part.start < part.stop, part


def check_date_roundtrip(timestamp: int) -> None:
    expected = datetime.fromtimestamp(timestamp, UTC)
    assert parse_http_date(format_http_date(timestamp)) == expected


def check_request(headers: dict[str, str], path: str) -> None:
    request = make_mocked_request("GET", path, headers=headers)
    for name in PROPERTIES:
        read(request, name)
    if parse_byte_range is not None:
        try:
            read(request, "http_range")
        except ValueError:  # documented: the handler answers a bad Range
            pass


def read(request: Any, name: str) -> None:
    """Read a property; an HTTP error it raises must be a client error (the 4xx the
    client then gets), never anything else."""
    try:
        getattr(request, name, None)
    except HTTPException as exc:
        assert exc.status < 500, (name, exc)


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 3)
    if which == 0:
        check_date_roundtrip(fdp.ConsumeIntInRange(0, 253402300799))  # up to year 9999
    elif which == 1:
        check_values(text(fdp, 256))
    else:
        headers = {
            fdp.PickValueInList(FIELDS): text(fdp) for _ in range(fdp.ConsumeIntInRange(1, 4))
        }
        path = "/" + fdp.ConsumeBytes(16).decode("ascii", "ignore").replace(" ", "")
        check_request(headers, path)


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
