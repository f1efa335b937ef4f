"""Uploaded files kept between requests: streamed to the configured UPLOAD_FOLDER (a share in a
farm) under their SHA-256, never under the name the browser sent (no path traversal, and the
same content is stored once). Kept UPLOAD_RETENTION_HOURS so a dry run can be loaded later
without uploading again."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 1 << 20
SHA256_PATTERN = re.compile(r'[0-9a-f]{64}\Z')
SUFFIX = '.upload'


@dataclass(frozen=True)
class StoredFile:
    path: Path
    sha256: str
    size: int


def store_upload(stream: BinaryIO, folder: Path) -> StoredFile:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix='.incoming-', suffix='.part',
                                         delete=False)
    try:
        with handle:
            while True:
                chunk = stream.read(CHUNK_BYTES)
                if not chunk:
                    break
                digest.update(chunk)
                handle.write(chunk)
                size += len(chunk)
        sha = digest.hexdigest()
        target = folder / f'{sha}{SUFFIX}'
        if not keep_existing(target):
            os.replace(handle.name, target)
        Path(handle.name).unlink(missing_ok=True)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return StoredFile(path=target, sha256=sha, size=size)


def keep_existing(target: Path) -> bool:
    """Same SHA-256, same content: keep a kept file already there, with its retention time
    restarted, rather than replace it. On Windows it may be open by a running load of it, and
    replacing an open file is refused (PermissionError)."""
    try:
        os.utime(target)
    except FileNotFoundError:  # not there, or purged a moment ago
        return False
    return True


def stored_upload(folder: Path, sha256: str, retention_hours: int) -> StoredFile | None:
    """The kept upload with this SHA-256, if it is still there and not expired."""
    if not sha256 or not SHA256_PATTERN.match(sha256):
        return None
    path = Path(folder) / f'{sha256}{SUFFIX}'
    try:
        stat = path.stat()
    except OSError:
        return None
    if time.time() - stat.st_mtime > retention_hours * 3600:
        return None
    return StoredFile(path=path, sha256=sha256, size=stat.st_size)


def discard_if_changed(stored: StoredFile) -> bool:
    """Hash a kept upload again; if its content no longer matches its name (someone or
    something changed the file on the share), delete it and return True."""
    try:
        sha256, _size = file_sha256(stored.path)
    except OSError:
        return True
    if sha256 == stored.sha256:
        return False
    stored.path.unlink(missing_ok=True)
    return True


def touch(stored: StoredFile) -> None:
    """Uploading the same content again restarts its retention time."""
    os.utime(stored.path)


def purge_expired(folder: Path, retention_hours: int) -> int:
    """Delete kept uploads (and abandoned partial uploads) older than the retention time."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    limit = time.time() - retention_hours * 3600
    removed = 0
    for path in folder.iterdir():
        if not (path.name.endswith(SUFFIX) or path.name.startswith('.incoming-')):
            continue
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except OSError:
            continue  # another server removed it first, or (Windows) a load still reads it
    return removed


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, 'rb') as handle:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
