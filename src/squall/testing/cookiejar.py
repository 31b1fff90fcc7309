"""``CookieJar``: aiohttp's cookie-jar API over the test client's own cookie store.

The store is httpx's (the standard library's ``http.cookiejar`` underneath), so the
rules for which cookie goes to which URL are the standard library's. Like aiohttp's
TestClient jar (``unsafe=True``), cookies set by a server on an IP address such as
127.0.0.1 are kept and sent back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from http.cookiejar import Cookie
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import Any

import httpx
from yarl import URL

CookieValues = Mapping[str, "str | Morsel[str]"] | Iterable[tuple[str, "str | Morsel[str]"]]


class CookieJar:
    """The cookies a test client holds: iterate, ``filter_cookies``, ``update_cookies``."""

    def __init__(self, cookies: httpx.Cookies | None = None) -> None:
        self._cookies = cookies if cookies is not None else httpx.Cookies()

    @property
    def store(self) -> httpx.Cookies:
        """The httpx cookie store this jar reads and writes."""
        return self._cookies

    def _adopt(self, store: httpx.Cookies) -> None:
        """Move to ``store`` (a client's own), taking the cookies held so far."""
        for cookie in self._cookies.jar:
            store.jar.set_cookie(cookie)
        self._cookies = store

    def __iter__(self) -> Iterator[Morsel[str]]:
        for cookie in list(self._cookies.jar):
            yield _morsel(cookie)

    def __len__(self) -> int:
        return len(self._cookies.jar)

    def filter_cookies(self, request_url: URL | str) -> BaseCookie[str]:
        """The cookies that a request to ``request_url`` would carry."""
        request = httpx.Request("GET", str(request_url))
        self._cookies.set_cookie_header(request)
        found: SimpleCookie = SimpleCookie()
        for pair in request.headers.get("Cookie", "").split(";"):
            name, sep, value = pair.strip().partition("=")
            if sep:
                found[name] = value
        return found

    def update_cookies(self, cookies: CookieValues, response_url: URL | str = "") -> None:
        """Add cookies by name; ``response_url``'s host limits where they are sent."""
        host = URL(str(response_url)).host or ""
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, value in items:
            text = value.value if isinstance(value, Morsel) else str(value)
            self._cookies.set(name, text, domain=host)

    def clear(self, predicate: Any = None) -> None:
        """Forget every cookie, or those for which ``predicate(morsel)`` is true."""
        if predicate is None:
            self._cookies.clear()
            return
        for cookie in list(self._cookies.jar):
            if predicate(_morsel(cookie)):
                self._cookies.jar.clear(cookie.domain, cookie.path, cookie.name)

    def clear_domain(self, domain: str) -> None:
        """Forget the cookies of ``domain`` and its subdomains."""
        bare = domain.lstrip(".")
        self.clear(lambda m: m["domain"].lstrip(".") == bare or m["domain"].endswith("." + bare))

    def __repr__(self) -> str:
        return f"<CookieJar {len(self)} cookies>"


def _morsel(cookie: Cookie) -> Morsel[str]:
    morsel: Morsel[str] = Morsel()
    morsel.set(cookie.name, cookie.value or "", cookie.value or "")
    morsel["domain"] = cookie.domain
    morsel["path"] = cookie.path
    if cookie.secure:
        morsel["secure"] = True
    if any(cookie.has_nonstandard_attr(a) for a in ("HttpOnly", "httponly", "HTTPOnly")):
        morsel["httponly"] = True
    return morsel
