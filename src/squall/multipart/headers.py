"""Part headers (RFC 7578 4.2, RFC 2046 5.1.1): the boundary, a part's header
section, Content-Disposition.

SECURITY: every value here is the client's. A header line holding CR, LF, NUL or
another control character, a folded line, a nameless field, or a second
Content-Disposition or Content-Type is refused: those are how a filename smuggles
a header in (``filename="a\\r\\nContent-Type: text/html"``) or how two readers of the
same part come to disagree about it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from squall.multipart.errors import MultipartError

# RFC 2046 5.1.1: bchars, 1 to 70 of them, not ending in a space
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# RFC 9110 5.6.2 token
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# control characters other than HTAB (RFC 9110 5.5: not in a field value)
_CTL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_UNIQUE = frozenset({"content-disposition", "content-type", "content-transfer-encoding"})

PartHeaders = tuple[tuple[str, str], ...]


def check_boundary(boundary: str) -> bytes:
    """The boundary as bytes; a MultipartError unless RFC 2046 allows it (1 to 70
    bchars). SECURITY: a long boundary makes every search for it slower."""
    if not boundary:
        raise MultipartError("Multipart boundary missing")
    if len(boundary) > 70:
        raise MultipartError("Multipart boundary longer than 70 characters")
    if _BOUNDARY.fullmatch(boundary) is None:
        raise MultipartError("Invalid multipart boundary")
    return boundary.encode("ascii")


def parse_part_headers(section: bytes, max_headers: int) -> PartHeaders:
    """The fields of one part's header section (lines split on CRLF, no final
    blank line): names as sent, values without OWS."""
    if not section:
        return ()
    lines = section.split(b"\r\n")
    if len(lines) > max_headers:
        raise MultipartError("Too many part headers")
    fields: list[tuple[str, str]] = []
    seen: set[str] = set()
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or _TOKEN.fullmatch(name) is None:
            # a folded line (RFC 9112 5.2 obs-fold) starts with whitespace: no token
            raise MultipartError("Invalid part header")
        value = value.strip(b" \t")
        if _CTL.search(value) is not None:
            raise MultipartError("Invalid character in a part header")
        key = name.decode("ascii").lower()
        if key in _UNIQUE:
            if key in seen:
                raise MultipartError(f"Duplicate {key} in a part")
            seen.add(key)
        # browsers send UTF-8 filenames raw (WHATWG HTML: form-data encoding)
        fields.append((name.decode("ascii"), value.decode("utf-8", "surrogateescape")))
    return tuple(fields)


# one parameter: name "=" ( quoted-string / token-ish up to ";" ), RFC 6266 4.1
_PARAM = re.compile(r'\s*;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;"]*?))\s*(?=;|$)')
_QUOTED_PAIR = re.compile(r"\\(.)")


def parse_content_disposition(value: str | None) -> tuple[str | None, dict[str, str]]:
    """Return the disposition type and its parameters (``name``, ``filename``…),
    names lower-cased, ``filename*`` (RFC 5987 ``charset''pct-encoded``) decoded
    into ``filename*``. A value that does not parse whole raises MultipartError:
    an unterminated quote is how a header is smuggled into a filename."""
    if value is None:
        return None, {}
    disptype = value.partition(";")[0].strip().lower()
    if not disptype or _TOKEN.fullmatch(disptype.encode("utf-8", "surrogateescape")) is None:
        raise MultipartError("Malformed Content-Disposition")
    params: dict[str, str] = {}
    pos = value.find(";")
    if pos < 0:
        pos = len(value)
    while pos < len(value):
        if value[pos:].strip() in ("", ";"):  # a trailing ";" is harmless
            break
        match = _PARAM.match(value, pos)
        if match is None:
            raise MultipartError("Malformed Content-Disposition")
        pos = match.end()
        key, quoted, token = match.groups()
        key = key.lower()
        if key in params:
            raise MultipartError("Duplicate Content-Disposition parameter")
        if quoted is not None:
            params[key] = _QUOTED_PAIR.sub(r"\1", quoted)
        elif key.endswith("*"):
            params[key] = _rfc5987(token)
        else:
            params[key] = token
    return disptype, params


def _rfc5987(value: str) -> str:
    charset, quote1, rest = value.partition("'")
    _lang, quote2, encoded = rest.partition("'")
    if not quote1 or not quote2:
        raise MultipartError("Malformed Content-Disposition")
    try:
        return unquote(encoded, charset or "utf-8", "strict")
    except (LookupError, UnicodeDecodeError, ValueError):  # the client's charset
        raise MultipartError("Malformed Content-Disposition") from None


def disposition_param(params: dict[str, str], name: str) -> str | None:
    """``name*`` (RFC 5987, already decoded) wins over ``name``, as RFC 6266 4.3 says."""
    extended = params.get(name + "*")
    return extended if extended is not None else params.get(name)
