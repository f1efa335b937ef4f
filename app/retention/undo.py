"""Undo after retention: a load of responses whose rows (or the prior versions it kept) have
since been purged cannot be undone exactly, so its undo is refused with the reason."""
from __future__ import annotations

from sqlalchemy import func, select

from ..datasets import RESPONSES


def purged_rows_refusal(connection, batch) -> str | None:
    """Why ``batch`` cannot be undone because of a purge (None: nothing of it was purged).

    The most recent load of responses still owns exactly the rows it inserted or updated
    (they carry its batch id) and the prior versions of those it updated or deleted; fewer
    means retention deleted some."""
    if batch.dataset != RESPONSES.name:
        return None
    table, versions = RESPONSES.table, RESPONSES.version_table
    rows = connection.scalar(select(func.count()).select_from(table).where(
        table.c.batch_id == batch.id))
    kept_versions = connection.scalar(select(func.count()).select_from(versions).where(
        versions.c.superseded_by == batch.id))
    if rows >= batch.inserted + batch.updated and kept_versions >= batch.updated + batch.deleted:
        return None
    return (f'Batch #{batch.id} cannot be undone: retention has since archived and deleted '
            'responses it wrote or the prior versions it kept (older than the retention '
            'period), so undo could not put the data back as it was. The monthly archives in '
            'ARCHIVE_FOLDER hold the deleted rows; load them back with flask load if needed.')
