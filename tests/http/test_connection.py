"""The Connection field's options (RFC 9110 7.6.1), as plain values."""

from __future__ import annotations

import pytest

from squall.http.connection import asks_close, connection_options


@pytest.mark.parametrize(
    ("values", "options"),
    [
        (["close"], {"close"}),
        (["close, foo"], {"close", "foo"}),
        ([" close"], {"close"}),
        (["Keep-Alive ,\tCLOSE"], {"keep-alive", "close"}),
        (["foo", "close"], {"foo", "close"}),
        ([", ,close,"], {"close"}),  # RFC 9110 5.6.1: empty elements are allowed
        ([""], set()),
        ([], set()),
    ],
)
def test_connection_options(values: list[str], options: set[str]) -> None:
    assert connection_options(values) == options


@pytest.mark.parametrize(
    ("values", "close"),
    [(["close, foo"], True), (["closed"], False), (["x-close"], False), (["upgrade"], False)],
)
def test_asks_close(values: list[str], close: bool) -> None:
    assert asks_close(values) is close
