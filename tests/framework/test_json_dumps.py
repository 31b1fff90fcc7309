"""json_response's default encoder is json.dumps, byte for byte."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from squall.framework.jsonresponse import _dumps

CASES: list[Any] = [
    {"message": "Hello, World!"},
    {"nested": {"a": [1, 2.5, None, True, False]}, "b": 'é\u2028\n"quote"'},
    [],
    {},
    "plain string",
    "ünïcödé",
    42,
    -0.0,
    1e300,
    math.inf,
    math.nan,
    None,
    True,
    [{"k": i, "v": str(i) * i} for i in range(20)],
    {1: "int key", 2.5: "float key", None: "none key", False: "bool key"},
]


@pytest.mark.parametrize("obj", CASES, ids=range(len(CASES)))
def test_same_bytes_as_json_dumps(obj: Any) -> None:
    assert _dumps(obj) == json.dumps(obj)


def test_unserialisable_raises_like_json_dumps() -> None:
    with pytest.raises(TypeError) as ours:
        _dumps({"x": object()})
    with pytest.raises(TypeError) as theirs:
        json.dumps({"x": object()})
    assert str(ours.value).split(" is not")[0] == str(theirs.value).split(" is not")[0]


def test_circular_reference_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        _dumps(loop)
