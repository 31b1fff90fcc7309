"""``squall.h1.parser.RequestParser`` without I/O: bytes in, heads and bodies out."""

from __future__ import annotations

from typing import Any

import pytest

from squall.h1.errors import ProtocolError
from squall.h1.parser import RequestParser, transfer_coding_refusal
from squall.h1.writer import LAST_CHUNK, chunk


class Recorder:
    """A parser listener that records what comes out, in order.

    ``on_head`` returns the recorder itself as the body feed; ``on_body`` and
    ``on_complete`` are there too, so either listener style records the same events.
    """

    def __init__(self) -> None:
        self.heads: list[Any] = []
        self.events: list[tuple[str, Any]] = []

    def on_head(self, head: Any) -> Recorder:
        self.heads.append(head)
        self.events.append(("head", head.target))
        return self

    def feed(self, data: bytes) -> None:
        self.events.append(("body", bytes(data)))

    def feed_eof(self) -> None:
        self.events.append(("end", None))

    on_body = feed
    on_complete = feed_eof

    def merged(self) -> list[tuple[str, Any]]:
        """Events with adjacent body pieces joined (so splitting does not matter)."""
        out: list[tuple[str, Any]] = []
        for kind, value in self.events:
            if kind == "body" and out and out[-1][0] == "body":
                out[-1] = ("body", out[-1][1] + value)
            else:
                out.append((kind, value))
        return out

    def bodies(self) -> list[bytes]:
        """One body per request (b"" for a request without one)."""
        result: list[bytes] = []
        current: bytes | None = None
        for kind, value in self.events:
            if kind == "head":
                if current is not None:
                    result.append(current)
                current = b""
            elif kind == "body":
                assert current is not None
                current += value
        if current is not None:
            result.append(current)
        return result


def parse(data: bytes, **limits: int) -> Recorder:
    rec = Recorder()
    parser = RequestParser(rec, **limits)
    assert parser.feed(data) is None
    return rec


def parse_bytewise(data: bytes, **limits: int) -> Recorder:
    rec = Recorder()
    parser = RequestParser(rec, **limits)
    for i in range(len(data)):
        assert parser.feed(data[i : i + 1]) is None
    return rec


def refuse(data: bytes, **limits: int) -> tuple[ProtocolError, Recorder]:
    rec = Recorder()
    parser = RequestParser(rec, **limits)
    with pytest.raises(ProtocolError) as info:
        parser.feed(data)
    return info.value, rec


GET = b"GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nX-Thing: a b\tc\r\nAccept: */*\r\n\r\n"
POST = b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
CHUNKED = (
    b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n6;name=value\r\n world\r\nA\r\n0123456789\r\n0\r\n\r\n"
)


# -- whole requests ------------------------------------------------------------


def test_get_head() -> None:
    rec = parse(GET)
    [head] = rec.heads
    assert head.method == "GET"
    assert head.target == "/path?q=1"
    assert head.version == (1, 1)
    assert head.raw_headers == [
        (b"Host", b"example.com"),
        (b"X-Thing", b"a b\tc"),
        (b"Accept", b"*/*"),
    ]
    assert head.host == "example.com"
    assert head.keep_alive is True
    assert head.upgrade is False
    assert head.chunked is False
    assert head.content_length is None
    assert head.expect_continue is False
    assert rec.bodies() == [b""]


def test_post_with_content_length() -> None:
    rec = parse(POST)
    [head] = rec.heads
    assert head.method == "POST"
    assert head.content_length == 11
    assert head.chunked is False
    assert rec.merged() == [("head", "/echo"), ("body", b"hello world"), ("end", None)]


def test_chunked_body() -> None:
    rec = parse(CHUNKED)
    [head] = rec.heads
    assert head.chunked is True
    assert head.content_length is None
    assert rec.merged() == [("head", "/up"), ("body", b"hello world0123456789"), ("end", None)]


def test_zero_content_length() -> None:
    rec = parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
    assert rec.heads[0].content_length == 0
    assert rec.bodies() == [b""]


def test_leading_empty_lines_are_ignored() -> None:
    rec = parse(b"\r\n\r\n" + GET)
    assert [h.target for h in rec.heads] == ["/path?q=1"]


