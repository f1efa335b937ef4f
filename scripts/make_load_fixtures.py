"""Writes the uploaded-file fixtures of the load tests (tests/assets/loads/). The files are
committed; run this again only to change them: ``python scripts/make_load_fixtures.py``."""
from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / 'tests' / 'assets' / 'loads'

FLOW_HEADER = 'flow_code,name,flow_type,source_system,target_system,owner_team,owner_email,schedule,active,description'
FLOWS = [
    'ORD-SAP-CRM,Orders SAP to CRM,API,SAP,CRM,Finance Integration,fin@corp.example,real time,true,Orders',
    'INV-FILE,Invoices file drop,FILE,Billing,DataLake,Data Engineering,data@corp.example,hourly,yes,',
    'HR-SYNC,HR sync,batch,Workday,HRIS,HR Systems,,0 3 * * 1-5,0,Nightly HR sync',
]
RESPONSE_HEADER = 'response_id,flow_code,responded_at,status,result_code,duration_ms,error_reason,payload_bytes'
RESPONSES = [
    '1,ORD-SAP-CRM,2026-03-01 14:05:09,OK,200,120,,5120',
    '2,ORD-SAP-CRM,2026-03-01T14:06:00.250,error,503,30010,"Service Unavailable: upstream CRM\nsaid ""busy""",',
    '3,INV-FILE,2026-03-01 23:30:00+01:00,WARN,0,2500,"=HYPERLINK(""http://evil.example"")",0',
    '4,HR-SYNC,2026-03-02 01:00:00Z,OK,-1,,,',
    '5,inv-file,2026-03-02 02:00:00,Ok,0,1800,,734003',
]

#: The upload layout with the optional source ids: one message (ORDER-4711) through three flows,
#: listed out of time order; a run without a message id; a formula-like id; a row without ids.
RESPONSE_IDS_HEADER = RESPONSE_HEADER + ',message_id,correlation_id'
RESPONSES_IDS = [
    '101,HR-SYNC,2026-03-10 09:00:05,OK,0,800,,,6f1c2a9e-0c1b-4d2e-9a51-3f0e8c7b2d11,ORDER-4711',
    '102,ORD-SAP-CRM,2026-03-10 09:00:01,OK,200,120,,512,0b6f3c1d-2e4a-4c9b-8f7e-5a1d9c3e7b20,ORDER-4711',
    '103,INV-FILE,2026-03-10 09:00:03.5,ERROR,2,2500,File not found,,,ORDER-4711',
    '104,ORD-SAP-CRM,2026-03-10 09:05:00,OK,200,90,,,9d2e7f4a-1b3c-4e5d-8f6a-7b8c9d0e1f2a,ORDER-4712',
    '105,INV-FILE,2026-03-10 09:06:00,OK,0,1000,,,,',
    '106,HR-SYNC,2026-03-10 09:07:00,WARN,0,10,,, =2+3 ,ORDER-4712',
]


def crlf(lines):
    return '\r\n'.join(lines) + '\r\n'


def write(name: str, content, encoding: str = 'utf-8') -> None:
    data = content if isinstance(content, bytes) else content.encode(encoding)
    (TARGET / name).write_bytes(data)


