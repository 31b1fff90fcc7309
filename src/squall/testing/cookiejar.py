"""``CookieJar``: aiohttp's cookie-jar API over the test client's own cookie store.

The store is httpx's (the standard library's ``http.cookiejar`` underneath), so the
rules for which cookie goes to which URL are the standard library's, with its
host-only check on (RFC 6265: a cookie set without a Domain goes back to its host
alone, as on aiohttp). Like aiohttp's TestClient jar (``unsafe=True``), cookies set
by a server on an IP address such as 127.0.0.1 are kept and sent back.
"""

from __future__ import annotations

import contextlib
import ipaddress
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from http.cookiejar import Cookie, DefaultCookiePolicy
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import Any

import httpx
from yarl import URL

CookieValues = Mapping[str, "str | Morsel[str]"] | Iterable[tuple[str, "str | Morsel[str]"]]


class CookieJar:
    """The cookies a test client holds: iterate, ``filter_cookies``, ``update_cookies``."""

    def __init__(self, cookies: httpx.Cookies | None = None) -> None:
        self._cookies = cookies if cookies is not None else httpx.Cookies()
        self._cookies.jar.set_policy(_policy())

    @property
    def store(self) -> httpx.Cookies:
        """The httpx cookie store this jar reads and writes."""
        return self._cookies

    def _adopt(self, store: httpx.Cookies) -> None:
        """Move to ``store`` (a client's own), taking the cookies held so far."""
        for cookie in self._cookies.jar:
            store.jar.set_cookie(cookie)
        store.jar.set_policy(_policy())
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
        """Add cookies as if ``response_url`` had set them (aiohttp's rules).

        A ``Morsel`` keeps its domain, path, expiry, ``secure`` and ``httponly``; a
        domain that ``response_url``'s host may not set is refused. Without a domain
        the cookie is host-only (sent to that host alone), or sent everywhere when
        there is no ``response_url``; without a path it gets the URL's directory.
        """
        url = URL(str(response_url))
        hostname = url.raw_host
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, value in items:
            morsel = value if isinstance(value, Morsel) else None
            domain = morsel["domain"] if morsel is not None else ""
            if domain.endswith("."):  # a trailing dot: ignored, as aiohttp does
                domain = ""
            if domain.startswith("."):
                domain = domain[1:]
            if domain and hostname and not _domain_match(domain, hostname):
                continue  # RFC 6265 5.3 step 6: not a domain this host may set
            path = morsel["path"] if morsel is not None else ""
            if not path.startswith("/"):
                path = _default_path(url.path)
            host_only = False
            if not domain and hostname is not None:
                host_only = True
                # the standard library's name for a host (``localhost.local``), so
                # that its host-only check (DomainStrictNonDomain) compares alike
                domain = hostname if "." in hostname else hostname + ".local"
            expires = _expires(morsel) if morsel is not None else None
            if expires is not None and expires <= time.time():
                with contextlib.suppress(KeyError):  # a deadline passed: a deletion
                    self._cookies.jar.clear(domain, path, name)
                continue
            text = value.value if isinstance(value, Morsel) else str(value)
            self._cookies.jar.set_cookie(
                Cookie(
                    version=0,
                    name=name,
                    value=text,
                    port=None,
                    port_specified=False,
                    domain=domain,
                    domain_specified=not host_only,
                    domain_initial_dot=False,
                    path=path,
                    path_specified=True,
                    secure=bool(morsel is not None and morsel["secure"]),
                    expires=None if expires is None else int(expires),
                    discard=expires is None,
                    comment=None,
                    comment_url=None,
                    rest={"HttpOnly": ""} if morsel is not None and morsel["httponly"] else {},
                )
            )

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL | str) -> None:
        """Add the cookies of ``Set-Cookie`` header values sent by ``response_url``."""
        if headers:
            request = httpx.Request("GET", str(response_url))
            found = [("Set-Cookie", value) for value in headers]
            self._cookies.extract_cookies(httpx.Response(200, headers=found, request=request))

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


def _policy() -> DefaultCookiePolicy:
    # RFC 6265 5.4 step 1: a cookie set without Domain (host-only) goes back to
    # its host alone, as on aiohttp; the standard library's default also sends it
    # to subdomains
    return DefaultCookiePolicy(strict_ns_domain=DefaultCookiePolicy.DomainStrictNonDomain)


def _domain_match(domain: str, hostname: str) -> bool:
    """RFC 6265 5.1.3: ``hostname`` is ``domain`` or a name under it (not an IP)."""
    if hostname == domain:
        return True
    if not hostname.endswith("." + domain):
        return False
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return True
    return False


def _default_path(path: str) -> str:
    """RFC 6265 5.1.4: the directory of the request path (``/a/b`` -> ``/a``)."""
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rfind("/")]


def _expires(morsel: Morsel[str]) -> float | None:
    """A Morsel's deadline (epoch seconds): ``max-age`` wins over ``expires``."""
    max_age = morsel["max-age"]
    if max_age:
        try:
            return time.time() + int(max_age) if int(max_age) > 0 else 0.0
        except ValueError:
            return None
    if morsel["expires"]:
        try:
            return parsedate_to_datetime(morsel["expires"]).timestamp()
        except (TypeError, ValueError):  # a date we cannot read: a session cookie
            return None
    return None


def _morsel(cookie: Cookie) -> Morsel[str]:
    morsel: Morsel[str] = Morsel()
    morsel.set(cookie.name, cookie.value or "", cookie.value or "")
    # a Domain attribute is kept with a leading dot by the standard library
    morsel["domain"] = cookie.domain.lstrip(".") if cookie.domain_specified else cookie.domain
    morsel["path"] = cookie.path
    if cookie.secure:
        morsel["secure"] = True
    if any(cookie.has_nonstandard_attr(a) for a in ("HttpOnly", "httponly", "HTTPOnly")):
        morsel["httponly"] = True
    return morsel
