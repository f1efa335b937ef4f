"""*Check folder*: can this process list, read and move files in an inbox folder? The inbox job
needs all three (plus creating ``processed/`` and ``rejected/``). The check runs as the web
site's account; the jobs task must run as the same account (docs/deploy-iis.md) for the
answer to hold for it too."""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import folder as files


@dataclass(frozen=True)
class Check:
    ok: bool
    message: str


def check_folder(folder: Path, pattern: str) -> list[Check]:
    """The checks in order; a failed step ends the list (later steps need it)."""
    folder = Path(folder)
    try:
        waiting = files.waiting_files(folder, pattern)
    except OSError as error:
        return [Check(False, f'Cannot list {folder}: {error.strerror or error}. Check that the '
                             'path is right and that the service account may read the share.')]
    checks = [Check(True, f'Can list the folder: {len(waiting)} file'
                          f'{"" if len(waiting) == 1 else "s"} matching {pattern} waiting.')]
    if waiting:
        checks.append(read_check(waiting[0].path))
    checks.append(move_check(folder))
    return checks


def read_check(path: Path) -> Check:
    try:
        with open(path, 'rb') as handle:
            handle.read(1)
    except OSError as error:
        return Check(False, f'Cannot read {path.name}: {error.strerror or error}.')
    return Check(True, f'Can read the waiting files ({path.name}).')


def move_check(folder: Path) -> Check:
    """Write a probe file, read it back, move it into processed/ and delete it."""
    probe = folder / f'.flowdesk-check-{uuid.uuid4().hex}.tmp'
    moved = None
    try:
        probe.write_text('Flowdesk folder check\n', encoding='utf-8')
        probe.read_text(encoding='utf-8')
        target = files.processed_folder(folder, files.date.today())
        target.mkdir(parents=True, exist_ok=True)
        files.rejected_folder(folder).mkdir(exist_ok=True)
        moved = target / probe.name
        os.replace(probe, moved)
    except OSError as error:
        return Check(False, f'Cannot create and move files in {folder}: '
                            f'{error.strerror or error}. The service account needs modify '
                            'rights on the folder (read, write, delete).')
    finally:
        for leftover in (probe, moved):
            if leftover is not None:
                leftover.unlink(missing_ok=True)
    return Check(True, 'Can create, read and move files into processed/ and rejected/.')
