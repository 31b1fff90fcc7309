"""Entity tags (RFC 9110 8.8.3) and the lists of them in If-Match / If-None-Match."""

from __future__ import annotations

import re
from typing import NamedTuple

ETAG_ANY = "*"

# RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E
# / obs-text (any non-ASCII character once decoded). An empty tag is not taken, as
# aiohttp does not take it. Elements are separated by a comma and optional spaces.
_LIST_ELEMENT = re.compile(r'(W/)?"([!\x23-\x7e\x80-\U0010ffff]+)"[ \t]*(?:,[ \t]*|$)')


class ETag(NamedTuple):
    """An entity tag: its opaque value (without quotes) and whether it is weak."""

    value: str
    is_weak: bool = False

    def __eq__(self, other: object) -> bool:
        """As a tuple; and equal to another library's entity tag with the same
        ``value`` and ``is_weak`` (aiohttp's ``ETag``, which code moved over may
        still compare against)."""
        if isinstance(other, tuple):
            return tuple.__eq__(self, other)
        value = getattr(other, "value", None)
        weak = getattr(other, "is_weak", None)
        if isinstance(value, str) and isinstance(weak, bool):
            return self.value == value and self.is_weak == weak
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:  # as a tuple's (defining __eq__ would drop it)
        return tuple.__hash__(self)


def parse_etag_list(value: str | None) -> tuple[ETag, ...] | None:
    """Return the entity tags of an If-Match or If-None-Match value (RFC 9110 13.1.1).

    None when the field is absent or empty; ``(ETag("*"),)`` for ``*``. The list
    stops at the first element that is not a well-formed entity tag (as aiohttp's
    ``Request.if_match`` does).
    """
    if not value:
        return None
    value = value.strip(" \t")
    if value == ETAG_ANY:
        return (ETag(ETAG_ANY),)
    tags: list[ETag] = []
    pos = 0
    size = len(value)
    while pos < size:
        match = _LIST_ELEMENT.match(value, pos)
        if match is None:
            break
        tags.append(ETag(match[2], match[1] is not None))
        pos = match.end()
    return tuple(tags)
