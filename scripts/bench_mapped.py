"""``scripts/bench_load.py --mapped``: a load mapped by a source profile against the native load
of the same rows, each in its own process and into a freshly migrated database (flows loaded
first). Targets: the mapped load at most 15 % slower, and its peak memory as flat as the native
load's (within 10 MB of it, and ≤ 150 MB).

The mapped file holds the demo responses in the layout of SAP Integration Suite message
processing logs, with the built-in profile's mappings: the id is a text id (``MessageGuid``)
from which ``response_id`` is derived by hashing, the status goes through the value map, the
flow through the lookup, ``duration_ms`` is ``LogEnd`` minus ``LogStart``; three more source
columns carry the result code, error text and payload size (which the built-in profile leaves
out). Ignored columns make the source file wider than the native one, as real exports are.
The native file holds the same rows in Flowdesk's layout, with the same derived ids and the
message and correlation ids (``message_id``, ``correlation_id``), so both loads store exactly
the same rows (hashed ids are spread over the whole key range, which makes
any load of them slower than one of ascending ids: that is the data, not the mapping).
"""
from __future__ import annotations

import csv
import sys
from datetime import datetime, timedelta
from pathlib import Path

#: The mapped load may take at most this much longer than the native one.
TOLERANCE = 0.15
#: Peak memory of the mapped load may exceed the native load's by at most this (MB).
MEMORY_SLACK_MB = 10
STATUS = {'OK': 'COMPLETED', 'WARN': 'RETRY', 'ERROR': 'FAILED'}
HEADER = ['MessageGuid', 'CorrelationId', 'ApplicationMessageId', 'LogStart', 'LogEnd', 'Sender',
          'Receiver', 'IntegrationFlowName', 'Status', 'LogLevel', 'ResultCode', 'ErrorText',
          'PayloadBytes']


def bench_profile():
    from app.profiles.builtins import SAP_CPI_DEFINITION
    from app.profiles.definition import from_json
    from app.profiles.store import ResolvedProfile
    data = {**SAP_CPI_DEFINITION, 'columns': {
        **SAP_CPI_DEFINITION['columns'], 'result_code': {'source': 'ResultCode'},
        'error_reason': {'source': 'ErrorText'}, 'payload_bytes': {'source': 'PayloadBytes'}}}
    return ResolvedProfile('bench: SAP CPI', from_json(data, drop_unknown_columns=True))


def write_files(demo: Path, work: Path) -> tuple[Path, Path]:
    """The demo responses in the CPI layout, and in Flowdesk's layout with the ids the profile
    derives (the same rows, for both loads)."""
    from app.profiles.ids import derive_id
    namespace = bench_profile().definition.id_namespace
    mapped, native = work / 'responses_cpi.csv', work / 'responses_same_ids.csv'
    with open(demo, encoding='utf-8', newline='') as source, \
            open(mapped, 'w', encoding='utf-8', newline='') as out, \
            open(native, 'w', encoding='utf-8', newline='') as same:
        reader, writer, plain = csv.reader(source), csv.writer(out), csv.writer(same)
        plain.writerow(next(reader) + ['message_id', 'correlation_id'])
        writer.writerow(HEADER)
        for rid, flow, at, status, result, duration, reason, size in reader:
            end = datetime.fromisoformat(at)
            start = (end - timedelta(milliseconds=int(duration))).isoformat(sep='T') \
                if duration else ''
            guid, correlation = f'AGW{int(rid):025X}', f'C{int(rid) // 3:012d}'
            writer.writerow([guid, correlation, f'ORDER-{rid}', start, end.isoformat(sep='T'),
                             'S4HANA_PRD', 'SHOP', flow, STATUS[status], 'INFO', result, reason,
                             size])
            plain.writerow([derive_id(namespace, guid), flow, at, status, result, duration,
                            reason, size, guid, correlation])
    return mapped, native