def xlsx(rows) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    # -- good files --------------------------------------------------------------------------
    write('flows_good.csv', crlf([FLOW_HEADER] + FLOWS))
    write('flows_upsert.csv', crlf([FLOW_HEADER,
        'ORD-SAP-CRM,Orders SAP to CRM (v2),API,SAP,CRM,Finance Integration,fin@corp.example,real time,true,Orders',
        FLOWS[1],
        'PAY-BANK,Payments to bank,QUEUE,PaymentHub,Treasury,,,,true,']))
    write('flows_replace.csv', crlf([FLOW_HEADER, FLOWS[0], FLOWS[1], FLOWS[2],
        'PAY-BANK,Payments to bank,QUEUE,PaymentHub,Treasury,,,,true,']))
    # Semicolons, Windows-1252 (é, €), a header in another case with spaces, an extra column.
    write('flows_semicolon_cp1252.csv', crlf([
        'Flow Code;Name;Flow Type;Source System;Target System;Active;Comment',
        'CAFE-01;Café orders € feed;FILE;Webshop;SAP;Y;ignored',
        'CAFE-02;Crème brûlée;db;SAP;DataLake;n;ignored']), encoding='cp1252')
    write('responses_good.csv', b'\xef\xbb\xbf' + crlf([RESPONSE_HEADER] + RESPONSES).encode('utf-8'))
    write('responses_upsert.csv', crlf([RESPONSE_HEADER,
        RESPONSES[0],                                              # unchanged
        '2,ORD-SAP-CRM,2026-03-01 14:06:00.25,OK,200,310,,',        # changed
        '6,HR-SYNC,2026-03-03 01:00:00,ERROR,1,99,Job exceeded maximum runtime,']))  # new
    write('responses_replace.csv', crlf([RESPONSE_HEADER, RESPONSES[0],
        '7,INV-FILE,2026-03-04 08:00:00,OK,0,10,,']))
    write('responses_good.xlsx', xlsx([
        RESPONSE_HEADER.split(','),
        [11, 'ORD-SAP-CRM', '2026-03-05 10:00:00', 'OK', 200, 150, None, 2048],
        [12, 'INV-FILE', __import__('datetime').datetime(2026, 3, 5, 11, 30), 'ERROR', 2, 400,
         'File not found', None],
        [13, 'HR-SYNC', '2026-03-05 12:00:00', 'WARN', 0, 70.0, '=SUM(A1:A2)', None],
    ]))
    write('responses_ids.csv', crlf([RESPONSE_IDS_HEADER] + RESPONSES_IDS))
    # -- bad files (one kind of problem each) ------------------------------------------------
    bad = {
        'missing_header.csv': crlf(['response_id,flow_code,responded_at,result_code',
                                    '1,ORD-SAP-CRM,2026-03-01 14:05:09,200']),
        'ragged.csv': crlf([RESPONSE_HEADER, RESPONSES[0].replace('1,', '20,', 1), '21,ORD-SAP-CRM,2026-03-01 10:00:00,OK,200,5']),
        'type_error.csv': crlf([RESPONSE_HEADER, '21,ORD-SAP-CRM,2026-03-01 10:00:00,OK,200,fast,,']),
        'out_of_range.csv': crlf([RESPONSE_HEADER, RESPONSES[0].replace('1,', '21,', 1),
                                  '22,ORD-SAP-CRM,2026-03-01 10:00:00,OK,99999999999,5,,']),
        'enum.csv': crlf([RESPONSE_HEADER, '21,ORD-SAP-CRM,2026-03-01 10:00:00,FINE,200,5,,']),
        'timestamp.csv': crlf([RESPONSE_HEADER, '21,ORD-SAP-CRM,01/03/2026 10:00,OK,200,5,,']),
        'too_long.csv': crlf([RESPONSE_HEADER, '21,ORD-SAP-CRM,2026-03-01 10:00:00,ERROR,500,5,'
                              + 'x' * 4001 + ',']),
        'repeated_key.csv': crlf([RESPONSE_HEADER, '21,ORD-SAP-CRM,2026-03-01 10:00:00,OK,200,5,,',
                                  '22,ORD-SAP-CRM,2026-03-01 10:01:00,OK,200,5,,',
                                  '21,ORD-SAP-CRM,2026-03-01 10:02:00,OK,200,5,,']),
        'unknown_flow.csv': crlf([RESPONSE_HEADER, '21,NO-SUCH-FLOW,2026-03-01 10:00:00,OK,200,5,,']),
        'negative_duration.csv': crlf([RESPONSE_HEADER, '21,ORD-SAP-CRM,2026-03-01 10:00:00,OK,200,-5,,']),
        'header_only.csv': crlf([RESPONSE_HEADER]),
        'ids_too_long.csv': crlf([RESPONSE_IDS_HEADER, RESPONSES_IDS[0],
                                  '107,ORD-SAP-CRM,2026-03-10 09:08:00,OK,200,5,,,' + 'm' * 101
                                  + ',ORDER-4713',
                                  '108,ORD-SAP-CRM,2026-03-10 09:09:00,OK,200,5,,,,' + 'c' * 201]),
        'empty.csv': '',
    }
    for name, content in bad.items():
        write(f'bad_{name}', content)
    # Invalid bytes: UTF-8 text with one byte (0x81) that no encoding Flowdesk accepts maps.
    write('bad_encoding.csv', (crlf([RESPONSE_HEADER, '21,ORD-SAP-CRM,2026-03-01 10:00:00,OK,200,5,,'])
                               .encode('utf-8') + b'22,ORD-SAP-CRM,2026-03-01 10:01:00,ERROR,500,5,caf\x81 down,\r\n'))
    write('bad_flows_email.csv', crlf([FLOW_HEADER,
        'MAIL-01,Mail flow,API,SAP,CRM,Team,not-an-email,hourly,true,']))
    write('bad_flows_code.csv', crlf([FLOW_HEADER, 'bad code!,Spaces,API,SAP,CRM,,,,true,']))
    write('bad_renamed_pdf.csv', b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n')
    write('bad_renamed_png.csv', b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01'
                                 b'\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f'
                                 b'\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82')
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, 'w') as handle:
        handle.writestr('readme.txt', 'not a workbook')
    write('bad_zip_not_xlsx.xlsx', archive.getvalue())
    write('bad_responses.xlsx', xlsx([RESPONSE_HEADER.split(','),
                                      [31, 'ORD-SAP-CRM', '2026-03-05 10:00:00', 'OK', 200, 'slow', None, None]]))
    print(f'Wrote {len(list(TARGET.iterdir()))} files to {TARGET}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
