"""The Connection header field (RFC 9110 7.6.1): a list of connection options."""

from __future__ import annotations

from collections.abc import Iterable


def connection_options(values: Iterable[str]) -> frozenset[str]:
    """The options named in Connection field values, lower-cased.

    RFC 9110 7.6.1: ``Connection = #connection-option``, a comma-separated list
    (5.6.1: empty elements and optional whitespace around them are allowed) of
    case-insensitive tokens, possibly split over several field lines.
    """
    return frozenset(
        option
        for value in values
        for item in value.split(",")
        if (option := item.strip(" \t").lower())
    )


def asks_close(values: Iterable[str]) -> bool:
    """True when the Connection field values include the ``close`` option."""
    return "close" in connection_options(values)
