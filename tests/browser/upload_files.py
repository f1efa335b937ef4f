"""Files the browser tests upload, written at run time: responses must name flows that exist,
and the flow codes come from the demo data the test seeded."""
from __future__ import annotations

from pathlib import Path

HEADER = 'response_id,flow_code,responded_at,status,result_code,duration_ms,error_reason,payload_bytes'
#: IDs far above the demo data's, dated long before it: they sort first when oldest come first.
NEW_IDS = [9_000_001, 9_000_002, 9_000_003, 9_000_004, 9_000_005]
#: The large file's IDs start after this one.
LARGE_FIRST_ID = 20_000_000


def responses_file(path: Path, flow_code: str, broken: bool) -> Path:
    """Five responses of ``flow_code``; ``broken`` puts a problem on lines 3, 4 and 5."""
    rows = [
        f'{NEW_IDS[0]},{flow_code},2020-01-06 08:00:00,OK,200,120,,2048',
        f'{NEW_IDS[1]},{flow_code},2020-01-06 08:05:00,{"FINE" if broken else "OK"},200,130,,2048',
        f'{NEW_IDS[2]},{"NO-SUCH-FLOW" if broken else flow_code},2020-01-06 08:10:00,ERROR,503,'
        '30010,Service Unavailable: upstream did not answer,',
        f'{NEW_IDS[3]},{flow_code},2020-01-06 08:15:00,WARN,207,{-5 if broken else 5},'
        'Partial success: 3 of 250 records rejected,100',
        f'{NEW_IDS[4]},{flow_code},2020-01-06 08:20:00,OK,200,90,,1024',
    ]
    path.write_text('\n'.join([HEADER, *rows]) + '\n', encoding='utf-8', newline='')
    return path


def large_responses_file(path: Path, flow_code: str, megabytes: float) -> tuple[Path, int]:
    """A valid responses file of about ``megabytes`` MB; returns it and its row count."""
    target = int(megabytes * 1024 * 1024)
    rows = 0
    with path.open('w', encoding='utf-8', newline='') as handle:
        handle.write(HEADER + '\n')
        while handle.tell() < target:
            rows += 1
            handle.write(f'{LARGE_FIRST_ID + rows},{flow_code},2020-02-01 10:{rows // 60 % 60:02d}:'
                         f'{rows % 60:02d},WARN,200,{rows % 5000},Slow response: {rows % 5000} ms '
                         f'above the 2000 ms threshold,{rows * 7}\n')
    return path, rows
