"""Keeping spreadsheet programs from running what a CSV cell says (CSV/formula injection).

Excel and LibreOffice treat a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula. Flowdesk stores such text exactly as loaded (it is data, never
evaluated), and every CSV Flowdesk writes passes text cells through ``neutralise_formula``,
which prefixes a single quote, as OWASP recommends. Plain numbers such as ``-5`` are left
alone: they are not formulas and a quote would turn them into text.

So that an export loads back unchanged, the rule is reversible: a value that itself starts with
``'`` is prefixed too, and a load removes exactly one leading ``'`` when the next character is
one of ``= + - @ ' tab CR`` (``unprotect``). An xlsx export writes text cells as typed text,
which never runs as a formula, so it prefixes only values that start with such an apostrophe.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ('=', '+', '-', '@', '\t', '\r')
#: First characters an export protects with a ``'`` (and a load unprotects).
PROTECTED_PREFIXES = FORMULA_PREFIXES + ("'",)
_PLAIN_NUMBER = re.compile(r'[+-]?\d+(\.\d+)?\Z')


def neutralise_formula(text: str) -> str:
    """``text`` made safe to open in a spreadsheet: prefixed with ``'`` when it starts like a
    formula (and is not a plain number)."""
    if text and text.startswith(PROTECTED_PREFIXES) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def starts_protected(text: str) -> bool:
    """True when ``text`` starts with a ``'`` that a load removes."""
    return text[:1] == "'" and text[1:2] in PROTECTED_PREFIXES


def protect_apostrophe(text: str) -> str:
    """An xlsx text cell: only a value that ``unprotect`` would change gets a ``'``."""
    return "'" + text if starts_protected(text) else text


def unprotect(text: str) -> str:
    """A loaded text cell without the one ``'`` an export put before it."""
    return text[1:] if starts_protected(text) else text


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
