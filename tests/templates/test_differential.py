"""The same templates, context and requests through aiohttp + aiohttp-jinja2 1.6 and
through Squall + squall.templates: status line, headers (but Date and Server) and body
must be identical, byte for byte. The cases are in ``_cases.py``."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
import pytest
from aiohttp import web as aiohttp_web

from framework._wire import build, same
from squall import templates as squall_templates

from ._cases import CASES, Case


def on(case: Case) -> Any:
    """``factory(web)`` for _wire: the case with the template module matching ``web``."""

    def factory(web: Any) -> Any:
        tj = aiohttp_jinja2 if web is aiohttp_web else squall_templates
        return case.factory(web, tj)

    return factory


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_same_bytes_as_aiohttp_jinja2(case: Case) -> None:
    reply = await same(on(case), build(case.method, case.target))
    # the comparison alone passes when both are broken the same way: the case must
    # also have reached a handler (no router 404/405 from a mistyped route) or have
    # rendered its error page
    rendered = (reply.header("Content-Type") or "").startswith("text/html")
    assert reply.status not in (404, 405) or not case.routed or rendered, reply


def test_the_cases_cover_the_behaviours() -> None:
    names = {c.name for c in CASES}
    assert len(CASES) >= 60
    assert len(names) == len(CASES)
