"""Ported from aio-libs/aiohttp-session tests/test_session_middleware.py (commit c8bd090).

Imports swapped: aiohttp -> squall.web / squall.testing, aiohttp_session ->
squall.sessions.
"""

import pytest

from squall.sessions import session_middleware


async def test_session_middleware_bad_storage() -> None:
    with pytest.raises(RuntimeError):
        # Ignoring typing since parameter type is wrong on purpose
        session_middleware(None)  # type: ignore[arg-type]
