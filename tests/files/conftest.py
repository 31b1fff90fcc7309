"""A directory of files both servers serve (fixed contents, whole-second mtimes);
every async test runs on the stdlib loop and on uvloop."""

from __future__ import annotations

import asyncio
import gzip
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import uvloop
from aiohttp import web as aiohttp_web

from squall import web as squall_web
from squall.framework.fileresponse import FileResponse
from squall.framework.routing.defs import static

LOOPS: Mapping[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,  # run_app's default: no loop.sendfile there
}


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Any:
    """Run each async test of this directory on both event loops: sending a file
    takes a different path on each (bench/files.py measures uvloop's)."""
    return LOOPS


MTIME = 1_700_000_000  # whole seconds: both servers derive the same validators
BIG = bytes(range(256)) * 4096  # 1 MiB: past the small-file read, sent in chunks


def names(web: Any) -> Any:
    """The names under test that squall.web does not export yet."""
    if web is squall_web:
        return type("N", (), {"FileResponse": FileResponse, "static": staticmethod(static)})
    return aiohttp_web


@pytest.fixture(scope="session")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("files")
    www = base / "www"
    www.mkdir()
    (www / "hello.txt").write_bytes(b"Hello, world!\n")
    (www / "page.html").write_bytes(b"<h1>page</h1>\n")
    (www / "data.bin").write_bytes(bytes(range(100)))
    (www / "empty.txt").write_bytes(b"")
    (www / "big.bin").write_bytes(BIG)
    (www / "style.css").write_bytes(b"body { color: red }\n" * 50)
    (www / "style.css.gz").write_bytes(gzip.compress((www / "style.css").read_bytes()))
    (www / "sub").mkdir()
    (www / "sub" / "a b&<c>.txt").write_bytes(b"odd name\n")
    (www / "sub" / "x.txt").write_bytes(b"x\n")
    (base / "secret.txt").write_bytes(b"TOP SECRET\n")
    (www / "link_out").symlink_to(base / "secret.txt")
    (www / "link_in").symlink_to(www / "hello.txt")
    for path in [*www.rglob("*"), base / "secret.txt"]:
        os.utime(path, (MTIME, MTIME), follow_symlinks=False)
    return www
