"""A source profile's definition: the JSON text stored in ``source_profiles.definition``, read
into a ``Definition`` and checked with one plain message per problem.

Format 1 (README "Source profiles" shows a whole example)::

    {"format": 1, "dataset": "responses", "description": "...",
     "signature": ["MessageGuid", "IntegrationFlowName", "Status"],
     "id_namespace": "sap-cpi",
     "timestamps": {"format": "iso" | "excel" | "pattern", "pattern": "%d.%m.%Y %H:%M:%S",
                    "timezone": "Europe/Berlin"},
     "columns": {"<dataset column>": <mapping>, ...},
     "ignore": ["LogLevel", ...]}

A mapping is exactly one of:
- ``{"source": "Status", "values": {"COMPLETED": "OK"}, "skip": ["PROCESSING"]}``: a source
  column, optionally through a case-insensitive value map (an unmapped value is an error) whose
  ``skip`` values drop the row with a counted note (non-final states);
- ``{"constant": "text"}``;
- ``{"difference": {"start": "LogStart", "end": "LogEnd"}}``: end minus start in milliseconds;
- ``{"lookup": "IntegrationFlowName", "flows": {"Order sync": "ORD-SYNC"},
  "unknown": "reject" | "derive"}``: a source value to a flow code;
- ``{"hash_id": "MessageGuid"}``: a whole-number key derived from a text id (see ``ids.py``);
- ``{"join": ["Code", "Error"], "separator": ": "}``: the non-empty values joined.
Source columns are named as in the source's header (compared case- and space-insensitively).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..datasets import DATASETS, DatasetSpec, ParseContext
from ..loading.validation import normalise_header
from .mappings import Mapping, mapping_json, read_mapping

FORMAT = 1
TIMESTAMP_FORMATS = ('iso', 'excel', 'pattern')
#: The longest definition kept (NVARCHAR(max) holds more; this keeps a paste accident out).
MAX_DEFINITION_CHARS = 200_000


class DefinitionError(ValueError):
    """The definition cannot be used; ``problems`` lists every reason, one sentence each."""

    def __init__(self, problems: list[str]):
        super().__init__('; '.join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Definition:
    dataset: str
    columns: dict[str, Mapping]
    signature: tuple[str, ...] = ()
    description: str = ''
    id_namespace: str = ''
    timestamp_format: str = 'iso'
    timestamp_pattern: str = ''
    timezone: str | None = None
    ignore: tuple[str, ...] = ()
    #: Source columns of mappings left out because the dataset lacks their column (built-in
    #: profiles): read by nothing, but not reported as unknown either.
    declared: tuple[str, ...] = ()

    @property
    def spec(self) -> DatasetSpec:
        return DATASETS[self.dataset]

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads, once, in first-use order."""
        seen: dict[str, None] = {}
        for mapping in self.columns.values():
            for name in mapping.sources:
                seen.setdefault(name, None)
        return list(seen)

    def matches(self, header: list[str]) -> bool:
        """Does a file's header carry every column of the signature?"""
        names = {normalise_header(cell) for cell in header}
        return bool(self.signature) and all(normalise_header(n) in names for n in self.signature)

    def parse_context(self, ctx: ParseContext) -> ParseContext:
        """The app's parse context, with the profile's time zone when it names one."""
        return replace(ctx, data_timezone=self.timezone) if self.timezone else ctx

    def to_json(self) -> dict:
        return {'format': FORMAT, 'dataset': self.dataset, 'description': self.description,
                'signature': list(self.signature), 'id_namespace': self.id_namespace,
                'timestamps': {'format': self.timestamp_format,
                               **({'pattern': self.timestamp_pattern}
                                  if self.timestamp_format == 'pattern' else {}),
                               **({'timezone': self.timezone} if self.timezone else {})},
                'columns': {name: mapping_json(m) for name, m in self.columns.items()},
                'ignore': list(self.ignore)}


def dumps(definition: Definition) -> str:
    """The stored text: indented, keys in a stable order, so a diff of two versions reads."""
    return json.dumps(definition.to_json(), indent=2, ensure_ascii=False)


def loads(text: str, *, drop_unknown_columns: bool = False) -> Definition:
    """Read and check a definition's JSON text; raises DefinitionError with every problem.
    ``drop_unknown_columns``: mappings of columns the dataset lacks are left out instead of
    refused (the built-in profiles declare columns some versions of a dataset lack)."""
    if len(text) > MAX_DEFINITION_CHARS:
        raise DefinitionError([f'The definition is {len(text):,} characters long; at most '
                               f'{MAX_DEFINITION_CHARS:,} are allowed.'])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DefinitionError([f'The definition is not valid JSON: {error.msg} at line '
                               f'{error.lineno}, column {error.colno}.']) from None
    return from_json(data, drop_unknown_columns=drop_unknown_columns)