def test_other_methods_and_targets() -> None:
    data = (
        b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"
        b"DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n"
        b"GET http://h/abs HTTP/1.1\r\nHost: h\r\n\r\n"
        b"PROPFIND /dav HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    rec = parse(data)
    assert [(h.method, h.target) for h in rec.heads] == [
        ("OPTIONS", "*"),
        ("DELETE", "/x"),
        ("GET", "http://h/abs"),
        ("PROPFIND", "/dav"),
    ]


def test_keep_alive_flags() -> None:
    rec = parse(
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    )
    assert [h.keep_alive for h in rec.heads] == [True, False]
    assert parse(b"GET / HTTP/1.0\r\n\r\n").heads[0].keep_alive is False
    rec = parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert rec.heads[0].keep_alive is True


def test_expect_continue_flag() -> None:
    rec = Recorder()
    parser = RequestParser(rec)
    parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    [head] = rec.heads
    assert head.expect_continue is True
    assert rec.bodies() == [b""]  # the body has not come yet
    parser.feed(b"abc")
    assert rec.merged()[1:] == [("body", b"abc"), ("end", None)]


def test_coded_flag_marks_a_content_encoding_field_per_request() -> None:
    """The request looks for Content-Encoding only when the parser saw one: the
    flag is set by that field alone (not by another of its length) and does not
    carry over to the next request on the connection."""
    rec = parse(
        b"POST /a HTTP/1.1\r\nHost: h\r\ncontent-ENCODING: gzip\r\nContent-Length: 0\r\n\r\n"
        b"POST /b HTTP/1.1\r\nHost: h\r\nX-Requested-With: x\r\nContent-Length: 0\r\n\r\n"
        b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    assert [head.coded for head in rec.heads] == [True, False, False]


def test_http10_without_host_is_fine() -> None:
    rec = parse(b"GET / HTTP/1.0\r\n\r\n")
    [head] = rec.heads
    assert head.version == (1, 0)
    assert head.host is None


def test_upgrade_returns_the_bytes_after_the_head() -> None:
    rec = Recorder()
    parser = RequestParser(rec)
    data = (
        b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        b"\x81\x05hello"
    )
    assert parser.feed(data) == b"\x81\x05hello"
    assert parser.upgraded is True
    assert rec.heads[0].upgrade is True


# -- splitting and pipelining ------------------------------------------------------


@pytest.mark.parametrize("data", [GET, POST, CHUNKED], ids=["get", "post", "chunked"])
def test_byte_by_byte_gives_the_same_result(data: bytes) -> None:
    whole = parse(data)
    bytewise = parse_bytewise(data)
    assert bytewise.merged() == whole.merged()
    assert [h.raw_headers for h in bytewise.heads] == [h.raw_headers for h in whole.heads]
    assert [h.target for h in bytewise.heads] == [h.target for h in whole.heads]


@pytest.mark.parametrize("data", [GET, POST, CHUNKED], ids=["get", "post", "chunked"])
def test_every_split_point_gives_the_same_result(data: bytes) -> None:
    whole = parse(data)
    for i in range(1, len(data)):
        rec = Recorder()
        parser = RequestParser(rec)
        parser.feed(data[:i])
        parser.feed(data[i:])
        assert rec.merged() == whole.merged(), i
        assert rec.heads[0].raw_headers == whole.heads[0].raw_headers, i


def test_pipelined_requests_in_one_feed() -> None:
    rec = parse(GET + POST + CHUNKED + GET)
    assert [h.target for h in rec.heads] == ["/path?q=1", "/echo", "/up", "/path?q=1"]
    assert rec.bodies() == [b"", b"hello world", b"hello world0123456789", b""]
    assert [kind for kind, _ in rec.merged()].count("end") == 4


def test_pipelined_requests_byte_by_byte() -> None:
    rec = parse_bytewise(POST + GET + CHUNKED)
    assert [h.target for h in rec.heads] == ["/echo", "/path?q=1", "/up"]
    assert rec.bodies() == [b"hello world", b"", b"hello world0123456789"]


def test_trailing_partial_request_waits() -> None:
    rec = Recorder()
    parser = RequestParser(rec)
    parser.feed(GET + b"GET /next HTTP/1.1\r\nHo")
    assert [h.target for h in rec.heads] == ["/path?q=1"]
    assert parser.in_head is True
    parser.feed(b"st: h\r\n\r\n")
    assert [h.target for h in rec.heads] == ["/path?q=1", "/next"]
    assert parser.in_head is False


def test_body_is_not_parsed_as_a_request() -> None:
    body = b"GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
    rec = parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert [h.target for h in rec.heads] == ["/"]
    assert rec.bodies() == [body]


def test_chunked_roundtrip_with_the_writer() -> None:
    payload = bytes(range(256)) * 100
    framed = b"".join(chunk(payload[i : i + 1000]) for i in range(0, len(payload), 1000))
    data = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + framed
    rec = parse(data + chunk(b"") + LAST_CHUNK)
    assert rec.bodies() == [payload]


def test_chunked_trailers_are_not_merged_into_the_head() -> None:
    """RFC 9110 6.5.1: a trailer is not a header; a trailer ``Host`` or ``X-Role``
    must not appear in the head the handler reads after the body."""
    data = (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\nX-Role: admin\r\nHost: evil\r\n\r\n"
    )
    rec = parse(data)
    [head] = rec.heads
    assert rec.bodies() == [b"hello"]
    assert head.raw_headers == [(b"Host", b"h"), (b"Transfer-Encoding", b"chunked")]
    assert head.host == "h"


def test_too_many_trailers_are_refused() -> None:
    trailers = b"".join(b"T-%d: v\r\n" % i for i in range(1000))
    data = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailers
    err, _ = refuse(data + b"\r\n")
    assert err.status in (400, 431)


# -- limits ----------------------------------------------------------------------


def test_url_at_limit() -> None:
    rec = parse(b"GET /" + b"a" * 8189 + b" HTTP/1.1\r\nHost: h\r\n\r\n")
    assert len(rec.heads[0].target) == 8190


def test_url_too_long() -> None:
    err, rec = refuse(b"GET /" + b"a" * 8190 + b" HTTP/1.1\r\nHost: h\r\n\r\n")
    assert err.status == 414
    assert rec.heads == []


def test_url_too_long_refused_before_it_ends() -> None:
    """The URL limit holds while the URL still arrives (no waiting for the line end)."""
    rec = Recorder()
    parser = RequestParser(rec)
    with pytest.raises(ProtocolError) as info:
        parser.feed(b"GET /")
        for _ in range(100):
            parser.feed(b"a" * 1000)
    assert info.value.status == 414


def test_url_limit_is_configurable() -> None:
    err, _ = refuse(b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: h\r\n\r\n", max_line_size=100)
    assert err.status == 414


def test_header_value_at_limit() -> None:
    rec = parse(b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"v" * 8190 + b"\r\n\r\n")
    assert rec.heads[0].raw_headers[1] == (b"X-Big", b"v" * 8190)


def test_header_value_too_long() -> None:
    err, rec = refuse(b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"v" * 8191 + b"\r\n\r\n")
    assert err.status == 431
    assert rec.heads == []


def test_header_name_too_long() -> None:
    err, rec = refuse(b"GET / HTTP/1.1\r\nHost: h\r\nX" + b"n" * 8191 + b": v\r\n\r\n")
    assert err.status == 431
    assert rec.heads == []


def test_header_value_too_long_byte_by_byte() -> None:
    rec = Recorder()
    parser = RequestParser(rec, max_field_size=100)
    data = b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"v" * 101 + b"\r\n\r\n"
    with pytest.raises(ProtocolError) as info:
        for i in range(len(data)):
            parser.feed(data[i : i + 1])
    assert info.value.status == 431
    assert rec.heads == []


def test_128_headers_are_fine() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(127))
    rec = parse(b"GET / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n")
    assert len(rec.heads[0].raw_headers) == 128


def test_129_headers_are_too_many() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(128))
    err, rec = refuse(b"GET / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n")
    assert err.status == 431
    assert rec.heads == []


def test_head_over_max_head_size_in_one_feed() -> None:
    """The whole head arrives in one read: the total still counts."""
    fields = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 1000) for i in range(20))
    err, rec = refuse(b"GET / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n", max_head_size=16384)
    assert err.status == 431
    assert rec.heads == []


