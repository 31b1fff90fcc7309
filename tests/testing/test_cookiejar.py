"""CookieJar.update_cookies: each case run on aiohttp's CookieJar (``unsafe=True``, as
aiohttp's TestClient makes it) and on squall.testing's, and the results compared."""

from __future__ import annotations

from http.cookies import Morsel
from typing import Any

import aiohttp
import pytest
from yarl import URL

from squall import testing as squall_testing


def morsel(name: str, value: str, **attrs: Any) -> Morsel[str]:
    m: Morsel[str] = Morsel()
    m.set(name, value, value)
    for key, attr in attrs.items():
        m[key.replace("_", "-")] = attr
    return m


def jars() -> list[Any]:
    return [aiohttp.CookieJar(unsafe=True), squall_testing.CookieJar()]


def sent(jar: Any, url: str) -> dict[str, str]:
    return {name: m.value for name, m in jar.filter_cookies(URL(url)).items()}


def held(jar: Any) -> set[tuple[str, str, str, str]]:
    return {(m.key, m.value, m["domain"], m["path"]) for m in jar}


URLS = [
    "http://example.com/",
    "http://example.com/api",
    "http://example.com/api/v1/x",
    "http://example.com/apiary",
    "http://example.com/a/c",
    "http://sub.example.com/api/x",
    "https://example.com/api/x",
    "http://other.org/api",
]


@pytest.mark.parametrize(
    ("cookies", "response_url"),
    [
        ({"m": morsel("m", "1", domain="example.com", path="/api")}, "http://example.com/x"),
        ({"m": morsel("m", "1", domain=".example.com", path="/api")}, "http://sub.example.com/"),
        ({"m": morsel("m", "1", path="/api/v1")}, "http://example.com/"),
        ({"m": morsel("m", "1", domain="example.com")}, "http://example.com/a/b"),
        ({"m": morsel("m", "1", domain="other.org", path="/")}, "http://example.com/"),
        ({"m": morsel("m", "1", domain="example.com", secure=True)}, "http://example.com/"),
        ({"m": morsel("m", "1", domain="example.com.", path="/")}, "http://example.com/"),
        ({"k": "v"}, "http://example.com/a/b"),
        ({"k": "v"}, "http://example.com/"),
        ([("k", "v"), ("m", morsel("m", "2", path="/api"))], "http://sub.example.com/q"),
    ],
    ids=[
        "domain-and-path",
        "leading-dot",
        "path-only",
        "domain-only-gets-the-url-directory",
        "foreign-domain-refused",
        "secure",
        "trailing-dot-ignored",
        "plain-value-url-directory",
        "plain-value-host-only",
        "pairs",
    ],
)
async def test_update_cookies_keeps_domain_and_path_as_aiohttp(
    cookies: Any, response_url: str
) -> None:
    results = []
    for jar in jars():
        jar.update_cookies(cookies, URL(response_url))
        results.append((held(jar), {url: sent(jar, url) for url in URLS}))
    assert results[1] == results[0]
    foreign = any(
        isinstance(v, Morsel) and v["domain"] == "other.org" for v in dict(cookies).values()
    )
    assert bool(results[1][0]) is not foreign  # a case that stores nothing proves little


async def test_without_a_response_url_a_cookie_goes_everywhere() -> None:
    for jar in jars():
        jar.update_cookies({"k": "v"})
        jar.update_cookies({"m": morsel("m", "1", domain="example.com", path="/api")})
        assert sent(jar, "http://anything.test/deep/path") == {"k": "v"}
        assert sent(jar, "http://example.com/api/x") == {"k": "v", "m": "1"}


async def test_max_age_zero_deletes_and_max_age_keeps() -> None:
    for jar in jars():
        url = URL("http://example.com/")
        jar.update_cookies({"a": morsel("a", "1", path="/"), "b": "2"}, url)
        jar.update_cookies({"a": morsel("a", "", path="/", max_age="0")}, url)
        jar.update_cookies({"c": morsel("c", "3", path="/", max_age="3600")}, url)
        assert sent(jar, "http://example.com/") == {"b": "2", "c": "3"}, type(jar)


def test_a_server_set_domain_cookie_is_listed_without_its_dot() -> None:
    jar = squall_testing.CookieJar()
    jar.update_cookies_from_headers(
        ["d=1; Domain=example.com; Path=/", "h=2; Path=/"], "http://www.example.com/"
    )
    assert held(jar) == {("d", "1", "example.com", "/"), ("h", "2", "www.example.com", "/")}
    assert sent(jar, "http://a.example.com/") == {"d": "1"}  # h is host-only
    assert sent(jar, "http://www.example.com/") == {"d": "1", "h": "2"}
