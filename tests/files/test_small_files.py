"""Small files answered from memory: always the file as it is on disk now.

The cache (``SMALL_FILES``) keeps a file's bytes with its identity and version
(device, inode, size, mtime, ctime); these tests change each on disk between two
requests and expect the new file. ``settled`` makes every file old enough to be
kept (the clock is the cache's own, injected); ``next_tick`` waits for the file
system's clock to move past a file's ctime, so a rewrite is in a later tick as it
always is in real life (a file is kept only once it settled for seconds).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from framework._wire import Reply, build, exchange, serve
from squall import web
from squall.framework import fileresponse, static
from squall.framework.fileresponse import FileResponse, SmallFiles

MTIME = 1_700_000_000
TEXT = b"body { color: red }\n"
GZ = b"\x1f\x8b pretend gzip bytes"


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> SmallFiles:
    """A fresh cache whose clock says every file settled an hour ago."""
    fresh = SmallFiles(clock=lambda: time.time() + 3600)
    monkeypatch.setattr(fileresponse, "SMALL_FILES", fresh)
    return fresh


@pytest.fixture
def www(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    root.mkdir()
    write(root / "a.css", TEXT)
    (tmp_path / "secret.css").write_bytes(b"TOP SECRET\n")
    return root


def write(path: Path, data: bytes, mtime: int = MTIME) -> None:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def next_tick(path: Path) -> None:
    """Return once the file system stamps a later ctime than ``path``'s."""
    probe = path.with_name(path.name + ".tick")
    before = path.stat().st_ctime_ns
    while True:  # a busy wait on the file system's clock (a tick is some ms)
        probe.write_bytes(b"")
        if probe.stat().st_ctime_ns > before:
            probe.unlink()
            return


def app_for(root: Path) -> Callable[[Any], web.Application]:
    def factory(_web: Any) -> web.Application:
        app = web.Application()
        app.router.add_static("/s", root)

        async def direct(request: web.Request) -> FileResponse:
            return FileResponse(root / request.match_info["name"])

        app.router.add_get("/direct/{name}", direct)
        return app

    return factory


