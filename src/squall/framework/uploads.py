"""Store uploaded files in a folder, safely.

SECURITY (the invariants):
1. The name on disk is the server's: 32 random hex digits, plus the client's
   extension only when it is 1 to 10 ASCII letters or digits. The client's filename
   is kept as metadata and never reaches a path, so ``../../etc/passwd``, an
   absolute path, a NUL or a Windows drive (``C:\\x``) cannot leave the folder.
2. The file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and mode 0600: never
   an existing file, never through a symlink planted in the folder.
3. Size is checked as bytes arrive; past ``max_size`` (413), a client that goes
   away, a cancelled handler or any other error removes the partial file.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from multidict import MultiDict

from squall.framework.exceptions import HTTPBadRequest, HTTPRequestEntityTooLarge
from squall.framework.multipart import BodyPartReader, MultipartReader, iter_parts

_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})")
_CHUNK = 64 * 1024
_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What was stored: ``path`` is inside the folder, ``filename`` is the client's
    (metadata only, never trusted as a path)."""

    path: Path
    name: str
    filename: str | None
    field: str | None
    size: int
    sha256: str
    content_type: str


@dataclass(frozen=True, slots=True)
class SavedForm:
    """A form saved by :func:`save_uploads`: its text fields and its files."""

    fields: MultiDict[str] = field(default_factory=MultiDict)
    files: list[StoredFile] = field(default_factory=list)


def safe_name(filename: str | None) -> str:
    """A fresh server-chosen file name, keeping a plain extension of ``filename``."""
    stem = secrets.token_hex(16)
    if filename:
        match = _EXTENSION.fullmatch(os.path.splitext(filename.replace("\\", "/"))[1])
        if match is not None:
            return f"{stem}.{match.group(1).lower()}"
    return stem


async def save_part(
    part: BodyPartReader, folder: str | os.PathLike[str], *, max_size: int
) -> StoredFile:
    """Stream one part to a new file in ``folder`` (at most ``max_size`` bytes, else
    413 and no file); return what was stored."""
    directory = Path(folder)
    name = safe_name(part.filename)
    path = directory / name
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, _FLAGS, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            # NOTE: writes happen on the loop, as in the cheatsheet: a 64 KiB write to
            # the page cache costs microseconds, less than an executor hop
            while chunk := await part.read_chunk(_CHUNK):
                size += len(chunk)
                if size > max_size:
                    raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=size)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:  # limit, client gone, cancelled: no partial file stays
        path.unlink(missing_ok=True)
        raise
    return StoredFile(
        path=path,
        name=name,
        filename=part.filename,
        field=part.name,
        size=size,
        sha256=digest.hexdigest(),
        content_type=part.headers.get("Content-Type", "application/octet-stream"),
    )


async def save_uploads(
    reader: MultipartReader,
    folder: str | os.PathLike[str],
    *,
    max_size: int,
    max_files: int = 16,
    max_field_size: int = 64 * 1024,
    max_fields: int = 1000,
    max_fields_total: int = 1024 * 1024,
) -> SavedForm:
    """Save every file part of ``reader`` into ``folder`` (each at most ``max_size``
    bytes, at most ``max_files`` of them) and collect the text fields (each at most
    ``max_field_size`` bytes, at most ``max_fields`` of them and ``max_fields_total``
    bytes in all, else 413). A part with an empty ``filename`` (a file input left
    empty) is a text field, as in ``post()``. On any error the files stored so far
    are removed."""
    saved = SavedForm()
    # SECURITY: the fields are held in memory (a str of up to twice their bytes
    # once decoded), so they are bounded as a whole, not only one by one
    budget = max_fields_total
    try:
        async for part in iter_parts(reader):
            if not part.filename:
                if len(saved.fields) >= max_fields:
                    raise HTTPRequestEntityTooLarge(
                        max_size=max_fields, text=f"More than {max_fields} form fields"
                    )
                name = part.name or ""
                budget -= len(name)
                data = await _read_field(part, max_field_size, budget, max_fields_total)
                budget -= len(data)
                saved.fields.add(name, _text(data, part.get_charset("utf-8")))
                continue
            if len(saved.files) >= max_files:
                raise HTTPRequestEntityTooLarge(
                    max_size=max_files, text=f"More than {max_files} files"
                )
            saved.files.append(await save_part(part, folder, max_size=max_size))
    except BaseException:  # the form is all or nothing
        for stored in saved.files:
            stored.path.unlink(missing_ok=True)
        raise
    return saved


async def _read_field(part: BodyPartReader, limit: int, budget: int, total: int) -> bytes:
    """The field's bytes: over ``limit``, 400; over what is left of the form's
    ``budget`` (``total`` bytes in all, names included), 413."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if size > budget:
            raise HTTPRequestEntityTooLarge(
                max_size=total, text=f"Form fields over {total} bytes in all"
            )
        chunk = await part.read_chunk(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise HTTPBadRequest(text=f"Form field over {limit} bytes")
        chunks.append(chunk)


def _text(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset, "replace")
    except LookupError:  # the client's charset names no codec
        raise HTTPBadRequest(text="Unsupported charset") from None
