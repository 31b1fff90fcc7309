"""The session's Set-Cookie, written through ``response.set_cookie()`` (whose fast path
makes no Morsel), is byte for byte what a Morsel writes with the same values."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from typing import Any

import pytest

from squall import web
from squall.http.cookies import set_morsel
from squall.sessions import SimpleCookieStorage

PARAMS: list[dict[str, Any]] = [
    {},
    {"max_age": 3600},
    {"domain": "example.com", "path": "/app", "secure": True, "httponly": False},
    {"samesite": "Strict", "max_age": 0, "cookie_name": "SID"},
]
VALUES = ["0123456789abcdef", "gAAAAABk-_x==", "a!#$%&'*+-.^_`|~:b", "with space=("]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("params", PARAMS, ids=str)
def test_same_bytes_as_set_cookie(params: dict[str, Any], value: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    storage = SimpleCookieStorage(**params)
    ours = web.Response()
    storage.save_cookie(ours, value, max_age=params.get("max_age"))
    expected = dict(storage.cookie_params)
    if params.get("max_age") is not None:
        expected["max_age"] = params["max_age"]
        expected["expires"] = time.strftime(
            "%a, %d-%b-%Y %H:%M:%S GMT", time.gmtime(1_800_000_000 + params["max_age"])
        )
    jar: SimpleCookie = SimpleCookie()
    set_morsel(jar, storage.cookie_name, value, **expected)
    assert ours._cookie_lines() == [jar[storage.cookie_name].OutputString()]


def test_json_value_goes_through_set_cookie() -> None:
    """A value SimpleCookie must escape (JSON's quotes and commas) takes the slow path."""
    response = web.Response()
    SimpleCookieStorage().save_cookie(response, '{"a": 1, "b": 2}')
    assert "Set-Cookie" not in response.headers
    assert response.cookies["AIOHTTP_SESSION"].value == '{"a": 1, "b": 2}'
