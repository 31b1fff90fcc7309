"""Response framing (RFC 9112 sections 4, 6 and 7.1): the status line, header
lines and chunked transfer coding, as bytes."""

from __future__ import annotations

from collections.abc import Sequence

from squall.h1.errors import ProtocolError

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
    """A header name or value (or the reason) held CR or LF."""

    def __init__(self) -> None:
        super().__init__(500, "Newline in response header")


def render_head(
    version: tuple[int, int], status: int, reason: str, headers: Sequence[tuple[str, str]]
) -> bytes:
    """Serialise a response head, refusing CR/LF inside any field.

    SECURITY: a CR or LF inside a name, value or reason would let whoever chose
    that value inject headers or a whole response (CWE-113). The joined text has
    exactly one CR and one LF per line when no field holds one, so counting them
    checks every field at once.
    """
    line = _STATUS_LINES.get((version, status, reason)) or _status_line(version, status, reason)
    text = line + "".join([f"{name}: {value}\r\n" for name, value in headers]) + "\r\n"
    n = len(headers) + 2
    if text.count("\n") != n or text.count("\r") != n:
        raise HeaderInjectionError()
    return text.encode("utf-8", "surrogateescape")


def chunk(data: bytes) -> bytes:
    """Frame ``data`` as one chunk (an empty chunk would end the body, so b"" stays b"")."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
