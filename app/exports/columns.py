"""The columns an export writes (``columns=`` on /responses/export.csv and .xlsx).

Every export reads and formats the full upload layout (``EXPORT_COLUMNS``); a chosen subset is
picked from each finished row at the very end, by wrapping the CSV writer or the xlsx sheet. The
default (no ``columns=``, or all of them in layout order) writes exactly what it always wrote,
so such an export still loads back unchanged."""
from __future__ import annotations

from . import EXPORT_COLUMNS

COLUMNS_PARAMETER = 'columns'


def parse_columns(args) -> tuple[tuple[str, ...] | None, str | None]:
    """(chosen columns or None for the upload layout, error message or None). Repeated
    parameters and comma lists both work; the order given is kept, repeats dropped."""
    chosen: list[str] = []
    for raw in args.getlist(COLUMNS_PARAMETER):
        chosen += [part.strip().lower() for part in raw.split(',') if part.strip()]
    if not chosen:
        return None, None
    unknown = [name for name in chosen if name not in EXPORT_COLUMNS]
    if unknown:
        return None, (f'Unknown export column {", ".join(unknown[:5])}: choose among '
                      f'{", ".join(EXPORT_COLUMNS)}.')
    chosen = list(dict.fromkeys(chosen))
    return (None if tuple(chosen) == EXPORT_COLUMNS else tuple(chosen)), None


def picker(columns: tuple[str, ...] | None):
    """A function taking a full-layout row to the chosen columns (None: keep the row)."""
    if columns is None:
        return None
    positions = [EXPORT_COLUMNS.index(name) for name in columns]
    return lambda row: [row[index] for index in positions]


class PickingCsvWriter:
    """A csv writer that writes only the chosen columns of each row (header included)."""

    def __init__(self, writer, pick):
        self._writer, self._pick = writer, pick

    def writerow(self, row):
        return self._writer.writerow(self._pick(row))

    def writerows(self, rows):
        pick = self._pick
        return self._writer.writerows([pick(row) for row in rows])


class PickingSheet:
    """An openpyxl write-only sheet whose ``append`` keeps only the chosen columns."""

    def __init__(self, sheet, pick):
        self._sheet, self._pick = sheet, pick

    def append(self, row):
        self._sheet.append(self._pick(row))

    def __getattr__(self, name):
        return getattr(self._sheet, name)