def from_json(data, *, drop_unknown_columns: bool = False) -> Definition:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise DefinitionError(['The definition must be a JSON object ({...}).'])
    if data.get('format', FORMAT) != FORMAT:
        problems.append(f'"format" must be {FORMAT} (the only definition format there is).')
    dataset = data.get('dataset')
    if dataset not in DATASETS:
        raise DefinitionError(problems + [f'"dataset" must be one of {", ".join(DATASETS)}.'])
    spec = DATASETS[dataset]
    known = {'format', 'dataset', 'description', 'signature', 'id_namespace', 'timestamps',
             'columns', 'ignore'}
    problems += [f'Unknown key "{key}" (allowed: {", ".join(sorted(known))}).'
                 for key in data if key not in known]
    declared: list[str] = []
    columns = read_columns(data.get('columns'), spec, problems, drop_unknown_columns, declared)
    stamps = data.get('timestamps') or {}
    fmt, pattern, zone = read_timestamps(stamps, problems)
    definition = Definition(
        dataset=dataset, columns=columns,
        signature=tuple(text_list(data.get('signature', []), 'signature', problems)),
        description=text_value(data.get('description', ''), 'description', problems),
        id_namespace=text_value(data.get('id_namespace', ''), 'id_namespace', problems),
        timestamp_format=fmt, timestamp_pattern=pattern, timezone=zone,
        ignore=tuple(text_list(data.get('ignore', []), 'ignore', problems)),
        declared=tuple(declared))
    if not definition.signature:
        problems.append('"signature" must list at least one source column: the columns that '
                        'recognise a file of this kind.')
    if any(m.kind == 'hash_id' for m in columns.values()) and not definition.id_namespace:
        problems.append('A hash_id mapping needs "id_namespace" (any fixed text, e.g. the '
                        'platform\'s name): it keeps ids from different sources apart.')
    problems += target_problems(spec, columns)
    if problems:
        raise DefinitionError(problems)
    return definition


def target_problems(spec: DatasetSpec, columns: dict[str, Mapping]) -> list[str]:
    """Constants and value-map targets must be values the dataset column accepts."""
    problems = []
    ctx = ParseContext()
    for name, mapping in columns.items():
        parse = spec.column(name).parser(ctx)
        targets = ([mapping.constant] if mapping.kind == 'constant' and mapping.constant
                   else list(mapping.values.values()))
        for target in targets:
            try:
                parse(target)
            except ValueError as error:
                problems.append(f'"{name}": {target!r} {error}.')
    return problems


def text_value(value, where: str, problems: list[str]) -> str:
    if not isinstance(value, str):
        problems.append(f'"{where}" must be text.')
        return ''
    return value


def text_list(value, where: str, problems: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f'"{where}" must be a list of column names (non-empty texts).')
        return []
    return [v.strip() for v in value]


def read_timestamps(stamps, problems: list[str]) -> tuple[str, str, str | None]:
    if not isinstance(stamps, dict):
        problems.append('"timestamps" must be an object such as {"format": "iso"}.')
        return 'iso', '', None
    fmt = stamps.get('format', 'iso')
    pattern = stamps.get('pattern', '')
    zone = stamps.get('timezone') or None
    if fmt not in TIMESTAMP_FORMATS:
        problems.append(f'"timestamps.format" must be one of {", ".join(TIMESTAMP_FORMATS)}.')
    if fmt == 'pattern':
        if not isinstance(pattern, str) or '%' not in pattern:
            problems.append('"timestamps.pattern" must be a strptime pattern such as '
                            '"%d.%m.%Y %H:%M:%S".')
        else:
            try:
                datetime.strptime(datetime(2026, 3, 1, 14, 5, 9).strftime(pattern), pattern)
            except ValueError as error:
                problems.append(f'"timestamps.pattern" cannot be used: {error}.')
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f'"timestamps.timezone" {zone!r} is not a time zone name such as '
                            'UTC or Europe/Berlin.')
            zone = None
    return fmt, pattern if fmt == 'pattern' else '', zone


def read_columns(columns, spec: DatasetSpec, problems: list[str], drop_unknown: bool,
                 declared: list[str]) -> dict[str, Mapping]:
    if not isinstance(columns, dict) or not columns:
        problems.append('"columns" must map dataset columns to their sources, e.g. '
                        '{"status": {"source": "Status"}}.')
        return {}
    result: dict[str, Mapping] = {}
    for name, raw in columns.items():
        if name not in spec.column_names:
            if not drop_unknown:
                problems.append(f'"{name}" is not a {spec.name} column (columns: '
                                f'{", ".join(spec.column_names)}).')
            else:
                mapping = read_mapping(name, raw, [])
                declared.extend(mapping.sources if mapping else ())
            continue
        mapping = read_mapping(name, raw, problems)
        if mapping is not None:
            result[name] = mapping
    missing = [name for name in spec.required_columns if name not in result]
    if missing:
        problems.append(f'Every required column needs a mapping; missing: {", ".join(missing)}.')
    return result
