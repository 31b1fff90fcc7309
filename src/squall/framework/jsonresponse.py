"""``json_response`` and ``json_bytes_response``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from json.encoder import JSONEncoder as _StdJSONEncoder
from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring_ascii as _encode_ascii
from typing import Any, overload

from squall.framework.response import Response

JSONEncoder = Callable[[Any], str]
_std_default = _StdJSONEncoder().default


def _dumps(obj: Any) -> str:
    """``json.dumps(obj)`` with its defaults, without its Python set-up.

    PERF: ``json.dumps`` builds a JSONEncoder and walks its options in Python
    for every call (about 0.5 µs); this calls the C encoder it ends up in
    with the same settings (ensure_ascii, ", " and ": ", circular check, NaN
    allowed), so the output is byte for byte the same.
    """
    if _c_make_encoder is None:  # pragma: no cover - CPython always has it
        return json.dumps(obj)
    if isinstance(obj, str):
        return _encode_ascii(obj)
    encode = _c_make_encoder({}, _std_default, _encode_ascii, None, ": ", ", ", False, False, True)
    return "".join(encode(obj, 0))


_sentinel: Any = object()


@overload
def json_response(data: Any = ..., *, dumps: JSONEncoder = ...) -> Response: ...
@overload
def json_response(
    data: Any = ...,
    *,
    text: str | None = ...,
    body: bytes | None = ...,
    status: int = ...,
    reason: str | None = ...,
    headers: Mapping[str, str] | None = ...,
    content_type: str = ...,
    dumps: JSONEncoder = ...,
) -> Response: ...
def json_response(
    data: Any = _sentinel,
    *,
    text: str | None = None,
    body: bytes | None = None,
    status: int = 200,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
    dumps: JSONEncoder = _dumps,
) -> Response:
    """Return a Response holding ``data`` serialised as JSON (``json.dumps`` by default)."""
    if data is not _sentinel:
        if text or body:
            raise ValueError("only one of data, text, or body should be specified")
        text = dumps(data)
    return Response(
        text=text,
        body=body,
        status=status,
        reason=reason,
        headers=headers,
        content_type=content_type,
    )


def json_bytes_response(
    data: Any = _sentinel,
    *,
    body: bytes | None = None,
    status: int = 200,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
    dumps: Callable[[Any], bytes] = lambda obj: json.dumps(obj).encode(),
) -> Response:
    """Like :func:`json_response` for encoders that return bytes (orjson)."""
    if data is not _sentinel:
        if body:
            raise ValueError("only one of data or body should be specified")
        body = dumps(data)
    return Response(
        body=body, status=status, reason=reason, headers=headers, content_type=content_type
    )
