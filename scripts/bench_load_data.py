"""The files scripts/bench_load.py loads: N responses generated deterministically
(app.demo_data, fixed seed and end time) as CSV, with their flows, and the same rows as the
engines' bulk tools take them (with what a load stores beside the file's columns).
"""
from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

UNTIL = datetime(2026, 11, 1)
COLUMNS = ('response_id', 'flow_code', 'responded_at', 'status', 'result_code', 'duration_ms',
           'error_reason', 'payload_bytes')
#: What a load stores per row (the file's columns, the batch id, the derived reason hash).
STORED_COLUMNS = COLUMNS + ('batch_id', 'reason_hash')


def data_paths(folder: Path) -> dict[str, Path]:
    return {'flows': folder / 'flows.csv', 'responses': folder / 'responses.csv',
            'responses9': folder / 'responses_for_import.csv'}


def generate(folder: Path, rows: int, shape: str = 'demo') -> dict[str, Path]:
    from app.demo_data import iter_responses
    from app.demo_shapes import SHAPES
    from app.error_reasons import reason_hash
    profile = SHAPES[shape]
    flows = profile.make_flows(seed=7)
    paths = data_paths(folder)
    with open(paths['flows'], 'w', encoding='utf-8', newline='') as handle:
        writer = csv.writer(handle)
        keys = list(flows[0].as_row())
        writer.writerow(keys)
        writer.writerows([flow.as_row()[key] for key in keys] for flow in flows)
    with open(paths['responses'], 'w', encoding='utf-8', newline='') as plain, \
            open(paths['responses9'], 'w', encoding='utf-8', newline='') as with_batch:
        out, out9 = csv.writer(plain), csv.writer(with_batch)
        out.writerow(COLUMNS)
        for row in iter_responses(flows, rows, until=UNTIL, seed=7,
                                  **profile.response_options()):
            out.writerow(row)
            # The engines' bulk tools store what the product stores: the batch id and the
            # derived reason hash too (sqlite3 .import fills columns by position).
            out9.writerow(row + (0, reason_hash(row[6])))
    return paths
