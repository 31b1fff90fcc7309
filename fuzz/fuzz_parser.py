"""Fuzz target (a): the h1 request parser, fed arbitrary bytes in arbitrary reads.

Checks, on every input:
- the only exception that leaves ``RequestParser.feed`` is ``ProtocolError``, with a
  status the server knows how to send and a short message;
- every head handed on is well-formed: a known version, at most ``max_headers``
  fields, no value with surrounding whitespace, a Host checked, Content-Length and
  chunked never both;
- with the default limits, the reads the bytes came in make no difference: fed
  whole or cut up, the same heads, bodies and upgrade tail come out, and both
  ways fail or neither does.

    .venv/bin/python fuzz/fuzz_parser.py /tmp/fuzz-parser fuzz/seeds -dict=fuzz/http.dict
"""

from __future__ import annotations

import sys
from typing import Any

import atheris

with atheris.instrument_imports(include=["squall"]):
    from squall.h1.errors import ProtocolError
    from squall.h1.parser import RequestParser

from _requests import request_stream, split

STATUSES = {400, 413, 414, 431, 501, 505}
SMALL = {"max_line_size": 64, "max_field_size": 64, "max_headers": 6, "max_head_size": 256}


class Recorder:
    """Listener and body feed: the events, with adjacent body pieces joined."""

    def __init__(self, max_headers: int) -> None:
        self.max_headers = max_headers
        self.events: list[tuple[str, Any]] = []

    def on_head(self, head: Any) -> Recorder:
        check_head(head, self.max_headers)
        self.events.append(("head", (head.method, head.target, head.version, head.raw_headers)))
        return self

    def feed(self, data: bytes) -> None:
        if self.events and self.events[-1][0] == "body":
            self.events[-1] = ("body", self.events[-1][1] + data)
        else:
            self.events.append(("body", bytes(data)))

    def feed_eof(self) -> None:
        self.events.append(("end", None))


def check_head(head: Any, max_headers: int) -> None:
    assert head.version in ((1, 0), (1, 1)), head.version
    assert isinstance(head.method, str) and head.method
    assert isinstance(head.target, str) and head.target
    assert len(head.raw_headers) <= max_headers
    for name, value in head.raw_headers:
        assert name and isinstance(value, bytes)
        assert value == value.strip(b" \t"), value
    assert head.host is None or isinstance(head.host, str)
    assert not (head.chunked and head.content_length is not None)
    assert head.content_length is None or head.content_length >= 0


def run(pieces: list[bytes], limits: dict[str, int]) -> tuple[list[Any], bytes | None, bool]:
    """Feed ``pieces``; return the events, the upgrade tail and whether it failed."""
    rec = Recorder(limits.get("max_headers", 128))
    parser = RequestParser(rec, **limits)
    for i, piece in enumerate(pieces):
        try:
            tail = parser.feed(piece)
        except ProtocolError as exc:
            assert exc.status in STATUSES, exc.status
            assert 0 < len(exc.message) <= 80, exc.message
            return rec.events, None, True
        if tail is not None:
            return rec.events, tail + b"".join(pieces[i + 1 :]), False
    return rec.events, None, False


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    small = fdp.ConsumeIntInRange(0, 3) == 0
    stream = request_stream(fdp) if fdp.ConsumeBool() else fdp.ConsumeBytes(4096)
    pieces = split(fdp, stream)
    if small:
        run(pieces, SMALL)
        return
    whole = run([stream], {})
    cut = run(pieces, {})
    assert whole == cut, (whole, cut)


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