def test_head_over_max_head_size_in_pieces() -> None:
    rec = Recorder()
    parser = RequestParser(rec, max_head_size=16384)
    with pytest.raises(ProtocolError) as info:
        parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\n")
        for i in range(20):
            parser.feed(b"X-%d: %s\r\n" % (i, b"v" * 1000))
    assert info.value.status == 431
    assert rec.heads == []


def test_head_under_max_head_size_in_pieces() -> None:
    rec = Recorder()
    parser = RequestParser(rec, max_head_size=16384)
    parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\n")
    for i in range(10):
        parser.feed(b"X-%d: %s\r\n" % (i, b"v" * 1000))
    parser.feed(b"\r\n")
    assert len(rec.heads) == 1


def test_head_size_counts_per_request() -> None:
    """Many small pipelined requests in pieces never add up to one big head."""
    rec = Recorder()
    parser = RequestParser(rec, max_head_size=1024)
    request = b"GET / HTTP/1.1\r\nHost: h\r\nX-Pad: " + b"p" * 200 + b"\r\n\r\n"
    for _ in range(50):
        parser.feed(request[:100])
        parser.feed(request[100:])
    assert len(rec.heads) == 50


# -- Host and version rules --------------------------------------------------------------


def test_duplicate_host() -> None:
    err, rec = refuse(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert err.status == 400
    assert rec.heads == []


def test_duplicate_identical_host() -> None:
    err, _ = refuse(b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n")
    assert err.status == 400


def test_missing_host_on_http11() -> None:
    err, rec = refuse(b"GET / HTTP/1.1\r\nX-A: b\r\n\r\n")
    assert err.status == 400
    assert "Host" in err.message
    assert rec.heads == []


def test_http2_request_line() -> None:
    err, rec = refuse(b"GET / HTTP/2.0\r\nHost: h\r\n\r\n")
    assert err.status == 505
    assert rec.heads == []


def test_http09_style_request_line() -> None:
    err, rec = refuse(b"GET /\r\n\r\n")
    assert err.status in (400, 505)
    assert rec.heads == []


# -- framing and syntax errors ----------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GET / HTTP/1.1 x\r\nHost: h\r\n\r\n", id="request-line-extra"),
        pytest.param(b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", id="space-in-target"),
        pytest.param(b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", id="bad-method-char"),
        pytest.param(b"get / HTTP/1.1\r\nHost: h\r\n\r\n", id="lowercase-method"),
        pytest.param(b"GET /a\x00b HTTP/1.1\r\nHost: h\r\n\r\n", id="nul-in-target"),
        pytest.param(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", id="space-before-colon"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n", id="ctl-in-value"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n", id="del-in-value"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", id="obs-fold"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: h\r\n: b\r\n\r\n", id="empty-name"),
        pytest.param(b"GET / HTTP/1.1\nHost: h\n\n", id="bare-lf"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", id="bare-lf-in-head"),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            id="cl-and-te",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Length: 3\r\n\r\n0\r\n\r\n",
            id="te-and-cl",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            id="two-content-lengths",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -3\r\n\r\n", id="negative-length"
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            id="te-chunked-not-last",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nabc",
            id="te-gzip",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\nabc",
            id="te-identity",
        ),
    ],
)
def test_refused_without_a_head(data: bytes) -> None:
    """Every check runs before ``on_head``: a listener never sees a refused head."""
    err, rec = refuse(data)
    assert err.status == 400
    assert rec.heads == []
    assert 0 < len(err.message) <= 80


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"zz\r\nhello\r\n0\r\n\r\n", id="not-hex"),
        pytest.param(b"5 \r\nhello\r\n0\r\n\r\n", id="space-after-size"),
        pytest.param(b"ffffffffffffffffff\r\n", id="overflow"),
        pytest.param(b"5\r\nhelloXX0\r\n\r\n", id="no-crlf-after-data"),
        pytest.param(b"5\nhello\n0\n\n", id="bare-lf"),
        pytest.param(b"5;a=\x01\r\nhello\r\n0\r\n\r\n", id="ctl-in-extension"),
    ],
)
def test_bad_chunked_body(body: bytes) -> None:
    head = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    err, rec = refuse(head + body)
    assert err.status == 400
    assert ("end", None) not in rec.events  # the body never looks complete


