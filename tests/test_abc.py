"""``squall.abc``: the abstract bases of ``aiohttp.abc`` that server code subclasses."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import abc as aiohttp_abc

from squall import abc, web
from squall.framework.accesslog import AccessLogger


@pytest.mark.parametrize("name", abc.__all__)
def test_names_of_aiohttp_abc(name: str) -> None:
    assert hasattr(aiohttp_abc, name)
    assert isinstance(getattr(abc, name), type)


def test_access_logger_base() -> None:
    assert issubclass(AccessLogger, abc.AbstractAccessLogger)
    with pytest.raises(TypeError):
        abc.AbstractAccessLogger(logging.getLogger("x"), "%a")  # type: ignore[abstract]

    class Mine(abc.AbstractAccessLogger):
        def log(self, request: Any, response: Any, time: float) -> None:
            pass

    mine = Mine(logging.getLogger("x"), "%a")
    assert mine.log_format == "%a"
    assert mine.enabled is True  # as aiohttp's base: a custom logger decides itself


def test_view_base() -> None:
    assert issubclass(web.View, abc.AbstractView)


def test_router_bases() -> None:
    """A router of one's own subclasses squall.abc.AbstractRouter, as aiohttp.abc's."""
    app = web.Application()
    assert isinstance(app.router, abc.AbstractRouter)
    assert issubclass(web.UrlMappingMatchInfo, abc.AbstractMatchInfo)
    with pytest.raises(TypeError):
        abc.AbstractRouter()  # type: ignore[abstract]
