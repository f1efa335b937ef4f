"""Files in an inbox folder (local or UNC path): which are waiting, whether one has settled,
and where it goes afterwards. Everything is ``pathlib``; moves stay inside the inbox folder
(``processed/YYYY-MM-DD/``, ``rejected/``), so they are renames on the same volume.

A file still being written is recognised three ways: it was modified less than
INBOX_SETTLE_SECONDS ago; its size changed since the previous tick; or (Windows) it cannot be
opened exclusively, because the writer still holds it under a share lock. Linux has no share
locks, so there the size and modification time are the signal.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROCESSED = 'processed'
REJECTED = 'rejected'
#: Never picked up: hidden and temporary files (Office's ``~$`` lock files, ``.part`` copies).
IGNORED_PREFIXES = ('.', '~$')
IGNORED_SUFFIXES = ('.tmp', '.part', '.partial', '.crdownload')


@dataclass(frozen=True)
class Waiting:
    path: Path
    size: int
    mtime: float


def waiting_files(folder: Path, pattern: str) -> list[Waiting]:
    """Files of ``folder`` (not its subfolders) matching ``pattern``, oldest first. The pattern
    ignores case, as Windows does (``*.csv`` takes ``ORDERS.CSV``), on every system."""
    found = []
    for path in Path(folder).iterdir():  # raises when the folder cannot be listed
        name = path.name
        wanted = fnmatch.fnmatchcase(name.lower(), pattern.lower())
        if not wanted or name.startswith(IGNORED_PREFIXES) or name.lower().endswith(IGNORED_SUFFIXES):
            continue
        try:
            if not path.is_file():
                continue
            stat = path.stat()
        except OSError:
            continue  # gone since the listing (another server moved it)
        found.append(Waiting(path, stat.st_size, stat.st_mtime))
    found.sort(key=lambda item: (item.mtime, item.path.name))
    return found


def opens_exclusively(path: Path) -> bool:
    """Can the file be opened for writing with nobody else allowed to write it? On Windows a
    writer's share lock makes this fail; elsewhere there are no share locks (True)."""
    if os.name != 'nt':
        return True
    import msvcrt  # Windows only
    try:
        with open(path, 'r+b') as handle:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    except OSError:
        return False
    return True


def unsettled_reason(item: Waiting, now_ts: float, settle_seconds: int,
                     previous_size: int | None) -> str | None:
    """Why the file may still be being written (None: it has settled)."""
    if now_ts - item.mtime < settle_seconds:
        return f'modified {max(now_ts - item.mtime, 0):.0f} s ago'
    if previous_size is not None and previous_size != item.size:
        return f'its size changed since the last tick ({previous_size:,} → {item.size:,} bytes)'
    if not opens_exclusively(item.path):
        return 'another program still has it open'
    return None


def free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem (2).ext`` and so on when that name is taken."""
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 1
    while candidate.exists():
        number += 1
        candidate = folder / f'{stem} ({number}){suffix}'
    return candidate


def move_into(path: Path, folder: Path) -> Path:
    """Move a file into ``folder`` under a name no other file there has."""
    folder.mkdir(parents=True, exist_ok=True)
    target = free_name(folder, path.name)
    os.replace(path, target)
    return target


def processed_folder(inbox_folder: Path, day: date) -> Path:
    return Path(inbox_folder) / PROCESSED / day.isoformat()


def rejected_folder(inbox_folder: Path) -> Path:
    return Path(inbox_folder) / REJECTED


def report_path(rejected_file: Path) -> Path:
    """The error report beside a rejected file: ``<stem>.errors.csv`` (never colliding)."""
    return free_name(rejected_file.parent, f'{rejected_file.stem}.errors.csv')
