"""The six ways a profile fills one dataset column (definition.py lists them), read from and
written back to their JSON form, each checked with plain messages."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..datasets import FLOW_CODE_PATTERN

KINDS = ('source', 'constant', 'difference', 'lookup', 'hash_id', 'join')
UNKNOWN_RULES = ('reject', 'derive')


@dataclass(frozen=True)
class Mapping:
    """How one dataset column is filled."""
    column: str
    kind: str
    #: the source columns it reads, in the order the kind uses them
    sources: tuple[str, ...] = ()
    constant: str = ''
    #: value map, keys upper-cased (matching is case-insensitive)
    values: dict[str, str] = field(default_factory=dict)
    skip: tuple[str, ...] = ()
    #: flow lookup, keys upper-cased
    flows: dict[str, str] = field(default_factory=dict)
    unknown: str = 'reject'
    separator: str = ' '
    #: join: the source column without which the joined text stays empty (e.g. the message)
    when: str = ''

    @property
    def label(self) -> str:
        """How problems name this column: the source's own column names."""
        if self.kind == 'difference':
            return f'{self.sources[1]} − {self.sources[0]}'
        if self.kind == 'constant':
            return f'{self.column} (constant)'
        return ' + '.join(self.sources)


def mapping_json(mapping: Mapping) -> dict:
    if mapping.kind == 'source':
        out: dict = {'source': mapping.sources[0]}
        if mapping.values:
            out['values'] = dict(mapping.values)
        if mapping.skip:
            out['skip'] = list(mapping.skip)
        return out
    if mapping.kind == 'constant':
        return {'constant': mapping.constant}
    if mapping.kind == 'difference':
        return {'difference': {'start': mapping.sources[0], 'end': mapping.sources[1]}}
    if mapping.kind == 'lookup':
        return {'lookup': mapping.sources[0], 'flows': dict(mapping.flows),
                'unknown': mapping.unknown}
    if mapping.kind == 'hash_id':
        return {'hash_id': mapping.sources[0]}
    return {'join': list(mapping.sources), 'separator': mapping.separator,
            **({'when': mapping.when} if mapping.when else {})}


def read_mapping(name: str, raw, problems: list[str]) -> Mapping | None:
    kinds = [kind for kind in KINDS if isinstance(raw, dict) and kind in raw]
    if len(kinds) != 1:
        problems.append(f'"{name}" must have exactly one of {", ".join(KINDS)}.')
        return None
    before = len(problems)
    mapping = READERS[kinds[0]](name, raw, problems)
    return mapping if len(problems) == before else None


def column_name(value, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f'{where} must name a source column.')
        return ''
    return value.strip()


def text_map(value, where: str, problems: list[str]) -> dict[str, str]:
    """A case-insensitive map: keys upper-cased; two keys equal but for case are refused."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        problems.append(f'{where} must map texts to texts, e.g. {{"COMPLETED": "OK"}}.')
        return {}
    result: dict[str, str] = {}
    for key, target in value.items():
        upper = key.strip().upper()
        if upper in result:
            problems.append(f'{where} names {key!r} twice (keys are not case-sensitive).')
        result[upper] = target.strip()
    return result


def read_source(name: str, raw: dict, problems: list[str]) -> Mapping:
    where = f'"{name}"'
    values = text_map(raw['values'], f'{where} values', problems) if 'values' in raw else {}
    skip = raw.get('skip', [])
    if not isinstance(skip, list) or not all(isinstance(v, str) for v in skip):
        problems.append(f'{where} skip must be a list of values, e.g. ["PROCESSING"].')
        skip = []
    skip = tuple(v.strip().upper() for v in skip)
    both = [v for v in skip if v in values]
    if both:
        problems.append(f'{where} both maps and skips {", ".join(both)}.')
    return Mapping(name, 'source', (column_name(raw['source'], f'{where} source', problems),),
                   values=values, skip=skip)


def read_constant(name: str, raw: dict, problems: list[str]) -> Mapping:
    if not isinstance(raw['constant'], str):
        problems.append(f'"{name}" constant must be text (write numbers in quotes).')
        return Mapping(name, 'constant')
    return Mapping(name, 'constant', constant=raw['constant'])


def read_difference(name: str, raw: dict, problems: list[str]) -> Mapping:
    pair = raw['difference']
    if not isinstance(pair, dict):
        problems.append(f'"{name}" difference must be {{"start": "...", "end": "..."}}.')
        return Mapping(name, 'difference', ('', ''))
    start = column_name(pair.get('start'), f'"{name}" difference start', problems)
    end = column_name(pair.get('end'), f'"{name}" difference end', problems)
    return Mapping(name, 'difference', (start, end))


def read_lookup(name: str, raw: dict, problems: list[str]) -> Mapping:
    where = f'"{name}"'
    flows = text_map(raw.get('flows', {}), f'{where} flows', problems)
    bad = [code for code in flows.values() if not FLOW_CODE_PATTERN.match(code.upper())]
    if bad:
        problems.append(f'{where} flows: {", ".join(bad)} cannot be flow codes (2-32 letters, '
                        'digits, _ or -).')
    unknown = raw.get('unknown', 'reject')
    if unknown not in UNKNOWN_RULES:
        problems.append(f'{where} unknown must be "reject" (an unknown name is an error) or '
                        '"derive" (the name becomes a flow code by the documented rule).')
    return Mapping(name, 'lookup', (column_name(raw['lookup'], f'{where} lookup', problems),),
                   flows={k: v.upper() for k, v in flows.items()}, unknown=unknown)


def read_hash_id(name: str, raw: dict, problems: list[str]) -> Mapping:
    return Mapping(name, 'hash_id', (column_name(raw['hash_id'], f'"{name}" hash_id', problems),))


def read_join(name: str, raw: dict, problems: list[str]) -> Mapping:
    parts = raw['join']
    if not isinstance(parts, list) or not parts:
        problems.append(f'"{name}" join must list source columns.')
        return Mapping(name, 'join')
    separator = raw.get('separator', ' ')
    if not isinstance(separator, str):
        problems.append(f'"{name}" separator must be text.')
        separator = ' '
    sources = tuple(column_name(part, f'"{name}" join', problems) for part in parts)
    when = raw.get('when', '')
    if when and when not in sources:
        problems.append(f'"{name}" when must be one of the joined columns.')
    return Mapping(name, 'join', sources, separator=separator, when=when or '')


READERS = {'source': read_source, 'constant': read_constant, 'difference': read_difference,
           'lookup': read_lookup, 'hash_id': read_hash_id, 'join': read_join}