def child(backend: str, target: str, path: str) -> dict:
    """The mapped load, timed (run by bench_load.py as a child process)."""
    import time

    from bench_load_children import make_app
    app = make_app(backend, target)
    with app.app_context():
        from app.loading import LoadRequest, run_load
        started, cpu = time.perf_counter(), time.process_time()
        outcome = run_load(LoadRequest('responses', 'append', Path(path), 'mapped.csv', 'bench',
                                       profile=bench_profile()))
        seconds = time.perf_counter() - started
        assert outcome.ok, outcome.message
        return {'seconds': seconds, 'rows': outcome.counts.inserted,
                'cpu_seconds': time.process_time() - cpu}


def run(bench, backends: list[str], pg_url: str | None, work: Path, paths: dict, rows: int,
        repeat: int = 1) -> list[str]:
    """Alternate native and mapped loads ``repeat`` times; the best time of each counts."""
    mapped_path, native_path = write_files(paths['responses'], work)
    print(f'{mapped_path.name}: {mapped_path.stat().st_size / 1e6:,.1f} MB; {native_path.name}: '
          f'{native_path.stat().st_size / 1e6:,.1f} MB', flush=True)
    failures = []
    for backend in backends:
        native, mapped = [], []
        for _round in range(repeat):
            target = bench.fresh_target(backend, pg_url, work, 'native', paths['flows'])
            native.append(bench.run_child('product', backend, target, native_path))
            target = bench.fresh_target(backend, pg_url, work, 'mapped', paths['flows'])
            mapped.append(bench.run_child('mapped', backend, target, mapped_path))
        target = bench.fresh_target(backend, pg_url, work, 'ascending', paths['flows'])
        ascending = bench.run_child('product', backend, target, paths['responses'])
        assert all(result['rows'] == rows for result in native + mapped + [ascending])
        best_native = min(result['seconds'] for result in native)
        best_mapped = min(result['seconds'] for result in mapped)
        native_rss = max(result['max_rss_mb'] for result in native)
        mapped_rss = max(result['max_rss_mb'] for result in mapped)
        slower = best_mapped / best_native - 1
        # CPU time of the loading process: on a shared machine it varies far less than the
        # wall time (SQLite works in that process; a server database's work is not in it).
        cpu_native = min(result['cpu_seconds'] for result in native)
        cpu_mapped = min(result['cpu_seconds'] for result in mapped)
        native_all = ', '.join(f'{result["seconds"]:.1f}' for result in native)
        mapped_all = ', '.join(f'{result["seconds"]:.1f}' for result in mapped)
        print(f'\n== {backend}: {rows:,} rows, best of {repeat} ==')
        print(f'{"native load":<28} {best_native:8.1f} s {rows / best_native:>12,.0f} rows/s'
              f'   peak RSS {native_rss:.0f} MB   (all: {native_all})')
        print(f'{"mapped load (SAP CPI)":<28} {best_mapped:8.1f} s {rows / best_mapped:>12,.0f} '
              f'rows/s   peak RSS {mapped_rss:.0f} MB   {slower:+.1%} time (target <= '
              f'+{TOLERANCE:.0%})   (all: {mapped_all})')
        print(f'{"CPU time of the load":<28} native {cpu_native:.1f} s, mapped {cpu_mapped:.1f} s: '
              f'{cpu_mapped / cpu_native - 1:+.1%}')
        print(f'{"(native, ascending ids)":<28} {ascending["seconds"]:8.1f} s '
              f'{rows / ascending["seconds"]:>12,.0f} rows/s   peak RSS '
              f'{ascending["max_rss_mb"]:.0f} MB   for information: the demo file itself '
              '(ascending ids, no message or correlation ids)')
        if slower > TOLERANCE:
            failures.append(f'{backend}: mapped load {slower:+.1%}')
        if mapped_rss > native_rss + MEMORY_SLACK_MB or mapped_rss > 150:
            failures.append(f'{backend}: mapped peak RSS {mapped_rss:.0f} MB '
                            f'(native {native_rss:.0f} MB)')
    return failures


if __name__ == '__main__':
    sys.exit('Run scripts/bench_load.py --mapped.')
