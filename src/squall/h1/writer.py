"""Response framing (RFC 9112 sections 4, 6 and 7.1): the status line, header
lines and chunked transfer coding, as bytes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from squall.h1.errors import ProtocolError
from squall.http.dates import http_date_now
from squall.http.product import SERVER_SOFTWARE

_STATUS_LINES: dict[tuple[tuple[int, int], int, str], str] = {}


def _status_line(version: tuple[int, int], status: int, reason: str) -> str:
    key = (version, status, reason)
    line = _STATUS_LINES.get(key)
    if line is None:
        line = f"HTTP/{version[0]}.{version[1]} {status} {reason}\r\n"
        if len(_STATUS_LINES) < 512:  # PERF: the common lines, formatted once
            _STATUS_LINES[key] = line
    return line


class HeaderInjectionError(ProtocolError):
    """A header name or value (or the reason) held a control character."""

    def __init__(self) -> None:
        super().__init__(500, "Control character in response header")


class HeaderNameError(HeaderInjectionError, ValueError):
    """A header name was not a token (RFC 9110 5.1)."""

    def __init__(self, name: str) -> None:
        ProtocolError.__init__(self, 500, f"Invalid response header name {name!r}")


# Controls other than HTAB, CR and LF (those two are counted apart, below)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# RFC 9110 5.6.2: token = 1*tchar
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# PERF: names already found to be tokens: a name in here costs one set lookup. The
# set is bounded, so names chosen by clients (a handler that echoes them) cannot
# grow it: past the bound a new name is matched each time.
_TOKEN_NAMES = {
    "Cache-Control",
    "Connection",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Length",
    "Content-Type",
    "Date",
    "ETag",
    "Last-Modified",
    "Location",
    "Server",
    "Set-Cookie",
    "Transfer-Encoding",
    "Vary",
}
_TOKEN_NAMES_MAX = 1024


def _checked_line(name: str, value: str) -> str:
    """The header line of a name not seen before, once it is found to be a token.

    SECURITY: "X:A" would be read as the field "X" by a lenient client, "X A" and
    "" are invalid lines that some clients skip and others reject; aiohttp sends
    them as they are.
    """
    if not isinstance(name, str) or _TOKEN.fullmatch(name) is None:
        raise HeaderNameError(name)
    if len(_TOKEN_NAMES) < _TOKEN_NAMES_MAX:
        _TOKEN_NAMES.add(name)
    return f"{name}: {value}\r\n"


def render_head(
    version: tuple[int, int], status: int, reason: str, headers: Sequence[tuple[str, str]]
) -> bytes:
    """Serialise a response head, refusing control characters inside any field
    and a header name that is not a token.

    SECURITY: a CR or LF inside a name, value or reason would let whoever chose
    that value inject headers or a whole response (CWE-113). The joined text has
    exactly one CR and one LF per line when no field holds one, so counting them
    checks every field at once. Other controls (NUL, DEL...) end the line early
    for some parsers and are refused by strict clients: RFC 9110 5.5 allows
    none but HTAB, and one scan of the whole text finds them.
    """
    line = _STATUS_LINES.get((version, status, reason)) or _status_line(version, status, reason)
    lines = [
        f"{name}: {value}\r\n" if name in _TOKEN_NAMES else _checked_line(name, value)
        for name, value in headers
    ]
    text = line + "".join(lines) + "\r\n"
    if not _printable(reason, headers):
        n = len(headers) + 2
        if text.count("\n") != n or text.count("\r") != n or _CONTROL.search(text) is not None:
            raise HeaderInjectionError()
    return text.encode("utf-8", "surrogateescape")


def _printable(reason: str, headers: Sequence[tuple[str, str]]) -> bool:
    """True when the reason and every value are printable (``str.isprintable``: no
    control character at all, CR, LF and HTAB included), so the head needs no
    closer look. Names are tokens, checked apart.

    PERF: one C scan per value instead of two counts and a regex over the whole
    text (1.3 -> 0.5 µs for a 200-byte Set-Cookie line); a value that is not
    printable (an HTAB, a non-ASCII space) gets the exact checks."""
    if not reason.isprintable():
        return False
    for _, value in headers:  # noqa: SIM110  (PERF: a loop, not all() over a generator)
        if type(value) is not str or not value.isprintable():  # (an int goes as its text)
            return False
    return True


def render_lines(headers: Sequence[tuple[str, str]]) -> bytes:
    """Header lines alone, refused as ``render_head`` refuses them."""
    text = "".join(
        [
            f"{name}: {value}\r\n" if name in _TOKEN_NAMES else _checked_line(name, value)
            for name, value in headers
        ]
    )
    if not _printable("", headers):
        n = len(headers)
        if text.count("\n") != n or text.count("\r") != n or _CONTROL.search(text) is not None:
            raise HeaderInjectionError()
    return text.encode("utf-8", "surrogateescape")


_SIMPLE: dict[tuple[tuple[int, int], int, str, str | None, bool], tuple[bytes, bytes]] = {}
_date_text = ""
_date_lines = b""


def _date_server_lines() -> bytes:
    global _date_text, _date_lines
    now = http_date_now()
    if now is not _date_text:
        _date_text = now
        _date_lines = f"Date: {now}\r\nServer: {SERVER_SOFTWARE}\r\n".encode()
    return _date_lines


def _simple_parts(
    version: tuple[int, int], status: int, reason: str, content_type: str | None, empty: bool
) -> tuple[bytes, bytes]:
    """The bytes before and after the length digits of a simple head.

    SECURITY: the head is assembled around the length slot, never found by
    searching rendered text, so a Content-Type value that contains
    ``Content-Length: `` cannot move the digits into itself. Every field still
    goes through ``render_head``'s CR/LF check.
    """
    if content_type is None:
        before = render_head(version, status, reason, [])[:-2]
        after = b"\r\n" if empty else b"\r\nContent-Type: application/octet-stream\r\n"
    else:
        before = render_head(version, status, reason, [("Content-Type", content_type)])[:-2]
        after = b"\r\n"
    return before + _LENGTH_NAME, after


_LENGTH_NAME = b"Content-Length: "


def render_simple_head(
    version: tuple[int, int],
    status: int,
    reason: str,
    content_type: str | None,
    length: int,
    connection: bytes,
    extra: bytes = b"",
    cookies: bytes = b"",
) -> bytes:
    """The head of a response with only the standard headers, in aiohttp's order.

    ``Content-Type`` (``application/octet-stream`` after the length when None and
    the body is not empty), the ``extra`` lines (``render_lines``: fields the
    handler set that frame nothing), ``Content-Length``, the ``cookies`` lines
    (``set_cookie()``'s), ``Date``, ``Server``, then the ``connection`` line (b"" or
    a whole ``Connection: ...\r\n``).

    PERF: everything but the length and the date is rendered, checked and
    cached once per (status, reason, content type); a response head costs a
    dict lookup and a few concatenations.
    """
    global _heads_date
    now = http_date_now()
    if now is not _heads_date:  # whole heads are valid for the second they name
        _HEADS.clear()
        _heads_date = now
    hkey = (status, content_type, length, connection, reason, version)
    if not (extra or cookies):
        head = _HEADS.get(hkey)
        if head is not None:
            return head
    key = (version, status, reason, content_type, length == 0)
    parts = _SIMPLE.get(key)
    if parts is None:
        parts = _simple_parts(version, status, reason, content_type, length == 0)
        if len(_SIMPLE) < 1024:
            _SIMPLE[key] = parts
    if extra or cookies:
        # the fields go before the length (parts[0] ends with its name), the
        # cookies after its line (parts[1] starts with its CRLF)
        before, after = parts
        return b"%b%b%b%d\r\n%b%b%b%b\r\n" % (
            before[: -len(_LENGTH_NAME)],
            extra,
            _LENGTH_NAME,
            length,
            cookies,
            after[2:],
            _date_server_lines(),
            connection,
        )
    head = b"%b%d%b%b%b\r\n" % (parts[0], length, parts[1], _date_server_lines(), connection)
    if len(_HEADS) < 256:
        _HEADS[hkey] = head
    return head


# PERF: the same few responses (same status, type and length) repeat within a
# second; their whole heads are kept until the Date changes.
_HEADS: dict[tuple[object, ...], bytes] = {}
_heads_date = ""


def chunk(data: bytes) -> bytes:
    """Frame ``data`` as one chunk (an empty chunk would end the body, so b"" stays b"")."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