def comparable(reply: Reply) -> tuple[Any, ...]:
    return reply.status_line, reply.headers, reply.body, reply.after


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths ``plan_file`` (the thread's work) was called for."""
    seen: list[str] = []
    real = fileresponse.plan_file

    def spy(path: str, *args: Any) -> Any:
        seen.append(path)
        return real(path, *args)

    monkeypatch.setattr(fileresponse, "plan_file", spy)
    monkeypatch.setattr(static, "plan_file", spy)
    return seen


@pytest.mark.parametrize("prefix", ["/s", "/direct"])
async def test_a_second_answer_is_the_first_from_memory(
    www: Path, cache: SmallFiles, threads: list[str], prefix: str
) -> None:
    write(www / "a.css.gz", GZ)
    path = str(www / "a.css")
    tag = f'"{MTIME * 10**9:x}-{len(TEXT):x}"'
    asks: list[dict[str, str]] = [
        {},
        {"Range": "bytes=2-5"},
        {"Range": "bytes=100-"},  # unsatisfiable: 416
        {"If-None-Match": tag},
        {"If-Match": '"other"'},
        {"Accept-Encoding": "gzip"},
    ]
    firsts = []
    async with serve(web, app_for(www)) as port:
        for headers in asks:
            first = await exchange(port, build("GET", f"{prefix}/a.css", headers=headers))
            assert cache.holds(path)
            second = await exchange(port, build("GET", f"{prefix}/a.css", headers=headers))
            assert comparable(second) == comparable(first), headers
            firsts.append(first)
        head = await exchange(port, build("HEAD", f"{prefix}/a.css"))
    whole, part, beyond, same, other, gz = firsts
    assert whole.body == TEXT and whole.header("ETag") == tag
    assert whole.header("Last-Modified") == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert part.status == 206 and part.body == TEXT[2:6]
    assert beyond.status == 416 and beyond.header("Content-Range") == f"bytes */{len(TEXT)}"
    assert (same.status, other.status) == (304, 412)
    assert gz.header("Content-Encoding") == "gzip" and gz.body == GZ
    assert head.body == b"" and head.header("Content-Length") == str(len(TEXT))
    # the thread read the file once and its sibling once; the rest came from memory
    assert threads == [path, path]


@pytest.mark.parametrize("prefix", ["/s", "/direct"])
async def test_a_file_rewritten_in_place_is_read_again(
    www: Path, cache: SmallFiles, prefix: str
) -> None:
    """Same size, mtime put back: only the ctime tells, and it must."""
    async with serve(web, app_for(www)) as port:
        before = [await exchange(port, build("GET", f"{prefix}/a.css")) for _ in range(2)]
        next_tick(www / "a.css")
        changed = TEXT.replace(b"red", b"tan")
        write(www / "a.css", changed)
        after = await exchange(port, build("GET", f"{prefix}/a.css"))
    assert [r.body for r in before] == [TEXT, TEXT]
    assert after.body == changed


async def test_a_file_replaced_or_removed_is_seen(www: Path, cache: SmallFiles) -> None:
    async with serve(web, app_for(www)) as port:
        assert (await exchange(port, build("GET", "/s/a.css"))).body == TEXT
        new = www / "new.tmp"
        write(new, b"other content, longer", MTIME + 1)
        os.replace(new, www / "a.css")  # another inode, as a deploy does
        replaced = await exchange(port, build("GET", "/s/a.css"))
        (www / "a.css").unlink()
        removed = await exchange(port, build("GET", "/s/a.css"))
    assert replaced.body == b"other content, longer"
    assert replaced.header("Last-Modified") == "Tue, 14 Nov 2023 22:13:21 GMT"
    assert removed.status == 404


async def test_a_name_that_now_leads_out_of_the_root_is_refused(
    www: Path, cache: SmallFiles
) -> None:
    """The remembered lookup is only trusted while the name leads to the same
    inode: a symlink swapped in is looked up again (and refused), even for a
    request whose precompressed sibling is in memory."""
    write(www / "a.css.gz", GZ)
    gzip_ok = {"Accept-Encoding": "gzip"}
    async with serve(web, app_for(www)) as port:
        for _ in range(2):
            assert (await exchange(port, build("GET", "/s/a.css", headers=gzip_ok))).body == GZ
        (www / "a.css").unlink()
        (www / "a.css").symlink_to(www.parent / "secret.css")
        sibling = await exchange(port, build("GET", "/s/a.css", headers=gzip_ok))
        plain = await exchange(port, build("GET", "/s/a.css"))
    assert sibling.status == 404 and plain.status == 404


async def test_a_recent_file_is_not_kept(www: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within ``settle`` seconds of its last change a file is read every time: a
    write in the same clock tick would leave its stat unchanged."""
    st = (www / "a.css").stat()
    changed = max(st.st_mtime, st.st_ctime)
    now = [changed + 1.0]
    cache = SmallFiles(clock=lambda: now[0])
    monkeypatch.setattr(fileresponse, "SMALL_FILES", cache)
    async with serve(web, app_for(www)) as port:
        for _ in range(2):
            assert (await exchange(port, build("GET", "/s/a.css"))).body == TEXT
        assert not cache.holds(str(www / "a.css"))
        now[0] = changed + 3.0
        assert (await exchange(port, build("GET", "/s/a.css"))).body == TEXT
    assert cache.holds(str(www / "a.css"))


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    cache = SmallFiles(file_max=100, total_max=250, clock=lambda: time.time() + 3600)
    for name, size in [("a", 100), ("b", 100), ("c", 101), ("d", 100)]:
        path = tmp_path / name
        path.write_bytes(b"x" * size)
        cache.put(str(path), path.stat(), path.read_bytes())
    assert [cache.holds(str(tmp_path / n)) for n in "abcd"] == [False, True, False, True]
    short = tmp_path / "e"
    short.write_bytes(b"12345")
    cache.put(str(short), short.stat(), b"1234")  # not all of it: never kept
    assert not cache.holds(str(short))
