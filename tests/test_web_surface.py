"""``squall.web`` against ``aiohttp.web.__all__``: what is there, what is still to come.

The names in scope at this stage must all exist; the others are printed (run with
``-s`` to see them) so the report can list what is missing.
"""

from __future__ import annotations

import importlib.metadata as metadata
import inspect

import pytest
from aiohttp import web as aiohttp_web

from squall import web

IN_SCOPE = [
    # application and routing
    "Application",
    "AppKey",
    "CleanupError",
    "UrlDispatcher",
    "AbstractResource",
    "Resource",
    "PlainResource",
    "DynamicResource",
    "AbstractRoute",
    "ResourceRoute",
    "UrlMappingMatchInfo",
    "View",
    "AbstractRouteDef",
    "RouteDef",
    "RouteTableDef",
    "route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "view",
    # request and responses
    "BaseRequest",
    "Request",
    "RequestKey",
    "RequestPayloadError",
    "StreamResponse",
    "Response",
    "ResponseKey",
    "json_response",
    "json_bytes_response",
    # runners, sites, run_app
    "BaseRunner",
    "AppRunner",
    "BaseSite",
    "TCPSite",
    "UnixSite",
    "SockSite",
    "GracefulExit",
    "run_app",
    # middlewares
    "middleware",
    # exceptions
    "NotAppKeyWarning",
    *[name for name in aiohttp_web.__all__ if name.startswith("HTTP")],
]


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


def test_report_missing_names() -> None:
    missing = sorted(name for name in aiohttp_web.__all__ if not hasattr(web, name))
    print(f"\nsquall.web lacks {len(missing)} of {len(aiohttp_web.__all__)} names of aiohttp.web:")
    for name in missing:
        print(f"  {name}")
    assert not set(missing) & set(IN_SCOPE)
