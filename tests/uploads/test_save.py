"""The upload-to-folder helper: server-chosen names, size limit, sha256, and no
file left behind on a limit or a client that goes away."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web as aiohttp_web

from framework._wire import exchange, serve
from squall import web
from squall.framework.uploads import safe_name, save_part, save_uploads

from .conftest import field, file, multipart, post

EVIL = [
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "C:win.ini",
    "..\\..\\boot.ini",
    "a\u202egnp.exe",
    ".",
    "..",
    "",
    "x" * 5000,
    "~/.ssh/authorized_keys",
    "name.tar.gz",
]


@pytest.mark.parametrize("name", EVIL)
def test_safe_name_is_the_servers(name: str) -> None:
    chosen = safe_name(name)
    stem, _, ext = chosen.partition(".")
    assert len(stem) == 32 and all(c in "0123456789abcdef" for c in stem)
    assert "/" not in chosen and "\\" not in chosen and ":" not in chosen and "\x00" not in chosen
    assert ext == {
        "C:\\Windows\\win.ini": "ini",
        "C:win.ini": "ini",
        "..\\..\\boot.ini": "ini",
        "name.tar.gz": "gz",
        "a\u202egnp.exe": "exe",
    }.get(name, "")
    assert safe_name(name) != chosen  # fresh each time


def app_factory(folder: Path) -> Any:
    def factory(w: Any) -> Any:
        async def one(request: Any) -> Any:
            reader = await request.multipart()
            part = await reader.next()
            stored = await save_part(part, folder, max_size=10_000)
            assert stored.path.parent == folder
            return w.json_response(
                [
                    stored.name,
                    stored.filename,
                    stored.field,
                    stored.size,
                    stored.sha256,
                    stored.content_type,
                    stored.path.read_bytes().decode("latin-1"),
                ]
            )

        async def many(request: Any) -> Any:
            saved = await save_uploads(
                await request.multipart(), folder, max_size=10_000, max_files=2
            )
            return w.json_response(
                {
                    "fields": list(saved.fields.items()),
                    "files": [[s.filename, s.size, s.path.name] for s in saved.files],
                }
            )

        app = w.Application()
        app.router.add_post("/one", one)
        app.router.add_post("/many", many)
        return app

    return factory


@pytest.mark.parametrize("name", EVIL[:6])
async def test_hostile_filenames_stay_in_the_folder(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "up"
    folder.mkdir()
    async with serve(web, app_factory(folder)) as port, httpx.AsyncClient() as client:
        reply = await client.post(
            f"http://127.0.0.1:{port}/one", files={"doc": (name, b"payload", "text/plain")}
        )
    stored_name, filename, field_name, size, digest, ctype, content = reply.json()
    assert [p.name for p in folder.iterdir()] == [stored_name]
    assert list(tmp_path.iterdir()) == [folder]  # nothing written beside it
    assert filename == name  # kept as metadata only
    assert (field_name, size, ctype, content) == ("doc", 7, "text/plain", "payload")
    assert digest == hashlib.sha256(b"payload").hexdigest()
    assert os.stat(folder / stored_name).st_mode & 0o777 == 0o600


async def test_limit_leaves_no_file(tmp_path: Path) -> None:
    async with serve(web, app_factory(tmp_path)) as port:
        reply = await exchange(port, post("/one", multipart([file("f", "big.bin", b"b" * 10_001)])))
        many = await exchange(
            port,
            post(
                "/many",
                multipart(
                    [
                        file("a", "a.txt", b"1"),
                        field("n", b"v"),
                        file("b", "b.txt", b"2"),
                        file("c", "c.txt", b"3"),
                    ]
                ),
            ),
        )
        fine = await exchange(
            port, post("/many", multipart([file("a", "a.txt", b"1"), field("n", b"v")]))
        )
    assert reply.status == 413
    assert many.status == 413 and many.body == b"More than 2 files"
    assert fine.json()["fields"] == [["n", "v"]] and fine.json()["files"][0][:2] == ["a.txt", 1]
    assert [p.name for p in tmp_path.iterdir()] == [
        fine.json()["files"][0][2]
    ]  # the failed forms left nothing


async def test_client_going_away_leaves_no_file(tmp_path: Path) -> None:
    body = multipart([file("f", "f.bin", b"q" * 9000)])
    async with serve(web, app_factory(tmp_path)) as port:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(post("/one", body)[:-4000])
        await writer.drain()
        for _ in range(500):  # hang guard: wait for the partial file to appear
            if list(tmp_path.iterdir()):
                break
            await asyncio.sleep(0.01)
        assert len(list(tmp_path.iterdir())) == 1
        writer.transport.abort()
        for _ in range(500):
            if not list(tmp_path.iterdir()):
                break
            await asyncio.sleep(0.01)
    assert list(tmp_path.iterdir()) == []


def bounded_app(folder: Path, taken: list[int]) -> Any:
    """save_uploads with its defaults (``/default``) and with small bounds
    (``/small``); ``taken`` gets the bytes the reader had read when it failed."""

    def factory(w: Any) -> Any:
        async def handler(request: Any) -> Any:
            reader = await request.multipart()
            limits = {"max_fields_total": 10_000, "max_fields": 3}
            try:
                saved = await save_uploads(
                    reader,
                    folder,
                    max_size=10_000,
                    max_files=1,
                    **(limits if request.path == "/small" else {}),
                )
            except w.HTTPException:
                taken.append(reader.consumed)
                raise
            return w.json_response(
                {
                    "fields": [[k, len(v)] for k, v in saved.fields.items()],
                    "files": [[s.field, s.filename, s.size] for s in saved.files],
                }
            )

        app = w.Application()
        app.router.add_post("/default", handler)
        app.router.add_post("/small", handler)
        return app

    return factory


async def test_text_fields_are_bounded_in_all(tmp_path: Path) -> None:
    """Review finding: 1,000 fields of 64 KiB of \\x80 held 128 MiB (each doubled by
    the "replace" decoding). Now 1 MiB of fields in all by default, then 413,
    having read about that much of the body and no more."""
    taken: list[int] = []
    many = multipart([field(f"f{i}", b"\x80" * 65536) for i in range(64)])  # 4 MiB
    async with serve(web, bounded_app(tmp_path, taken)) as port:
        refused = await exchange(port, post("/default", many))
        fine = await exchange(
            port, post("/default", multipart([field(f"f{i}", b"\x80" * 65536) for i in range(15)]))
        )
        small = await exchange(
            port,
            post(
                "/small",
                multipart(
                    [field("a", b"x" * 4000), field("b", b"x" * 4000), field("c", b"x" * 2000)]
                ),
            ),
        )
        small_fine = await exchange(
            port,
            post(
                "/small",
                multipart(
                    [field("a", b"x" * 4000), field("b", b"x" * 4000), field("c", b"x" * 1000)]
                ),
            ),
        )
        count = await exchange(port, post("/small", multipart([field(n, b"") for n in "abcd"])))
    assert (refused.status, refused.body) == (413, b"Form fields over 1048576 bytes in all")
    # read (and held): the bound, the field that crossed it and what the socket
    # had delivered with it (up to 256 KiB a read); the rest of the 4 MiB never
    assert taken[0] < (1 << 20) + (1 << 19), taken
    assert fine.status == 200 and len(fine.json()["fields"]) == 15
    assert (small.status, small.body) == (413, b"Form fields over 10000 bytes in all")
    assert small_fine.json()["fields"] == [["a", 4000], ["b", 4000], ["c", 1000]]
    assert (count.status, count.body) == (413, b"More than 3 form fields")
    assert list(tmp_path.iterdir()) == []


def empty_file_app(folder: Path) -> Any:
    def factory(w: Any) -> Any:
        async def saved(request: Any) -> Any:
            form = await save_uploads(await request.multipart(), folder, max_size=100, max_files=1)
            return w.json_response(
                {"fields": sorted(form.fields), "files": sorted(s.field or "" for s in form.files)}
            )

        async def posted(request: Any) -> Any:
            form = await request.post()
            files = [k for k, v in form.items() if isinstance(v, w.FileField)]
            return w.json_response(
                {"fields": sorted(k for k in form if k not in files), "files": sorted(files)}
            )

        app = w.Application()
        app.router.add_post("/saved", saved)
        app.router.add_post("/posted", posted)
        return app

    return factory


async def test_an_empty_file_input_is_a_field_as_in_post(tmp_path: Path) -> None:
    """A browser sends an optional file input left empty as ``filename=""`` and no
    bytes: post() (aiohttp's too) makes it a field; save_uploads stored an empty
    file and counted it against max_files."""
    body = multipart(
        [
            file("avatar", "", b""),
            field("name", b"ann"),
            file("doc", "a.txt", b"text"),
        ]
    )
    async with serve(aiohttp_web, empty_file_app(tmp_path)) as port:
        theirs = await exchange(port, post("/posted", body))
    async with serve(web, empty_file_app(tmp_path)) as port:
        ours = await exchange(port, post("/posted", body))
        saved = await exchange(port, post("/saved", body))
    expected = {"fields": ["avatar", "name"], "files": ["doc"]}
    assert theirs.json() == ours.json() == saved.json() == expected
    assert [p.read_bytes() for p in tmp_path.iterdir()] == [b"text"]
