"""A fuzz target for the value parsers of ``squall.http`` (issue 17, F2-F4).

Every parser reads a header value a client sent: for any bytes it must return a
value, or raise the one error its docstring names (``parse_byte_range``'s
ValueError). Anything else would be a 500 with a traceback in a handler.

Run it for a few minutes with atheris (``pip install atheris``)::

    .venv/bin/python tests/http/fuzz_values.py -max_total_time=300

Without atheris it falls back to seeded random inputs (``-runs=N`` of them). The
seeded test in ``test_http_values.py`` replays a slice on every test run.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable

from squall.http.cookies import parse_cookie_header
from squall.http.dates import parse_http_date
from squall.http.etag import parse_etag_list
from squall.http.forwarded import parse_forwarded
from squall.http.mediatype import parse_content_type
from squall.http.ranges import parse_byte_range


def _range(value: str) -> object:
    try:
        return parse_byte_range(value)
    except ValueError:  # the documented refusal
        return None


TARGETS: list[Callable[[str], object]] = [
    parse_cookie_header,
    parse_http_date,
    parse_etag_list,
    lambda value: parse_forwarded([value]),
    parse_content_type,
    _range,
]


def one_input(data: bytes) -> None:
    """Decode as the server decodes header values, then feed every parser."""
    value = data.decode("utf-8", "surrogateescape")
    for target in TARGETS:
        target(value)


def _random_runs(argv: list[str]) -> None:
    runs = 100_000
    for arg in argv:
        if arg.startswith("-runs="):
            runs = int(arg.partition("=")[2])
    rng = random.Random(0)
    alphabet = b'"\\;,=:/ \t*-+Wabcdefzyx0123456789GMTNov\x80\xc2\x8b\xef\xbc\xbb\x00'
    for _ in range(runs):
        one_input(bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 64))))
    print(f"{runs} random inputs, no failure")


def main() -> None:
    try:
        import atheris  # type: ignore[import-not-found]
    except ImportError:
        _random_runs(sys.argv[1:])
        return
    atheris.instrument_all()  # coverage feedback from the parsers already imported
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