def test_parser_stays_dead_after_an_error() -> None:
    rec = Recorder()
    parser = RequestParser(rec)
    with pytest.raises(ProtocolError):
        parser.feed(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n")
    with pytest.raises(ProtocolError):
        parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert rec.heads == []


def test_requests_before_an_error_come_out() -> None:
    rec = Recorder()
    parser = RequestParser(rec)
    with pytest.raises(ProtocolError) as info:
        parser.feed(GET + POST + b"GET / HTTP/1.1\r\nHost : h\r\n\r\n" + GET)
    assert info.value.status == 400
    assert [h.target for h in rec.heads] == ["/path?q=1", "/echo"]
    assert rec.bodies() == [b"", b"hello world"]


# -- fed whole, byte by byte and with trailing data ----------------------------------
# Issue 17's cases: each one is fed the three ways and must come out the same.

NEXT = b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"


def parse_ways(data: bytes, **limits: int) -> Recorder:
    """Parse ``data`` whole, byte by byte and followed by another request; the
    three must agree. Returns the whole-feed recording."""
    whole = parse(data, **limits)
    assert parse_bytewise(data, **limits).merged() == whole.merged()
    trailing = parse(data + NEXT, **limits)
    assert trailing.merged()[: len(whole.merged())] == whole.merged()
    assert [h.target for h in trailing.heads] == [h.target for h in whole.heads] + ["/next"]
    return whole


def refuse_ways(data: bytes, *, in_body: bool = False, **limits: int) -> ProtocolError:
    """``data`` is refused whole, byte by byte and followed by another request,
    with one status, and no head reaches the listener (``in_body``: the head does,
    but its body never ends). Returns the whole-feed error."""

    def check(rec: Recorder) -> None:
        if in_body:
            assert len(rec.heads) == 1
            assert ("end", None) not in rec.events
        else:
            assert rec.heads == []

    err, rec = refuse(data, **limits)
    check(rec)
    bytewise = Recorder()
    parser = RequestParser(bytewise, **limits)
    with pytest.raises(ProtocolError) as info:
        for i in range(len(data)):
            parser.feed(data[i : i + 1])
    assert info.value.status == err.status
    check(bytewise)
    trailing, rec = refuse(data + NEXT, **limits)
    assert trailing.status == err.status
    check(rec)
    return err


# -- Transfer-Encoding on several lines (issue 17 item 4) ------------------------------


def te_request(*lines: bytes, body: bytes = b"3\r\nabc\r\n0\r\n\r\n") -> bytes:
    fields = b"".join(b"Transfer-Encoding: %s\r\n" % line for line in lines)
    return b"POST / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n" + body


@pytest.mark.parametrize(
    ("lines", "status"),
    [
        # RFC 9110 5.3: the lines combine into one list, then the one-line rules hold
        pytest.param([b"gzip", b"chunked"], 501, id="gzip+chunked"),
        pytest.param([b"identity", b"chunked"], 501, id="identity+chunked"),
        pytest.param([b"gzip", b"deflate, chunked"], 501, id="gzip+deflate,chunked"),
        pytest.param([b"gzip, chunked"], 501, id="gzip,chunked"),
        pytest.param([b"chunked", b"chunked"], 400, id="chunked+chunked"),
        pytest.param([b"chunked, chunked"], 400, id="chunked,chunked"),
        pytest.param([b"chunked", b"identity"], 400, id="chunked+identity"),
        pytest.param([b"chunked", b"gzip"], 400, id="chunked+gzip"),
        pytest.param([b"gzip", b"gzip"], 400, id="gzip+gzip"),
        pytest.param([b""], 400, id="empty"),
        pytest.param([b"", b"chunked"], 400, id="empty+chunked"),
        pytest.param([b"chunked", b""], 400, id="chunked+empty"),
        pytest.param([b", chunked"], 400, id="empty-element-first"),
        pytest.param([b"gzip,,chunked"], 400, id="empty-element-between"),
        pytest.param([b"chunked,"], 400, id="empty-element-last"),
        pytest.param([b"chunked\t"], 400, id="chunked-tab"),
        pytest.param([b"chunked;q=1"], 400, id="chunked-with-parameter"),
        pytest.param([b"xchunked"], 400, id="xchunked"),
    ],
)
def test_transfer_encoding_lines_are_combined(lines: list[bytes], status: int) -> None:
    """``gzip`` then ``chunked`` on two lines is ``gzip, chunked``: refused before the
    head is handed on (5461cf6 kept the last line only and served the coded bytes)."""
    err = refuse_ways(te_request(*lines))
    assert err.status == status
    assert 0 < len(err.message) <= 80


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(
            [b"Content-Length: 3", b"Transfer-Encoding: gzip", b"Transfer-Encoding: chunked"],
            id="cl-then-te-lines",
        ),
        pytest.param(
            [b"Transfer-Encoding: gzip", b"Transfer-Encoding: chunked", b"Content-Length: 3"],
            id="te-lines-then-cl",
        ),
        pytest.param([b"Transfer-Encoding: chunked", b"X: y", b"Content-Length: 0"], id="te-x-cl"),
    ],
)
def test_content_length_and_transfer_encoding_across_lines(fields: list[bytes]) -> None:
    data = b"POST / HTTP/1.1\r\nHost: h\r\n" + b"\r\n".join(fields) + b"\r\n\r\n0\r\n\r\n"
    assert refuse_ways(data).status == 400


