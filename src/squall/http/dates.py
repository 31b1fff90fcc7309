"""HTTP dates (RFC 9110 section 5.6.7), with the current date cached per second."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime

_cached_second = 0
_cached_value = ""


def http_date_now() -> str:
    """Return the current time as an IMF-fixdate, computed at most once a second."""
    # PERF: every response carries a Date header; formatting it costs ~2 µs,
    # a second-resolution cache makes it a comparison.
    global _cached_second, _cached_value
    now = int(time.time())
    if now != _cached_second:
        _cached_second = now
        _cached_value = formatdate(now, usegmt=True)
    return _cached_value


def format_http_date(timestamp: float) -> str:
    """Format a POSIX timestamp as an IMF-fixdate."""
    return formatdate(timestamp, usegmt=True)


def parse_http_date(value: str | None) -> datetime | None:
    """Parse an HTTP date as an aware UTC datetime; None when it is missing or malformed.

    RFC 9110 5.6.7: every HTTP date is in UTC, and a recipient must accept the
    obsolete forms too (RFC 850, asctime), which carry no zone: they are read as UTC.
    """
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except Exception:
        # SECURITY: the value comes from the client, and the stdlib parser fails in
        # undocumented ways (TypeError, ValueError, and OverflowError on a year or
        # hour of ten digits, found by fuzzing): whatever the failure, a malformed
        # date is None, never an exception in a handler.
        return None
