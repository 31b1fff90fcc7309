"""HTTP dates (RFC 9110 section 5.6.7), with the current date cached per second."""

from __future__ import annotations

import time
from datetime import datetime
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
    """Parse an HTTP date; None when it is missing or malformed."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        return None
    return parsed