@pytest.mark.parametrize(
    "value", [b"chunked", b"CHUNKED", b"Chunked", b"chunked  ", b" \tchunked"], ids=repr
)
def test_chunked_spellings_accepted(value: bytes) -> None:
    rec = parse_ways(te_request(value))
    [head] = rec.heads
    assert head.chunked is True
    assert rec.bodies() == [b"abc"]
    assert head.raw_headers[1] == (b"Transfer-Encoding", value.strip(b" \t"))


@pytest.mark.parametrize(
    ("value", "refusal"),
    [
        (b"chunked", None),
        (b"CHUNKED ", None),
        (b"gzip,chunked", (501, "Transfer-Encoding not implemented")),
        (b"x-foo , chunked", (501, "Transfer-Encoding not implemented")),
        (b"gzip", (400, "Transfer-Encoding must end with chunked")),
        (b"chunked,gzip", (400, "Transfer-Encoding must end with chunked")),
        (b"chunked,chunked", (400, "Transfer-Encoding applies chunked twice")),
        (b"chunked, gzip, chunked", (400, "Transfer-Encoding applies chunked twice")),
        (b",chunked", (400, "Malformed Transfer-Encoding")),
        (b" ", (400, "Malformed Transfer-Encoding")),
        (b"chunked\t", (400, "Transfer-Encoding must end with chunked")),
    ],
)
def test_transfer_coding_refusal(value: bytes, refusal: tuple[int, str] | None) -> None:
    assert transfer_coding_refusal(value) == refusal


