"""``squall.h1.writer``: response heads and chunked framing as bytes."""

from __future__ import annotations

import pytest

from squall.h1.errors import ProtocolError
from squall.h1.writer import LAST_CHUNK, HeaderInjectionError, chunk, render_head


def test_render_head_bytes() -> None:
    head = render_head((1, 1), 200, "OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    assert head == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"


def test_render_head_without_headers() -> None:
    assert render_head((1, 0), 404, "Not Found", []) == b"HTTP/1.0 404 Not Found\r\n\r\n"


def test_render_head_keeps_order_and_duplicates() -> None:
    head = render_head((1, 1), 302, "Found", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert head == b"HTTP/1.1 302 Found\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"


def test_render_head_custom_reason() -> None:
    head = render_head((1, 1), 299, "Fine Enough", [])
    assert head.startswith(b"HTTP/1.1 299 Fine Enough\r\n")


def test_render_head_is_stable_when_repeated() -> None:
    """The status-line cache never changes what comes out."""
    first = render_head((1, 1), 200, "OK", [("A", "1")])
    for _ in range(1000):
        assert render_head((1, 1), 200, "OK", [("A", "1")]) == first
    for i in range(600):  # more distinct lines than the cache holds
        assert render_head((1, 1), 200, f"R{i}", []) == b"HTTP/1.1 200 R%d\r\n\r\n" % i


@pytest.mark.parametrize("bad", ["\r", "\n", "\r\n", "a\r\nX-Injected: 1", "\n\r"], ids=repr)
def test_newline_in_header_value_is_refused(bad: str) -> None:
    with pytest.raises(HeaderInjectionError):
        render_head((1, 1), 200, "OK", [("X-A", "a" + bad + "b")])


@pytest.mark.parametrize("bad", ["\r", "\n", "\r\n"], ids=repr)
def test_newline_in_header_name_is_refused(bad: str) -> None:
    with pytest.raises(HeaderInjectionError):
        render_head((1, 1), 200, "OK", [("X" + bad + "A", "b")])


@pytest.mark.parametrize("bad", ["\r", "\n", "\r\n", "OK\r\nSet-Cookie: x=1"], ids=repr)
def test_newline_in_reason_is_refused(bad: str) -> None:
    with pytest.raises(HeaderInjectionError):
        render_head((1, 1), 200, "O" + bad + "K", [])


def test_response_splitting_in_a_later_header_is_refused() -> None:
    headers = [("A", "1"), ("B", "2"), ("C", "3\r\n\r\nHTTP/1.1 200 OK")]
    with pytest.raises(HeaderInjectionError):
        render_head((1, 1), 200, "OK", headers)


def test_balanced_cr_and_lf_in_different_fields_is_refused() -> None:
    """A lone CR in one field and a lone LF in another must not cancel out."""
    with pytest.raises(HeaderInjectionError):
        render_head((1, 1), 200, "OK", [("A", "x\r"), ("B", "\ny")])
    with pytest.raises(HeaderInjectionError):
        render_head((1, 1), 200, "O\rK", [("B", "\ny")])


def test_header_injection_error_is_a_500_protocol_error() -> None:
    err = HeaderInjectionError()
    assert isinstance(err, ProtocolError)
    assert err.status == 500


def test_chunk_framing() -> None:
    assert chunk(b"hello") == b"5\r\nhello\r\n"
    assert chunk(b"x" * 4096) == b"1000\r\n" + b"x" * 4096 + b"\r\n"
    assert chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"


def test_empty_chunk_is_nothing() -> None:
    """An empty chunk would end the body: it becomes no bytes at all."""
    assert chunk(b"") == b""


def test_last_chunk() -> None:
    assert LAST_CHUNK == b"0\r\n\r\n"


def test_chunk_of_binary_data_with_crlf() -> None:
    data = b"\r\n0\r\n\r\n"
    assert chunk(data) == b"7\r\n" + data + b"\r\n"


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f"], ids=repr)
@pytest.mark.parametrize("where", ["name", "value", "reason"])
def test_other_control_characters_are_refused(bad: str, where: str) -> None:
    name = "X" + bad + "A" if where == "name" else "X-A"
    value = "a" + bad + "b" if where == "value" else "ab"
    reason = "O" + bad + "K" if where == "reason" else "OK"
    with pytest.raises(HeaderInjectionError):
        render_head((1, 1), 200, reason, [(name, value)])


def test_tab_and_obs_text_in_a_value_are_sent() -> None:
    head = render_head((1, 1), 200, "OK", [("X-A", "a\tb\u00e9")])
    assert head == "HTTP/1.1 200 OK\r\nX-A: a\tb\u00e9\r\n\r\n".encode()
