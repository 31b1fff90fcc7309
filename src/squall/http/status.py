"""Status codes and their reason phrases (RFC 9110 section 15)."""

from __future__ import annotations

from http import HTTPStatus

# The interpreter's phrases, as aiohttp takes them: Python 3.13 follows RFC 9110's
# new names (413 "Content Too Large", 414 "URI Too Long", 416 "Range Not
# Satisfiable", 422 "Unprocessable Content"), 3.11 and 3.12 keep the old ones
REASONS: dict[int, str] = {s.value: s.phrase for s in HTTPStatus}


def reason_for(status: int) -> str:
    """Return the standard reason phrase for ``status`` ("" when there is none)."""
    return REASONS.get(status, "")


def bodiless_status(method: str, status: int) -> bool:
    """True when the status itself says no body follows and no body framing is
    sent: 1xx, 204, 304, a 2xx to CONNECT (RFC 9110 8.6, 9.3.6, 15.3.5, 15.4.5)."""
    return status < 200 or status == 204 or status == 304 or (method == "CONNECT" and status < 300)


def body_forbidden(method: str, status: int) -> bool:
    """True when the response must not carry a body (RFC 9110 6.4.1, 9112 6.3):
    a bodiless status, or an answer to HEAD."""
    return method == "HEAD" or bodiless_status(method, status)