# -- trailer and head accounting (issue 17 item 5) ------------------------------------


def reads_ending_after_size_lines(chunks: list[bytes], at_least: int) -> list[bytes]:
    """A chunked body framed from ``chunks``, cut into reads of at least ``at_least``
    bytes, each ending right after a chunk-size line (the last read ends the body)."""
    reads: list[bytes] = []
    current = b""
    for data in chunks:
        if len(current) >= at_least:
            current += b"%x\r\n" % len(data)
            reads.append(current)
            current = data + b"\r\n"
        else:
            current += b"%x\r\n%s\r\n" % (len(data), data)
    reads.append(current + b"0\r\n\r\n")
    return reads


@pytest.mark.parametrize("max_head_size", [4096, 16384])
def test_small_chunks_in_reads_ending_after_a_size_line(max_head_size: int) -> None:
    """Reads that end right after a chunk-size line and start with chunk data are
    body, not a trailer section: only trailer bytes count against max_head_size."""
    chunks = [b"%05d" % i for i in range(20000)]
    reads = reads_ending_after_size_lines(chunks, at_least=2 * max_head_size)
    assert len(reads) > 5
    assert all(read.endswith(b"\r\n5\r\n") for read in reads[:-1])
    rec = Recorder()
    parser = RequestParser(rec, max_head_size=max_head_size)
    parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
    for read in reads:
        parser.feed(read)
    assert rec.bodies() == [b"".join(chunks)]
    assert rec.events[-1] == ("end", None)


def test_body_before_a_head_split_across_reads_is_not_head_bytes() -> None:
    """A read holding the end of one request's body and the start of the next head
    counts only what belongs to that head."""
    rec = Recorder()
    parser = RequestParser(rec, max_head_size=4096)
    body = b"b" * 8000
    parser.feed(b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 8000\r\n\r\n")
    parser.feed(body + b"GET /b HT")
    parser.feed(b"TP/1.1\r\nHost: h\r\n\r\n")
    assert [h.target for h in rec.heads] == ["/a", "/b"]
    assert rec.bodies() == [body, b""]


def test_trailer_section_over_max_head_size_in_one_read() -> None:
    """Complete trailer fields are counted by size as well as by number."""
    trailers = b"".join(b"T-%d: %s\r\n" % (i, b"v" * 1000) for i in range(20))
    data = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailers
    err = refuse_ways(data + b"\r\n", in_body=True, max_head_size=16384)
    assert err.status == 431


def test_trailer_section_over_max_head_size_in_pieces() -> None:
    rec = Recorder()
    parser = RequestParser(rec, max_head_size=16384)
    parser.feed(
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
    )
    with pytest.raises(ProtocolError) as info:
        for i in range(20):
            parser.feed(b"T-%d: %s\r\n" % (i, b"v" * 1000))
    assert info.value.status == 431
    assert ("end", None) not in rec.events


def test_unterminated_trailer_line_is_bounded() -> None:
    """A trailer line that never ends is refused once it passes max_head_size."""
    rec = Recorder()
    parser = RequestParser(rec, max_head_size=16384)
    parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Long: ")
    with pytest.raises(ProtocolError) as info:
        for _ in range(20):
            parser.feed(b"a" * 1000)
    assert info.value.status == 431


def test_trailers_under_the_limits_in_pieces_are_fine() -> None:
    rec = Recorder()
    parser = RequestParser(rec, max_head_size=16384)
    parser.feed(
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
    )
    for i in range(10):
        parser.feed(b"T-%d: %s\r\n" % (i, b"v" * 1000))
    parser.feed(b"\r\n" + NEXT)
    assert rec.bodies() == [b"hello", b""]
    assert [h.target for h in rec.heads] == ["/", "/next"]


def test_too_many_trailers_is_exactly_431() -> None:
    trailers = b"".join(b"T-%d: v\r\n" % i for i in range(129))
    data = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailers
    err, _ = refuse(data + b"\r\n")
    assert err.status == 431
    ok = b"".join(b"T-%d: v\r\n" % i for i in range(128))
    rec = parse(
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + ok + b"\r\n"
    )
    assert rec.events[-1] == ("end", None)


# -- the field count while a head arrives (issue 17, after F7) -------------------------


def test_never_ending_head_is_refused_at_the_129th_field() -> None:
    """Fields are counted as they arrive: a head that never ends cannot collect
    more than max_headers of them (5461cf6 counted only at the head's end)."""
    rec = Recorder()
    parser = RequestParser(rec)
    parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\n")
    for i in range(127):
        parser.feed(b"X-%d: v\r\n" % i)  # 128 fields: fine so far
    with pytest.raises(ProtocolError) as info:
        # llhttp hands a field over when the next line starts: the 129th is
        # counted when the 130th begins
        parser.feed(b"X-127: v\r\n")
        parser.feed(b"X-128: v\r\n")
    assert info.value.status == 431
    assert info.value.message == "Too many request header fields"
    assert rec.heads == []


def test_never_ending_head_in_one_read_is_refused() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(1000))
    err, rec = refuse(b"GET / HTTP/1.1\r\nHost: h\r\n" + fields)
    assert err.status == 431
    assert rec.heads == []


