"""Keeping spreadsheet programs from running what a CSV cell says (CSV/formula injection).

Excel and LibreOffice treat a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula. Flowdesk stores such text exactly as loaded (it is data, never
evaluated), and every CSV Flowdesk writes passes text cells through ``neutralise_formula``,
which prefixes a single quote, as OWASP recommends. Plain numbers such as ``-5`` are left
alone: they are not formulas and a quote would turn them into text.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

FORMULA_PREFIXES = ('=', '+', '-', '@', '\t', '\r')
_PLAIN_NUMBER = re.compile(r'[+-]?\d+(\.\d+)?\Z')


def neutralise_formula(text: str) -> str:
    """``text`` made safe to open in a spreadsheet: prefixed with ``'`` when it starts like a
    formula (and is not a plain number)."""
    if text and text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def neutralise_cell(value: Any) -> Any:
    """A value ready for ``csv.writer``: text is neutralised, None becomes an empty cell,
    anything else (numbers, dates) is written as it is."""
    if value is None:
        return ''
    if isinstance(value, str):
        return neutralise_formula(value)
    return value


def neutralise_row(values: Iterable[Any]) -> list[Any]:
    return [neutralise_cell(value) for value in values]
