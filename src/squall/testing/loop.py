"""Event loops for tests that drive one by hand (``loop.run_until_complete``).

Most tests need none of this: pytest-asyncio and ``SquallTestCase`` run a loop for
them. These keep aiohttp's names for suites written the older way.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterator

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def setup_test_loop(
    loop_factory: LoopFactory = asyncio.new_event_loop,
) -> asyncio.AbstractEventLoop:
    """Make a new loop and set it as the current one; pair with ``teardown_test_loop``."""
    loop = loop_factory()
    asyncio.set_event_loop(loop)
    return loop


def teardown_test_loop(loop: asyncio.AbstractEventLoop, fast: bool = False) -> None:
    """Run the loop's pending callbacks once, close it and unset it (``fast``: skip gc)."""
    if not loop.is_closed():
        loop.call_soon(loop.stop)
        loop.run_forever()
        loop.close()
    if not fast:
        gc.collect()
    asyncio.set_event_loop(None)


@contextlib.contextmanager
def loop_context(
    loop_factory: LoopFactory = asyncio.new_event_loop, fast: bool = False
) -> Iterator[asyncio.AbstractEventLoop]:
    """``with loop_context() as loop:`` a fresh loop, closed at the end of the block."""
    loop = setup_test_loop(loop_factory)
    try:
        yield loop
    finally:
        teardown_test_loop(loop, fast=fast)
