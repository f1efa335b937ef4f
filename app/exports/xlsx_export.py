"""xlsx export with openpyxl's write-only mode (rows go straight to a temporary file, not into
memory). Text cells are written as strings explicitly, so a value starting with ``=`` is shown
as text by Excel, never run as a formula, and loads back unchanged (a value starting with an
apostrophe that a load would remove gets one more: app.csv_safety). Control characters, which
the xlsx format cannot hold, are written as U+FFFD so that an export never fails on stored data
(loads refuse them; older data may hold them)."""
from __future__ import annotations

import tempfile
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from ..csv_safety import protect_apostrophe
from . import EXPORT_COLUMNS, TIME_INDEX
from .columns import PickingSheet, picker


def xlsx_text(value: str) -> str:
    """A stored text as an xlsx cell holds it (see the module's docstring)."""
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub('\ufffd', value)
    return protect_apostrophe(value)


def write_xlsx(rows: Iterable, format_time, sheet_title: str = 'responses', columns=None):
    """Write the rows to a temporary xlsx file and return it, positioned at its start.
    ``columns``: only these (app.exports.columns), default all."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    if columns is not None:
        sheet = PickingSheet(sheet, picker(columns))
    bold = Font(bold=True)
    header = []
    for name in EXPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    text_positions = {index for index, name in enumerate(EXPORT_COLUMNS)
                      if name in ('flow_code', 'status', 'error_reason', 'message_id',
                                  'correlation_id')}
    for row in rows:
        values = list(row)
        values[TIME_INDEX] = format_time(values[TIME_INDEX])
        for index in text_positions:
            value = values[index]
            if value is not None:
                cell = WriteOnlyCell(sheet, value=xlsx_text(value))
                cell.data_type = 's'
                values[index] = cell
        sheet.append(values)
    output = tempfile.TemporaryFile(suffix='.xlsx')
    workbook.save(output)
    output.seek(0)
    return output
