"""``squall.web`` against ``aiohttp.web.__all__``: what is there, what is still to come.

Every name of aiohttp 3.14's ``web.__all__`` exists, but those of ``STILL_TO_COME``,
each with the open issue that brings it; the table is exact both ways.
"""

from __future__ import annotations

import importlib.metadata as metadata
import inspect

import pytest
from aiohttp import web as aiohttp_web

from squall import web

# The names of aiohttp.web.__all__ still missing, and the open issue bringing each.
# Exact: a name that arrives must leave this table, and nothing else may be missing.
STILL_TO_COME: dict[str, str] = {}
IN_SCOPE = [name for name in aiohttp_web.__all__ if name not in STILL_TO_COME]
# names aiohttp.web has as attributes without listing them in __all__
UNLISTED = ["AbstractAccessLogger", "AccessLogger"]


# aiohttp.web's names by release; the installed one is the pinned reference
# (tests/test_reference_pin.py). A new pin adds its count here after a look at what
# changed.
KNOWN_COUNTS = {"3.14.5": 117}


def test_aiohttp_all_is_the_one_we_know() -> None:
    version = metadata.version("aiohttp")
    assert version in KNOWN_COUNTS, f"aiohttp {version}: compare its web.__all__ first"
    assert len(aiohttp_web.__all__) == KNOWN_COUNTS[version]
    assert set(IN_SCOPE) <= set(aiohttp_web.__all__)


@pytest.mark.parametrize("name", IN_SCOPE)
def test_in_scope_name_exists(name: str) -> None:
    assert hasattr(web, name), f"squall.web.{name} is missing"
    assert name in web.__all__, f"{name} is not in squall.web.__all__"


@pytest.mark.parametrize("name", IN_SCOPE)
def test_same_kind_of_object(name: str) -> None:
    ours, theirs = getattr(web, name), getattr(aiohttp_web, name)
    assert inspect.isclass(ours) == inspect.isclass(theirs)
    assert callable(ours) == callable(theirs)
    if inspect.isclass(theirs) and issubclass(theirs, BaseException):
        assert issubclass(ours, BaseException)


def test_all_lists_only_real_names() -> None:
    assert len(web.__all__) == len(set(web.__all__))
    assert [name for name in web.__all__ if not hasattr(web, name)] == []
    assert set(web.__all__) <= set(aiohttp_web.__all__)


def test_star_import() -> None:
    namespace: dict[str, object] = {}
    exec("from squall.web import *", namespace)
    assert set(IN_SCOPE) <= set(namespace)


def test_main_is_there_as_in_aiohttp() -> None:
    assert callable(web.main)
    assert "main" not in web.__all__


def test_missing_names_are_exactly_those_still_to_come() -> None:
    missing = {name for name in aiohttp_web.__all__ if not hasattr(web, name)}
    assert missing == set(STILL_TO_COME), {
        "missing but not listed": sorted(missing - set(STILL_TO_COME)),
        "listed but here now": sorted(set(STILL_TO_COME) - missing),
    }


@pytest.mark.parametrize("name", UNLISTED)
def test_unlisted_names_as_aiohttp(name: str) -> None:
    assert hasattr(aiohttp_web, name) and name not in aiohttp_web.__all__
    assert hasattr(web, name)


def test_hdrs_has_every_name_of_aiohttp_s() -> None:
    """``from squall import hdrs`` (as ``from aiohttp import hdrs``): every method and
    header-name constant, the same text (ETag spelled so, docs/compat.md)."""
    from aiohttp import hdrs as theirs

    from squall import hdrs as ours

    names = [name for name in dir(theirs) if name.isupper() and not name.startswith("_")]
    assert len(names) > 140
    for name in names:
        mine, expected = getattr(ours, name), getattr(theirs, name)
        if isinstance(expected, str):
            assert type(mine) is type(expected), name  # istr for a field, str for a method
            assert mine.lower() == expected.lower(), name
            assert mine == expected or name == "ETAG", name
        else:  # METH_ALL, HOST_ALL: the same members (frozen here: nobody adds to them)
            assert set(mine) == set(expected), name
