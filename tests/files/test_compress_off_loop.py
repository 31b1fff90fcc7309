"""A big compressed ``Response`` is compressed in the executor, on every path."""

from __future__ import annotations

import gzip
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from framework._wire import build, exchange, serve
from squall import web


class Recording(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.calls = 0

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return super().submit(*args, **kwargs)


@pytest.mark.parametrize("size, expect_calls", [(70_000, 1), (100, 0)])
async def test_plain_response_compressed_off_the_loop(size: int, expect_calls: int) -> None:
    executor = Recording()
    body = os.urandom(size // 2) + b"a" * (size - size // 2)

    async def handler(request: web.Request) -> web.Response:
        resp = web.Response(body=body, zlib_executor_size=1024, zlib_executor=executor)
        resp.enable_compression(web.ContentCoding.gzip)
        return resp

    app = web.Application()  # no hooks, no middlewares: the plainest path
    app.router.add_get("/", handler)
    try:
        async with serve(web, lambda _web: app) as port:
            reply = await exchange(port, build("GET", "/"))
    finally:
        executor.shutdown()
    assert reply.header("Content-Encoding") == "gzip"
    assert gzip.decompress(reply.body) == body
    assert executor.calls == expect_calls
