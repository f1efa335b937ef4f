"""The load pipeline shared by the upload page and ``flask load``: validate a file as it streams,
write it in bulk, all or nothing, and keep what undo needs.

A load (dry run or not) runs as:
1. take the dataset's lock (locks.py), or tell who is loading since when;
2. mark batches whose process died as interrupted, and commit this batch as "running"
   (batches.py);
3. in ONE transaction on the ops bind (loader.py): stream the file through the checks, write the
   good rows chunk by chunk, keep prior versions of updated/deleted rows, delete what a replace
   leaves out, refresh the daily summary, and mark the batch succeeded;
4. commit only when no problem was found and it is not a dry run; otherwise roll back (nothing
   changed) and record the batch as failed (or validated) with its problems.
"""
from __future__ import annotations

from flask import current_app

from ..datasets import get_dataset
from ..signals import load_committed
from ..templating import format_datetime
from .batches import audit_and_commit, hold_lock, previous_identical, start_batch
from .loader import Loader
from .outcomes import MODES, DuplicateFile, LoadOutcome, LoadRefused, LoadRequest, Progress
from .storage import file_sha256


def run_load(request: LoadRequest, progress: Progress | None = None) -> LoadOutcome:
    """Validate and (unless a dry run) load one file. Raises LoadRefused when the load cannot
    start (another load running, an identical file already loaded without confirmation)."""
    spec = get_dataset(request.dataset)
    if request.mode not in MODES:
        raise LoadRefused(f'Unknown mode {request.mode!r}: use one of {", ".join(MODES)}.')
    if request.profile is not None and request.profile.dataset != spec.name:
        raise LoadRefused(f'The source profile {request.profile.name} maps files to '
                          f'{request.profile.dataset}, not to {spec.name}.')
    if request.sha256 is None or request.size is None:
        request.sha256, request.size = file_sha256(request.path)
    refuse_identical(spec.name, request)
    with hold_lock(spec.name, request.lock_wait_seconds) as lock:
        # Again under the lock: the same file may have been loaded while this load waited
        # for it (two admins, or an inbox and an upload, with the same export).
        refuse_identical(spec.name, request)
        batch_id = start_batch(lock, dataset=spec.name, mode=request.mode,
                               dry_run=request.dry_run, file_name=request.file_name[:260],
                               file_size=request.size, sha256=request.sha256,
                               loaded_by=request.user,
                               profile=request.profile.name if request.profile else None)
        outcome = Loader(spec, request, batch_id, progress).run()
    verb = 'dry-run' if request.dry_run else 'load'
    mapped = f', source profile {request.profile.name}' if request.profile else ''
    detail = (f'{request.mode} of {request.file_name} ({request.size:,} bytes, sha256 '
              f'{request.sha256[:12]}…{mapped}): {outcome.message}')
    audit_and_commit(f'{verb}.{outcome.status}', f'{spec.name} batch #{batch_id}',
                     detail[:4000], request.user)
    load_committed.send(current_app._get_current_object(), dataset=spec.name, outcome=outcome)
    return outcome


def refuse_identical(dataset: str, request: LoadRequest) -> None:
    """Raise DuplicateFile when the same file (same SHA-256) has already been loaded into the
    dataset, unless the request is a dry run or says to load it again."""
    if request.dry_run or request.allow_duplicate:
        return
    previous = previous_identical(dataset, request.sha256)
    if previous is not None:
        raise DuplicateFile(
            f'This file is identical (same SHA-256) to the one loaded into {dataset} as '
            f'batch #{previous.id} on {format_datetime(previous.started_at)} by '
            f'{previous.loaded_by}. Load it again only if that is what you mean.', previous)