def test_129_fields_refused_every_way() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(128))
    assert refuse_ways(b"GET / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n").status == 431


def test_128_fields_accepted_every_way() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(127))
    rec = parse_ways(b"GET / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n")
    assert len(rec.heads[0].raw_headers) == 128


def test_max_headers_is_configurable_while_arriving() -> None:
    rec = Recorder()
    parser = RequestParser(rec, max_headers=4)
    parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n")
    with pytest.raises(ProtocolError) as info:
        parser.feed(b"D: 4\r\nE: 5\r\n")
    assert info.value.status == 431


# -- field values lose their OWS (RFC 9110 5.5) ---------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"padded\t ", b"padded"),
        (b" \t padded \t", b"padded"),
        (b"a \t b ", b"a \t b"),
        (b"\t ", b""),
        (b"plain", b"plain"),
    ],
    ids=repr,
)
def test_field_value_without_surrounding_whitespace(raw: bytes, value: bytes) -> None:
    rec = parse_ways(b"GET / HTTP/1.1\r\nHost: h\r\nX-Pad: " + raw + b"\r\n\r\n")
    assert rec.heads[0].raw_headers == [(b"Host", b"h"), (b"X-Pad", value)]


def test_special_fields_without_trailing_whitespace() -> None:
    rec = parse_ways(
        b"POST / HTTP/1.1\r\nHost: h \t\r\nExpect: 100-continue \r\nContent-Length: 3\t\r\n\r\nabc"
    )
    [head] = rec.heads
    assert head.host == "h"
    assert head.expect_continue is True
    assert head.content_length == 3
    assert rec.bodies() == [b"abc"]


