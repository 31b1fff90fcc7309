"""Conditional requests (RFC 9110 section 13) as pure functions of plain values.

The rules, in the order RFC 9110 13.2.2 evaluates them for a resource that has a
current representation (its entity tag and its modification time, in whole
seconds since HTTP dates have no finer resolution):

1. If-Match present: false -> 412 (13.1.1, strong comparison).
2. Else If-Unmodified-Since present: modified after it -> 412 (13.1.4).
3. If-None-Match present: false -> 304 for GET/HEAD, 412 otherwise (13.1.2,
   weak comparison).
4. Else If-Modified-Since on GET/HEAD: not modified since -> 304 (13.1.3).
5. If-Range decides whether a Range is honoured at all (13.1.5): see
   :func:`if_range_holds`.

Nothing here raises on a client's value: a malformed date is absent (the caller
parses it to None) and a malformed entity tag list stops at the first bad element.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from squall.http.dates import parse_http_date
from squall.http.etag import ETAG_ANY, ETag

NOT_MODIFIED = 304
PRECONDITION_FAILED = 412


def strong_match(a: ETag, b: ETag) -> bool:
    """RFC 9110 8.8.3.2: both strong and their opaque values equal."""
    return not a.is_weak and not b.is_weak and a.value == b.value


def weak_match(a: ETag, b: ETag) -> bool:
    """RFC 9110 8.8.3.2: the opaque values equal, weakness ignored."""
    return a.value == b.value


def _any(tags: Sequence[ETag]) -> bool:
    return len(tags) == 1 and tags[0].value == ETAG_ANY and not tags[0].is_weak


def if_match_holds(tags: Sequence[ETag], current: ETag | None) -> bool:
    """RFC 9110 13.1.1: ``*`` holds for any current representation; else a tag
    of the list must strongly match the current one."""
    if current is None:
        return False
    if _any(tags):
        return True
    return any(strong_match(tag, current) for tag in tags)


def if_none_match_holds(tags: Sequence[ETag], current: ETag | None) -> bool:
    """RFC 9110 13.1.2: false when ``*`` meets a current representation, or a
    tag of the list weakly matches the current one."""
    if current is None:
        return True
    if _any(tags):
        return False
    return not any(weak_match(tag, current) for tag in tags)


def modified_since(mtime: int, date: datetime) -> bool:
    """RFC 9110 13.1.3/13.1.4: modified after ``date`` (both to the second)."""
    return mtime > int(date.timestamp())


def evaluate_preconditions(
    method: str,
    etag: ETag | None,
    mtime: int | None,
    *,
    if_match: Sequence[ETag] | None = None,
    if_none_match: Sequence[ETag] | None = None,
    if_modified_since: datetime | None = None,
    if_unmodified_since: datetime | None = None,
) -> int | None:
    """The status the preconditions impose (304 or 412), or None to go on.

    RFC 9110 13.2.2, steps 1 to 4 (the module docstring). ``mtime`` is the
    representation's modification time in whole seconds, None if unknown (then
    the date conditions are ignored, as 13.1.3 and 13.1.4 allow).
    """
    if if_match is not None:  # step 1
        if not if_match_holds(if_match, etag):
            return PRECONDITION_FAILED
    elif (
        if_unmodified_since is not None  # step 2
        and mtime is not None
        and modified_since(mtime, if_unmodified_since)
    ):
        return PRECONDITION_FAILED
    get_or_head = method in ("GET", "HEAD")
    if if_none_match is not None:  # step 3
        if not if_none_match_holds(if_none_match, etag):
            return NOT_MODIFIED if get_or_head else PRECONDITION_FAILED
    elif (
        if_modified_since is not None  # step 4
        and mtime is not None
        and get_or_head
        and not modified_since(mtime, if_modified_since)
    ):
        return NOT_MODIFIED
    return None


def if_range_holds(value: str | None, etag: ETag | None, mtime: int | None) -> bool:
    """RFC 9110 13.1.5: True when a Range may be honoured.

    Absent: True. An entity tag (it starts with a DQUOTE, or ``W/``): it must
    strongly match the current tag, so a weak one never does. Otherwise an
    HTTP-date that must equal the modification time exactly; a malformed
    value holds nothing (the whole representation is sent).
    """
    if value is None:
        return True
    value = value.strip(" \t")
    if value.startswith(('"', "W/")):
        if etag is None or value.startswith("W/") or len(value) < 2 or not value.endswith('"'):
            return False
        return strong_match(ETag(value[1:-1]), etag)
    date = parse_http_date(value)
    if date is None or mtime is None:
        return False
    return int(date.timestamp()) == mtime
