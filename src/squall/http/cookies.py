"""Cookies (RFC 6265): reading a Cookie header, writing Set-Cookie values."""

from __future__ import annotations

from http.cookies import Morsel, SimpleCookie

# NOTE: SimpleCookie.load() gives up on the whole header at the first cookie it
# cannot parse, so one bad cookie set by some other site on the domain would
# hide all the others; browsers are lenient, and so is this parser.


def parse_cookie_header(value: str) -> dict[str, str]:
    """Return the name/value pairs of a Cookie request header (first one wins)."""
    cookies: dict[str, str] = {}
    for pair in value.split(";"):
        name, sep, val = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            continue
        val = val.strip()
        if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
            val = _unquote(val[1:-1])
        cookies.setdefault(name, val)
    return cookies


def _unquote(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 3 < len(value) and value[i + 1 : i + 4].isdigit():
            out.append(chr(int(value[i + 1 : i + 4], 8)))
            i += 4
        elif ch == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def set_morsel(
    jar: SimpleCookie,
    name: str,
    value: str,
    *,
    expires: str | None = None,
    domain: str | None = None,
    max_age: int | str | None = None,
    path: str = "/",
    secure: bool | None = None,
    httponly: bool | None = None,
    version: str | None = None,
    samesite: str | None = None,
    partitioned: bool | None = None,
) -> Morsel[str]:
    """Put a cookie into ``jar``, replacing one of the same name."""
    old = jar.get(name)
    if old is not None and old.coded_value == "":
        # a deleted cookie being set again: start from clean attributes
        del jar[name]
    jar[name] = value
    morsel = jar[name]
    if expires is not None:
        morsel["expires"] = expires
    elif morsel.get("expires") == "Thu, 01 Jan 1970 00:00:00 GMT":
        del morsel["expires"]
    if domain is not None:
        morsel["domain"] = domain
    if max_age is not None:
        morsel["max-age"] = str(max_age)
    elif "max-age" in morsel:
        del morsel["max-age"]
    morsel["path"] = path
    if secure is not None:
        morsel["secure"] = secure
    if httponly is not None:
        morsel["httponly"] = httponly
    if version is not None:
        morsel["version"] = version
    if samesite is not None:
        morsel["samesite"] = samesite
    # NOTE: ``partitioned`` is accepted for aiohttp's signature; Python 3.11's
    # Morsel cannot carry the attribute (3.14 can), so it is not written yet.
    del partitioned
    return morsel
