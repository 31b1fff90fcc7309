"""Fixtures of the middleware tests: ``webmod`` runs a test on squall.web and aiohttp.web."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from squall import web as squall_web


@pytest.fixture(params=[squall_web, aiohttp_web], ids=["squall", "aiohttp"])
def webmod(request: pytest.FixtureRequest) -> Any:
    """The ``web`` module under test; the aiohttp run checks the test's expectations."""
    return request.param
