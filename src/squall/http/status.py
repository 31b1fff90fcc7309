"""Status codes and their reason phrases (RFC 9110 section 15)."""

from __future__ import annotations

from http import HTTPStatus

REASONS: dict[int, str] = {s.value: s.phrase for s in HTTPStatus}
# RFC 9110 renamed these; aiohttp (and most clients' logs) still use the old phrases.
REASONS[413] = "Request Entity Too Large"
REASONS[414] = "Request-URI Too Long"
REASONS[416] = "Requested Range Not Satisfiable"
REASONS[422] = "Unprocessable Entity"


def reason_for(status: int) -> str:
    """Return the standard reason phrase for ``status`` ("" when there is none)."""
    return REASONS.get(status, "")


def body_forbidden(method: str, status: int) -> bool:
    """True when the response must not carry a body (RFC 9110 6.4.1, 9112 6.3)."""
    return (
        method == "HEAD"
        or status < 200
        or status in (204, 304)
        or (method == "CONNECT" and 200 <= status < 300)
    )