# -- Host values (RFC 9112 3.2; issue 17 F5) -----------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        b"example.com",
        b"example.com:8080",
        b"EXAMPLE.com:",
        b"127.0.0.1:80",
        b"[::1]",
        b"[2001:db8::1]:443",
        b"under_score.example",
        b"xn--bcher-kva.ch",
        b"a%41b",
        b"",
    ],
    ids=repr,
)
def test_valid_host_values(host: bytes) -> None:
    rec = parse_ways(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    assert rec.heads[0].host == host.decode()


@pytest.mark.parametrize(
    "host",
    [
        pytest.param(b"[:/", id="F5-bracket"),
        pytest.param(b"a\xef\xbc\xbb", id="F5-fullwidth-bracket"),
        pytest.param(b"h:99999", id="port-out-of-range"),
        pytest.param(b"h:8o", id="port-not-digits"),
        pytest.param(b"user@h", id="userinfo"),
        pytest.param(b"a b", id="space"),
        pytest.param(b"h/path", id="slash"),
        pytest.param(b"[1]", id="not-ipv6"),
        pytest.param(b"[::1", id="open-bracket"),
        pytest.param(b"::1", id="bare-ipv6"),
        pytest.param(b"a%zz", id="bad-percent"),
        pytest.param(b"h\x80", id="non-ascii"),
    ],
)
def test_invalid_host_is_400(host: bytes) -> None:
    """RFC 9112 3.2: a Host field with an invalid value MUST get a 400 (5461cf6
    passed these on, and the URL built from them raised later: a 500)."""
    err = refuse_ways(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    assert err.status == 400
    assert err.message == "Invalid Host header"


def test_many_host_names_stay_correct() -> None:
    """More names than the process-wide cache holds are still each checked."""
    data = b"".join(b"GET / HTTP/1.1\r\nHost: h%d.example\r\n\r\n" % i for i in range(600))
    rec = parse(data)
    assert [h.host for h in rec.heads] == [f"h{i}.example" for i in range(600)]
    err, _ = refuse(b"GET / HTTP/1.1\r\nHost: h x\r\n\r\n")
    assert err.status == 400


# -- request targets of the F-list (F1): the parser passes them on -------------------


@pytest.mark.parametrize(
    ("data", "method", "target"),
    [
        (b"GET *0 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET", "*0"),
        (b"GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "http:///x"),
    ],
)
def test_odd_targets_reach_the_listener_as_sent(data: bytes, method: str, target: str) -> None:
    """llhttp takes these; what they mean is the framework's to decide (issue 17 F1)."""
    [head] = parse_ways(data).heads
    assert (head.method, head.target) == (method, target)


def test_connect_authority_form_is_an_upgrade() -> None:
    rec = Recorder()
    parser = RequestParser(rec)
    data = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
    assert parser.feed(data + b"\x16\x03") == b"\x16\x03"
    [head] = rec.heads
    assert (head.method, head.target, head.upgrade) == ("CONNECT", "example.com:443", True)


@pytest.mark.parametrize(
    ("field", "expect", "expect_continue"),
    [
        (b"", False, False),
        (b"Expect: 100-continue\r\n", True, True),
        (b"Expect: 100-Continue\r\n", True, True),
        (b"Expect: something-else\r\n", True, False),
        (b"expect: \r\n", False, False),  # an empty Expect expects nothing
        (b"Expect: 100-continue\r\nExpect: foo\r\n", True, True),  # the first counts
    ],
)
def test_expect_field_is_reported(field: bytes, expect: bool, expect_continue: bool) -> None:
    """``expect`` says an Expect field came (the framework's 417 for other values
    needs it), and it is reset for the next head on the connection."""
    data = b"GET / HTTP/1.1\r\nHost: h\r\n" + field + b"\r\n"
    for rec in (parse(data + data), parse_bytewise(data + data)):
        first, second = rec.heads
        assert (first.expect, first.expect_continue) == (expect, expect_continue)
        assert (second.expect, second.expect_continue) == (expect, expect_continue)
    for rec in (parse(data + b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"),):
        assert (rec.heads[1].expect, rec.heads[1].expect_continue) == (False, False)


# -- what the refusal knows of the request ------------------------------------------


def test_http2_connection_preface_is_505() -> None:
    """llhttp stops at ``PRI * HTTP/2.0`` (its "Pause on PRI/Upgrade", which aiohttp
    answers with a 400): a version this server does not speak."""
    err, rec = refuse(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    assert err.status == 505
    assert rec.heads == []


@pytest.mark.parametrize(
    ("data", "head_only"),
    [
        pytest.param(b"HEAD /" + b"a" * 9000, True, id="head-414"),
        pytest.param(
            b"HEAD / HTTP/1.1\r\nHost: h\r\nX: " + b"b" * 9000 + b"\r\n\r\n", True, id="head-431"
        ),
        pytest.param(b"HEAD / HTTP/1.1\r\nHost h\r\n\r\n", True, id="head-400"),
        pytest.param(b"HEAD / HTTP/1.1\r\nX: y\r\n\r\n", True, id="head-no-host"),
        pytest.param(b"GET /" + b"a" * 9000, False, id="get-414"),
        pytest.param(b"HEA\x01 / HTTP/1.1\r\n\r\n", False, id="bad-method"),
    ],
)
def test_refusal_of_a_head_request_is_head_only(data: bytes, head_only: bool) -> None:
    """RFC 9110 9.3.2: the server answers a HEAD request's refusal without a body."""
    err, _ = refuse(data)
    assert err.head_only is head_only


def test_head_only_is_this_requests_method_not_the_last_ones() -> None:
    """After a HEAD request, a next request refused before its method is known is not
    taken for a HEAD (llhttp keeps the last method until a new one is parsed)."""
    err, rec = refuse(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n\x01BAD / HTTP/1.1\r\n\r\n")
    assert [h.method for h in rec.heads] == ["HEAD"]
    assert err.head_only is False
