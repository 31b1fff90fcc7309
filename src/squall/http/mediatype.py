"""Media types (RFC 9110 section 8.3): split a Content-Type into type and parameters."""

from __future__ import annotations

import re

OCTET_STREAM = "application/octet-stream"

# RFC 9110 5.6.6: parameters = *( OWS ";" OWS [ parameter ] ), parameter = name "="
# ( token / quoted-string ). Read leniently, as aiohttp reads them: a name without
# "=" has the value "", anything up to the next ";" is a token, and a quoted string
# may hold ";". Groups: name, quoted value, token value (both None without "=").
_PARAMETER = re.compile(
    r'\s*([^=;]*?)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"(?=\s*(?:;|$))|([^;]*?)))?\s*(?:;|$)'
)
_QUOTED_PAIR = re.compile(r"\\(.)")  # RFC 9110 5.6.4


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Return the lower-cased media type and its parameters (names lower-cased).

    A missing value or one that is not ``type/subtype`` gives
    ``application/octet-stream``, as RFC 9110 8.3 suggests and as aiohttp reports
    it. A parameter sent twice keeps its first value. Never raises: the value
    comes from the client.
    """
    mimetype, _, rest = value.partition(";")
    mimetype = mimetype.strip().lower()
    if mimetype.count("/") != 1:
        mimetype = OCTET_STREAM
    params: dict[str, str] = {}
    pos = 0
    size = len(rest)
    while pos < size:
        match = _PARAMETER.match(rest, pos)
        if match is None or match.end() == pos:  # cannot happen: ";" or the end closes it
            break
        pos = match.end()
        name, quoted, token = match.groups()
        name = name.lower()
        if not name or name in params:
            continue
        if quoted is not None:
            params[name] = _QUOTED_PAIR.sub(r"\1", quoted)
        else:
            params[name] = token or ""
    return mimetype, params
