"""``normalize_path_middleware``: redirect a 404 to the path the user meant.

A request whose path does not resolve is tried again with its slashes fixed
(doubles merged, a trailing one added or removed); the first variant that
resolves is where the client is redirected.

SECURITY: the redirect target comes from the client's request, so it is the
classic open-redirect vector (aiohttp GHSA-v6wp-4m6f-gcjg, and its absolute-form
``Location: http://evil.example/page/`` in 3.14). The invariant here, checked on
the candidate before it is resolved, so the ``Location`` is exactly what was
resolved:

1. The ``Location`` is built from the path and query of ``request.rel_url`` only:
   never from the raw request-target, so an absolute-form target
   (``GET http://evil.example/page``) cannot lend it a scheme or a host.
2. Every character outside RFC 3986's ``pchar`` (a backslash, a control
   character, a space, a non-ASCII byte) is percent-encoded; ``%`` is kept only
   before two hex digits. So no browser can read ``\\`` as ``/`` or strip a tab
   to join two slashes.
3. The path starts with exactly one ``/``: a leading run of slashes is cut to
   one, so ``//evil.example`` (a network-path reference) cannot come out.
4. A candidate with a dot segment (``.``, ``..``, ``%2e``…) is not offered:
   clients resolve those against the path, which can turn ``/..//x`` into ``//x``.

So a ``Location`` is always ``/`` alone or ``/`` then a character that is neither
``/`` nor ``\\``, a same-site path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from yarl import URL

from squall.framework.aliases import Handler, Middleware
from squall.framework.app import middleware
from squall.framework.exceptions import HTTPMove, HTTPPermanentRedirect
from squall.framework.request import Request
from squall.framework.response import StreamResponse

_SLASHES = re.compile("//+")
# RFC 3986 3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; plus "/"
_PATH_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/"
)
_QUERY_SAFE = _PATH_SAFE | {"?"}  # RFC 3986 3.4
_HEX = "0123456789abcdefABCDEF"
_PAIRS = frozenset(a + b for a in _HEX for b in _HEX)  # what may follow a kept "%"
_DOT_SEGMENTS = frozenset({".", ".."})


def normalize_path_middleware(
    *,
    append_slash: bool = True,
    remove_slash: bool = False,
    merge_slashes: bool = True,
    redirect_class: type[HTTPMove] = HTTPPermanentRedirect,
) -> Middleware:
    """Make a middleware that redirects a 404 to the normalized path if that resolves.

    The variants are tried in aiohttp's order: slashes merged, then the trailing
    slash appended (``append_slash``) or removed (``remove_slash``), then both.
    The query string is kept. ``redirect_class(location)`` is raised for the
    first that resolves; the ``Location`` is always a path on this site.
    """
    if append_slash and remove_slash:
        raise AssertionError("Cannot both remove and append slash")

    @middleware
    async def normalize_path(request: Request, handler: Handler) -> StreamResponse:
        exc = request.match_info.http_exception
        if exc is not None and exc.status == 404:
            path = request.rel_url.raw_path
            if path[:1] != "/":  # "*" (OPTIONS) or a CONNECT's: no path to fix
                return await handler(request)
            for candidate in _candidates(path, append_slash, remove_slash, merge_slashes):
                if await _resolves(request, candidate):
                    raise redirect_class(_with_query(candidate, request.rel_url))
        return await handler(request)

    return normalize_path


def _candidates(path: str, append: bool, remove: bool, merge: bool) -> Iterator[str]:
    """The safe variants of ``path`` (percent-encoded), in aiohttp's order, once each;
    not ``path`` itself, which did not resolve."""
    variants: list[str] = []
    merged = _SLASHES.sub("/", path)
    if merge:
        variants.append(merged)
    # NOTE: the trailing slash is judged on the encoded path: "%2F" is data, not
    # a separator (aiohttp looks at the decoded path and can cut "%2F" in half)
    if append and not path.endswith("/"):
        variants.append(path + "/")
    if remove and path.endswith("/"):
        variants.append(path[:-1])
    if merge and append and not merged.endswith("/"):
        variants.append(merged + "/")
    if merge and remove and merged.endswith("/"):
        # aiohttp cuts the last character even when it is not a slash
        variants.append(merged[:-1])
    seen = {path}
    for variant in variants:
        safe = _local_path(variant)
        if safe is not None and safe not in seen:
            seen.add(safe)
            yield safe


def _local_path(path: str) -> str | None:
    """``path`` as a same-site absolute path, or None when it cannot be one."""
    encoded = _encode(path, _PATH_SAFE)
    local = "/" + encoded.lstrip("/")  # SECURITY: never "//host" (rule 3)
    for segment in local.split("/"):
        if "%" in segment:
            segment = segment.replace("%2e", ".").replace("%2E", ".")
        if segment in _DOT_SEGMENTS:
            return None  # SECURITY: rule 4
    return local


def _encode(text: str, safe: frozenset[str]) -> str:
    """Percent-encode every character of ``text`` outside ``safe`` (rule 2)."""
    out: list[str] = []
    for i, char in enumerate(text):
        if char in safe or (char == "%" and text[i + 1 : i + 3] in _PAIRS):
            out.append(char)
        else:
            # the target was decoded with surrogateescape: these are its bytes
            raw = char.encode("utf-8", "surrogateescape")
            out.append("".join(f"%{byte:02X}" for byte in raw))
    return "".join(out)


def _with_query(path: str, rel_url: URL) -> str:
    query = rel_url.raw_query_string
    return f"{path}?{_encode(query, _QUERY_SAFE)}" if query else path


async def _resolves(request: Request, path: str) -> bool:
    """Whether ``path`` routes to a handler for the request's method."""
    alt = request.clone(rel_url=URL.build(path=path, encoded=True))
    info = await request.app.router.resolve(alt)
    return info.http_exception is None


__all__ = ["normalize_path_middleware"]
