"""Media types (RFC 9110 section 8.3): split a Content-Type into type and parameters."""

from __future__ import annotations

from email.message import Message


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Return the lower-cased media type and its parameters.

    A missing value gives ``application/octet-stream``, as RFC 9110 8.3 suggests and
    as aiohttp reports it.
    """
    if not value:
        return "application/octet-stream", {}
    msg = Message()
    msg["content-type"] = value
    params = msg.get_params() or []
    mimetype = params[0][0].lower() if params else ""
    if mimetype.count("/") != 1:  # as email.message.Message.get_content_type()
        mimetype = "application/octet-stream"
    return mimetype, {k.lower(): v for k, v in params[1:]}
