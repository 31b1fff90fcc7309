"""CORS tests: one app on Squall (squall.cors) and on aiohttp (aiohttp_cors), compared."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import aiohttp_cors
import pytest
from aiohttp import web as aiohttp_web

import squall.cors
from framework._wire import Reply, build, exchange, render, serve
from squall import web as squall_web

SQUALL = SimpleNamespace(name="squall", web=squall_web, cors=squall.cors)
AIOHTTP = SimpleNamespace(name="aiohttp", web=aiohttp_web, cors=aiohttp_cors)
Factory = Callable[[Any, Any], Any]  # (web, cors) -> Application

# headers whose value is a set of names: the order is a set's, in aiohttp-cors
REFUSED_HEADERS = b"CORS preflight request failed: headers are not allowed: "
SET_VALUED = {"access-control-expose-headers", "access-control-allow-headers"}


@pytest.fixture(params=[SQUALL, AIOHTTP], ids=["squall", "aiohttp"])
def stack(request: pytest.FixtureRequest) -> Any:
    """The (web, cors) pair under test; the aiohttp run checks the test's expectations."""
    return request.param


def normalised(reply: Reply, *, vary_origin: bool | None = None) -> Reply:
    """``reply`` with set-valued CORS headers sorted; Squall's own ``Vary: Origin``
    (checked against ``vary_origin`` when given) taken out for the comparison."""
    headers = []
    for name, value in reply.headers:
        if name.lower() in SET_VALUED:
            value = ",".join(sorted(part.strip().upper() for part in value.split(",")))
        headers.append((name, value))
    varies = ("Vary", "Origin") in headers
    if vary_origin is not None:
        assert varies == vary_origin, render(reply)
    headers = [kv for kv in headers if kv != ("Vary", "Origin")]
    body = reply.body
    if body.startswith(REFUSED_HEADERS):  # the names of a set, in its order in aiohttp-cors
        names = sorted(body[len(REFUSED_HEADERS) :].split(b", "))
        body = REFUSED_HEADERS + b", ".join(names)
    return Reply(reply.status_line, tuple(headers), body, reply.after)


async def replies(stack: Any, factory: Factory, requests: list[bytes]) -> list[Reply]:
    """Serve ``factory`` on ``stack``; one fresh connection per request."""
    async with serve(stack.web, lambda web: factory(web, stack.cors)) as port:
        return [await exchange(port, data) for data in requests]


def get(path: str = "/resource", **headers: str) -> bytes:
    return build("GET", path, headers=_names(headers))


def options(path: str = "/resource", **headers: str) -> bytes:
    return build("OPTIONS", path, headers=_names(headers))


def request(method: str, path: str = "/resource", **headers: str) -> bytes:
    return build(method, path, headers=_names(headers))


def _names(headers: dict[str, str]) -> dict[str, str]:
    """``access_control_request_method=`` -> ``Access-Control-Request-Method``."""
    return {"-".join(p.capitalize() for p in k.split("_")): v for k, v in headers.items()}
