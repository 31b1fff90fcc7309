"""The Forwarded header (RFC 7239): what each proxy on the way said about the request.

SECURITY: nothing here is trusted. The values are what the client (or any proxy)
wrote; a server behind a proxy must decide which elements to believe (the last
one, added by its own proxy, usually). Nothing in Squall uses them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

# RFC 7239 4: forwarded-pair = token "=" value, value = token / quoted-string.
# RFC 9110 5.6.2 token characters; a quoted string's escapes are RFC 9110 5.6.4's.
_TCHAR = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
_PAIR = re.compile(
    rf"([{_TCHAR}]+)=([{_TCHAR}]+|\"(?:\\[\t !-~]|[\t !\x23-\x5b\x5d-\x7e\x80-\U0010ffff])*\")"
    # NOTE: an unquoted "for=192.0.2.1:8080" is not valid (":" is not a token
    # character) but common; its port is kept, as aiohttp keeps it.
    r"(:[0-9]{1,4})?"
)
_ESCAPE = re.compile(r"\\([\t !-~])")


def parse_forwarded(field_values: Iterable[str]) -> tuple[Mapping[str, str], ...]:
    """Return one read-only mapping per forwarded-element, in the order sent.

    Each field line is a comma-separated list of elements (one per proxy), each
    element ``;``-separated ``name=value`` pairs. Names are lower-cased, quoted
    values unquoted. A pair with bad syntax makes the rest of its element up to
    the next comma be skipped; nothing else is validated (RFC 7239 6 leaves
    ``for``/``by``/``host``/``proto`` to the reader), as aiohttp does.
    """
    elements: list[Mapping[str, str]] = []
    for field in field_values:
        elements.extend(_parse_field(field))
    return tuple(elements)


def _parse_field(field: str) -> list[Mapping[str, str]]:
    current: dict[str, str] = {}
    elements: list[Mapping[str, str]] = [MappingProxyType(current)]
    pos = 0
    size = len(field)
    expect_separator = False  # a pair was just read: ";" or "," must come next
    while pos < size:
        char = field[pos]
        if char == ",":
            current = {}
            elements.append(MappingProxyType(current))
            expect_separator = False
            pos += 1
        elif char == ";":
            expect_separator = False
            pos += 1
        elif char in " \t":  # RFC 7239 has no spaces around pairs; proxies add them
            pos += 1
        else:
            match = None if expect_separator else _PAIR.match(field, pos)
            if match is None:  # bad syntax: skip to the next element
                comma = field.find(",", pos)
                if comma < 0:
                    break
                pos = comma
                continue
            name, value, port = match.groups()
            if value[0] == '"':
                value = _ESCAPE.sub(r"\1", value[1:-1])
            current[name.lower()] = value + port if port else value
            expect_separator = True
            pos = match.end()
    return elements
