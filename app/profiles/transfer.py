"""A profile as a JSON file, to move it from UAT to production: its name and its definition
(the id namespace included, so derived ids stay the same on both)."""
from __future__ import annotations

import json

from .definition import Definition, DefinitionError, from_json

#: The key that marks a Flowdesk profile export, with its version.
MARK = 'flowdesk_source_profile'
#: The largest file an import reads.
MAX_IMPORT_BYTES = 1 << 20


def export_text(name: str, definition: Definition) -> str:
    return json.dumps({MARK: 1, 'name': name, 'definition': definition.to_json()},
                      indent=2, ensure_ascii=False) + '\n'


def read_import(data: bytes) -> tuple[str, Definition]:
    """The name and checked definition of an export; DefinitionError says what is wrong."""
    if len(data) > MAX_IMPORT_BYTES:
        raise DefinitionError([f'The file is larger than {MAX_IMPORT_BYTES // 1024:,} KiB: it is '
                               'not a profile export.'])
    try:
        document = json.loads(data.decode('utf-8-sig'))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DefinitionError([f'The file is not a profile export (not UTF-8 JSON: {error}).']
                              ) from None
    if not isinstance(document, dict) or document.get(MARK) != 1:
        raise DefinitionError([f'The file is not a Flowdesk source profile export (it lacks '
                               f'"{MARK}": 1).'])
    name = document.get('name')
    if not isinstance(name, str) or not name.strip():
        raise DefinitionError(['The export has no profile name.'])
    return name.strip(), from_json(document.get('definition'))
