"""Accept-Encoding (RFC 9110 12.5.3): which content coding a client takes.

``choose_coding`` answers with the coding of highest quality among the ones the
server offers, ties going to the server's order; ``identity`` (no coding) when
the client asks for nothing the server has. The rules:

- No Accept-Encoding field: the client takes any coding, but nothing says it
  wants one; the server sends ``identity`` (what aiohttp and most servers do).
- ``q=0`` means "not acceptable"; ``*`` stands for every coding not named.
- ``identity`` is acceptable unless ``identity;q=0``, or ``*;q=0`` without an
  ``identity`` entry. A client refusing identity and every offered coding still
  gets identity: 12.5.3 allows it, and it beats a 406 nobody handles.
- Names and parameters are case-insensitive (RFC 9110 8.4.1); ``x-gzip`` is gzip
  (RFC 9110 8.4.1.3).
"""

from __future__ import annotations

from collections.abc import Sequence

IDENTITY = "identity"
_ALIASES = {"x-gzip": "gzip"}


def parse_accept_encoding(value: str) -> dict[str, float]:
    """The codings of an Accept-Encoding value with their quality (0 to 1).

    A malformed quality makes its element count as ``q=0`` (refused); a coding
    listed twice keeps its first entry.
    """
    result: dict[str, float] = {}
    for element in value.split(","):
        name, _, params = element.partition(";")
        name = name.strip(" \t").lower()
        if not name:
            continue
        name = _ALIASES.get(name, name)
        quality = 1.0
        for param in params.split(";"):
            key, eq, raw = param.partition("=")
            if eq and key.strip(" \t").lower() == "q":
                try:
                    quality = float(raw.strip(" \t"))
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:  # nan and out-of-range included
                    quality = 0.0
        result.setdefault(name, quality)
    return result


def choose_coding(accept: str | None, offered: Sequence[str]) -> str:
    """The coding to send: one of ``offered`` (server's preference first) or identity."""
    if not accept:
        return IDENTITY
    qualities = parse_accept_encoding(accept)
    star = qualities.get("*")
    best = IDENTITY
    best_q = 0.0
    for coding in offered:
        quality = qualities.get(coding, star)
        if quality is not None and quality > best_q:
            best, best_q = coding, quality
    if best == IDENTITY:
        return IDENTITY
    identity_q = qualities.get(IDENTITY)
    if identity_q is not None and identity_q > best_q:
        return IDENTITY  # the client prefers no coding at all
    return best


def accepts(accept: str | None, coding: str) -> bool:
    """True when the client takes ``coding`` (a q above zero, by name or ``*``)."""
    if not accept:
        return False
    qualities = parse_accept_encoding(accept)
    quality = qualities.get(coding, qualities.get("*"))
    return quality is not None and quality > 0.0
