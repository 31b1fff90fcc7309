"""Entity tags (RFC 9110 8.8.3)."""

from __future__ import annotations

from typing import NamedTuple


class ETag(NamedTuple):
    value: str
    is_weak: bool = False
