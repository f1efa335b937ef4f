"""CSV export: streamed in chunks (constant memory whatever the row count), UTF-8 with a BOM so
Excel reads it as UTF-8, text cells that look like formulas neutralised (app.csv_safety).

The per-row work is one tuple built in a comprehension and the C csv writer: at hundreds of
thousands of rows a second, every Python call per row shows."""
from __future__ import annotations

import csv
import gc
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from ..csv_safety import PROTECTED_PREFIXES, neutralise_formula
from . import EXPORT_COLUMNS
from .columns import PickingCsvWriter, picker

BOM = '\ufeff'
_FIRST_CHARS = frozenset(PROTECTED_PREFIXES)
# The row layout this module relies on (the upload format, docs/architecture.md §1).
assert EXPORT_COLUMNS == ('response_id', 'flow_code', 'responded_at', 'status', 'result_code',
                          'duration_ms', 'error_reason', 'payload_bytes', 'message_id',
                          'correlation_id'), EXPORT_COLUMNS


def _safe(text):
    """Free text (flow code, error reason, the ids) as a cell that cannot run as a formula."""
    if text and text[0] in _FIRST_CHARS:
        return neutralise_formula(text)
    return text


def csv_chunks(chunks: Iterable[list], format_time, columns=None) -> Iterator[bytes]:
    """The CSV file as byte chunks: BOM + header, then one chunk per list of rows (tuples in
    EXPORT_COLUMNS order). Status is one of three words and needs no neutralising.
    ``columns``: only these (app.exports.columns), default all."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\r\n')
    if columns is not None:
        writer = PickingCsvWriter(writer, picker(columns))
    buffer.write(BOM)
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue().encode('utf-8')
    first = _FIRST_CHARS
    iterator = iter(chunks)
    while True:
        with collector_paused():
            rows = next(iterator, None)
            if rows is None:
                return
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([
                (r[0], _safe(r[1]) if r[1][:1] in first else r[1], format_time(r[2]), r[3],
                 r[4], r[5], _safe(r[6]) if r[6] and r[6][0] in first else r[6], r[7],
                 _safe(r[8]) if r[8] and r[8][0] in first else r[8],
                 _safe(r[9]) if r[9] and r[9][0] in first else r[9])
                for r in rows])
            data = buffer.getvalue().encode('utf-8')
        yield data


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector while one chunk is read and written.

    Reading a chunk allocates tens of thousands of row tuples; each allocation burst triggers
    collections that walk every long-lived object of the app, which more than halves the
    export speed. Rows hold no reference cycles, so nothing is lost by collecting after the
    chunk instead of during it (reference counting still frees each chunk at once)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
