"""The hot path of a mapped load: per dataset column, one function from the source row's cells
to the stored value, fusing the mapping with the dataset's own parser where that saves work for
every row: a value map or a flow lookup parses each of its few results once, a derived id is
a whole number already. Anything unusual (a problem, an unmapped value) raises ``ValueError``
and the checker takes its slow path (mapper.py), which maps to cell texts, parses them and
reports every problem with its source column, so both paths store the same values.
"""
from __future__ import annotations

from hashlib import sha256

from .ids import derive_flow_code, id_prefix
from .mappings import Mapping

#: Distinct derived flow codes remembered per load (a hostile file cannot grow this unbounded).
DERIVED_CACHE = 10_000
MISSING = object()
SKIP = object()
INT64_MAX = 2 ** 63 - 1


def parsed_or_none(parse, text: str):
    """(True, parse(text)), or (False, None) when the parser refuses it."""
    try:
        return True, parse(text)
    except ValueError:
        return False, None


def fused(mapping: Mapping | None, parse, text_getter, position: int | None, unchanged: bool,
          namespace: str, skip_row):
    """The fast function of one column. ``text_getter``: the slow path's cells → cell text;
    ``position``: the source column of a one-column mapping; ``unchanged``: a source column's
    text reaches the parser as it is (not a time in another format than ISO);
    ``skip_row(column, value)``: the exception of a skipped row."""
    if mapping is None or mapping.kind == 'constant':
        ok, value = parsed_or_none(parse, mapping.constant if mapping else '')
        text = mapping.constant if mapping else ''
        return (lambda _cells: value) if ok else (lambda _cells: parse(text))
    if mapping.kind == 'source' and (mapping.values or mapping.skip):
        return value_map(mapping, parse, position, skip_row)
    if mapping.kind == 'source' and unchanged:
        return lambda cells: parse(cells[position])
    if mapping.kind == 'lookup':
        return lookup(mapping, parse, position)
    if mapping.kind == 'hash_id' and parsed_or_none(parse, str(INT64_MAX)) == (True, INT64_MAX):
        return hashed(namespace, parse, position)
    return lambda cells: parse(text_getter(cells))


def value_map(mapping: Mapping, parse, position: int, skip_row):
    table: dict = {}
    for key, target in mapping.values.items():
        ok, value = parsed_or_none(parse, target)
        if ok:
            table[key] = value
    table.update(dict.fromkeys(mapping.skip, SKIP))
    column = mapping.sources[0]

    def mapped(cells):
        value = cells[position].strip()
        found = table.get(value.upper(), MISSING)
        if found is MISSING:
            if value:
                raise ValueError(value)
            return parse('')
        if found is SKIP:
            raise skip_row(column, value)
        return found
    return mapped


def lookup(mapping: Mapping, parse, position: int):
    table: dict = {}
    for key, code in mapping.flows.items():
        ok, value = parsed_or_none(parse, code)
        if ok:
            table[key] = value
    limit = len(table) + DERIVED_CACHE
    derive = mapping.unknown == 'derive'

    def looked_up(cells):
        value = cells[position].strip()
        key = value.upper()
        found = table.get(key, MISSING)
        if found is not MISSING:
            return found
        if not value:
            return parse('')
        if not derive:
            raise ValueError(value)
        found = parse(derive_flow_code(value))
        if len(table) < limit:
            table[key] = found
        return found
    return looked_up


def hashed(namespace: str, parse, position: int):
    prefix, from_bytes = id_prefix(namespace), int.from_bytes

    def derived(cells):  # ids.derive_id, inlined: it runs for every row
        value = cells[position].strip()
        if not value:
            return parse('')
        return (from_bytes(sha256(prefix + value.encode()).digest()[:8], 'big') >> 1) or 1
    return derived
