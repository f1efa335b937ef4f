"""Benchmark of the employee pages, the API and the CSV export at millions of responses.

Builds the demo data set scaled up (app.seeding.seed_demo, default 2,000,000 responses) in a
temporary instance folder (SQLite) and, when configured, in PostgreSQL; then measures the
server time of each page type over many requests through the WSGI app in-process (the app,
not the network), and the CSV export's rows/s and memory. Prints p50/p95 against the targets
of docs/architecture.md §10: pages p95 ≤ 50 ms (id lookups included), text search p95 ≤
100 ms (a common word, a rare one, each with a status or a flow filter, and the count by
itself), export ≥ 150k rows/s with flat memory, and one evaluation of 50 alert rules ≤ 1 s
(the ``alerts`` rows: the evaluation after a load, the tick after it and a tick that only
updates; scripts/bench_alerts.py).

    .venv/bin/python scripts/bench_browse.py                       # SQLite, 2M rows
    .venv/bin/python scripts/bench_browse.py --responses 200000    # quicker
    .venv/bin/python scripts/bench_browse.py --instance /tmp/bb    # keep/reuse the SQLite data
    # 20M realistic responses, after the same pages at 2M, then each p95's 20M/2M ratio
    # (target ≤ 1.5x); every size is seeded once into its own --instance subfolder (SQLite)
    # or schema pair (PostgreSQL) and reused by later runs; --seed-only just seeds:
    .venv/bin/python scripts/bench_browse.py --shape realistic --rows 20000000 --instance /tmp/bb
    # the same, against a baseline of 2M over 37 days: as many responses a day as 20M over a
    # year, so that the ratios show what grows with the table rather than with a day's rows
    .venv/bin/python scripts/bench_browse.py --shape realistic --rows 20000000 --baseline-days 37
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/flowdesk_bench_app \\
    BENCH_OPS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/flowdesk_bench_ops \\
        .venv/bin/python scripts/bench_browse.py --backend postgresql
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_browse_cases import COMMON_WORD, page_cases, search_words  # noqa: E402 (scripts/ is on the path)
from bench_common import peak_rss_mb, percentile, rss_mb, settle  # noqa: E402

PAGE_TARGET_MS = 50.0
SEARCH_TARGET_MS = 100.0
EXPORT_TARGET_ROWS_PER_S = 150_000
#: p95 targets per page type (default PAGE_TARGET_MS). Sorting by duration walks
#: ix_responses_duration, or sorts at most SORT_CAP matching rows (docs/architecture.md §6).
TARGETS = {'text search': SEARCH_TARGET_MS}
#: Text search per kind of word (issue 16): a common word (in more than 10 % of the error
#: reasons), a rare one (one reason), each alone and with a status or a flow filter, and the
#: count the page shows, measured by itself.
SEARCH_KINDS = ('search common', 'search rare', 'common+status', 'common+flow', 'rare+status',
                'rare+flow', 'search count')
TARGETS.update(dict.fromkeys(SEARCH_KINDS, SEARCH_TARGET_MS))
#: Largest p95 over baseline p95 (issue 16: cost must not grow with the table).
GROWTH_TARGET = 1.5
VIEWER = 'CORP\\bench'


def build_app(backend: str, instance: Path, data_set: str = ''):
    """The app on one backend. ``data_set`` (such as ``20000000_realistic``) names the data set
    so that several sizes live side by side and are reused: on PostgreSQL it suffixes the
    schema names, on SQLite the caller gives each its own instance folder."""
    from app import create_app
    environ = {'FLOWDESK_INSTANCE_PATH': str(instance), 'LOG_LEVEL': 'ERROR',
               'FLOWDESK_ADMINS': 'CORP\\benchadmin'}
    if backend == 'postgresql':
        suffix = f'_{data_set}' if data_set else ''
        environ.update(DATABASE_URL=os.environ['BENCH_DATABASE_URL'],
                       OPS_DATABASE_URL=os.environ['BENCH_OPS_DATABASE_URL'],
                       APP_SCHEMA=os.environ.get('BENCH_APP_SCHEMA', 'flowdesk_app') + suffix,
                       OPS_SCHEMA=os.environ.get('BENCH_OPS_SCHEMA', 'flowdesk_ops') + suffix)
    return create_app('testing', environ=environ)


def prepare_data(app, responses: int, reseed: bool, shape: str = 'demo',
                 days: int | None = None) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Response
    from app.seeding import seed_demo
    with app.app_context():
        upgrade()
        have = db.session.scalar(select(func.count()).select_from(Response))
        db.session.remove()
        if have == responses and not reseed:
            print(f'  reusing {have:,} responses already there')
            return
        started = time.perf_counter()
        summary = seed_demo(responses=responses, force=True, shape=shape, days=days)
        print(f'  seeded {summary.responses:,} responses in {time.perf_counter() - started:.0f} s '
              f'({shape} shape: generator + bulk inserts + daily summary + reason dictionary)')
        settle(db.engines['ops'])


def measure_counts(app, words: dict, requests: int) -> tuple[str, float, float, float]:
    """The text-search count by itself (app.browse.responses.count), over the search cases."""
    from werkzeug.datastructures import MultiDict

    from app.browse import responses
    from app.browse.filters import parse_response_filter
    from app.clock import utc_now
    from app.templating import display_zone
    queries = [[('q', COMMON_WORD)], [('q', words['rare'])],
               [('q', COMMON_WORD), ('status', 'ERROR')],
               [('q', COMMON_WORD), ('flow', words['common_flow'])],
               [('q', words['rare']), ('status', words['rare_status'])]]
    times = []
    for index in range(requests + len(queries)):
        args = MultiDict(queries[index % len(queries)])
        with app.test_request_context('/responses'):
            flt = parse_response_filter(args, now=utc_now(), zone=display_zone()).filter
            started = time.perf_counter()
            responses.count(flt)
            elapsed = (time.perf_counter() - started) * 1000
        if index >= len(queries):                     # the first round warms up
            times.append(elapsed)
    return ('search count', statistics.median(times), percentile(times, 0.95), SEARCH_TARGET_MS)


def measure_pages(app, cases, requests: int) -> list[tuple[str, float, float, float]]:
    client = app.test_client()
    client.environ_base['REMOTE_USER'] = VIEWER
    results = []
    for kind, urls in cases.items():
        refused = 0
        for url in urls:                              # warm-up: caches, compiled SQL
            response = client.get(url)
            refused += refused_duration_sort(kind, response)
            assert response.status_code == 200 or refused_duration_sort(kind, response), (
                url, response.status_code, response.get_data(as_text=True)[:500])
        if refused:
            print(f'  ({kind}: {refused} of {len(urls)} URLs answered 400 "narrow the filters or '
                  'sort by time": more matches than SORT_CAP; their refusals are timed too)')
        times = []
        for index in range(requests):
            url = urls[index % len(urls)]
            started = time.perf_counter()
            response = client.get(url)
            response.get_data()
            times.append((time.perf_counter() - started) * 1000)
        target = TARGETS.get(kind, PAGE_TARGET_MS)
        results.append((kind, statistics.median(times), percentile(times, 0.95), target))
    return results


def refused_duration_sort(kind: str, response) -> bool:
    """A duration sort whose filters match more than SORT_CAP rows is refused with a message
    (docs/architecture.md §6): at 20M a filter that matched thousands at 2M can match more."""
    return (kind == 'duration sort' and response.status_code == 400
            and 'sort by time' in response.get_data(as_text=True))


def measure_export(app, url: str) -> tuple[int, float, float, float]:
    """(rows, seconds, RSS growth MB during the export, RSS at start MB)."""
    client = app.test_client()
    client.environ_base['REMOTE_USER'] = VIEWER
    start_rss = rss_mb()
    peak = start_rss
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    lines = 0
    for index, chunk in enumerate(response.response):
        lines += chunk.count(b'\n')
        if index % 50 == 0:
            peak = max(peak, rss_mb())
    seconds = time.perf_counter() - started
    response.close()
    return lines - 1, seconds, peak - start_rss, start_rss


def reference_read(app, minimum_day) -> tuple[int, float]:
    """Reference: the same columns read with the bare DB-API cursor, nothing else."""
    from app.extensions import db
    with app.app_context():
        engine = db.engines['ops']
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            table = 'responses'
            schema = app.config['OPS_SCHEMA']
            if engine.dialect.name == 'postgresql' and schema:
                table = f'"{schema}".responses'
            started = time.perf_counter()
            cursor.execute(f'SELECT response_id, flow_code, responded_at, status, result_code, '
                           f'duration_ms, error_reason, payload_bytes, message_id, '
                           f'correlation_id FROM {table} '
                           f"WHERE responded_at >= '{minimum_day:%Y-%m-%d %H:%M:%S}' "
                           'ORDER BY responded_at DESC, response_id DESC')
            rows = 0
            while True:
                batch = cursor.fetchmany(10_000)
                if not batch:
                    break
                rows += len(batch)
            return rows, time.perf_counter() - started
        finally:
            raw.close()


def data_set_name(rows: int, shape: str, days: int | None = None) -> str:
    return f'{rows}_{shape}' + (f'_{days}d' if days else '')


def span_of(rows: int, args) -> int | None:
    """The days a data set spans: the shape's, but ``--baseline-days`` for the baseline."""
    return args.baseline_days if rows == args.baseline else None


def run(backend: str, args) -> bool:
    """Each size in turn (the baseline first, when there is one), then the ratio of each p95 at
    the largest size to its p95 at the baseline: cost must not grow with the table."""
    print(f'\n=== {backend} ===')
    sizes = [args.baseline, args.responses] if args.baseline else [args.responses]
    ok, measured = True, {}
    for rows in sizes:
        days = span_of(rows, args)
        print(f'\n--- {backend}, {rows:,} {args.shape} responses'
              f'{f" over {days} days" if days else ""} ---')
        passed, measured[rows] = run_data_set(backend, rows, args)
        ok &= passed
    if args.baseline and not args.seed_only:
        ok &= print_ratios(measured[args.baseline], measured[args.responses], args)
    return ok


def print_ratios(baseline: dict, largest: dict, args) -> bool:
    ok = True
    span = f' over {args.baseline_days} days' if args.baseline_days else ''
    print(f'\n  p95 at {args.responses:,} / p95 at {args.baseline:,}{span} '
          f'(target ≤ {GROWTH_TARGET:.1f}x)')
    print(f'  {"page type":<14} {"small":>8} {"large":>8} {"ratio":>6}')
    for kind, (_, small_p95, _) in baseline.items():
        large_p95 = largest[kind][1]
        ratio = large_p95 / small_p95
        passed = ratio <= GROWTH_TARGET
        ok &= passed
        print(f'  {kind:<14} {small_p95:8.1f} {large_p95:8.1f} {ratio:5.2f}x '
              f'{"ok" if passed else "MISSED"}')
    return ok


def data_set_instance(backend: str, rows: int, args) -> tuple[Path, Path | None]:
    """(instance folder, temporary folder to remove or None). With ``--instance`` each data
    set keeps its own SQLite subfolder, so it is seeded once and reused by later runs."""
    if backend == 'sqlite' and args.instance:
        instance = Path(args.instance) / data_set_name(rows, args.shape, span_of(rows, args))
        instance.mkdir(parents=True, exist_ok=True)
        return instance, None
    temporary = Path(tempfile.mkdtemp(prefix='flowdesk-bench-browse-'))
    return temporary, temporary


def run_data_set(backend: str, rows: int, args) -> tuple[bool, dict]:
    """Seeds (or reuses) one data set and measures it: (targets met, {kind: (p50, p95,
    target)})."""
    instance, temporary = data_set_instance(backend, rows, args)
    try:
        days = span_of(rows, args)
        app = build_app(backend, instance, data_set_name(rows, args.shape, days))
        prepare_data(app, rows, args.reseed, args.shape, days)
        if args.seed_only:
            return True, {}
        cases = page_cases(app)
        results = measure_pages(app, cases, args.requests)
        with app.app_context():
            from app.extensions import db
            words = search_words(db.session)
            db.session.remove()
        results.append(measure_counts(app, words, args.requests))
        ok = print_results(results)
        ok &= print_export(app, args)
        ok &= measure_alert_rows(app, args)
        print(f'  peak RSS of the benchmark process: {peak_rss_mb():.0f} MB')
        return ok, {kind: (p50, p95, target) for kind, p50, p95, target in results}
    finally:
        if temporary is not None and not args.keep:
            shutil.rmtree(temporary, ignore_errors=True)


def print_results(results) -> bool:
    ok = True
    print(f'  {"page type":<14} {"p50 ms":>8} {"p95 ms":>8} {"target":>8}  p95/target')
    for kind, p50, p95, target in results:
        passed = p95 <= target
        ok &= passed
        print(f'  {kind:<14} {p50:8.1f} {p95:8.1f} {target:8.0f}  {p95 / target:5.2f} '
              f'{"ok" if passed else "MISSED"}')
    return ok


def print_export(app, args) -> bool:
    from datetime import datetime, timedelta
    now = datetime.now(UTC).replace(tzinfo=None)
    since = now - timedelta(days=args.export_days)
    export_url = f'/responses/export.csv?from={since:%Y-%m-%dT%H:%M:%S}Z'
    rows, seconds, growth, base = measure_export(app, export_url)
    ref_rows, ref_seconds = reference_read(app, since)
    rate = rows / seconds
    ref_rate = ref_rows / ref_seconds
    passed = rate >= EXPORT_TARGET_ROWS_PER_S
    print(f'  export CSV     {rows:,} rows in {seconds:.1f} s = {rate:,.0f} rows/s '
          f'(target {EXPORT_TARGET_ROWS_PER_S:,}: {rate / EXPORT_TARGET_ROWS_PER_S:.2f}x '
          f'{"ok" if passed else "MISSED"}); memory +{growth:.0f} MB over {base:.0f} MB '
          'during the export')
    print(f'  reference      bare DB-API read of the same rows: {ref_rate:,.0f} rows/s; '
          f'export/reference = {rate / ref_rate:.2f}')
    return passed


def measure_alert_rows(app, args) -> bool:
    """The ``alerts`` rows: evaluations of ``--alert-rules`` rules on this data, each step's
    median and p95 over ``--alert-runs`` runs against the 1 s target (scripts/bench_alerts.py)."""
    if not args.alert_rules:
        return True
    from bench_alerts import measure_alerts, print_alerts
    return print_alerts(measure_alerts(app, args.alert_rules, args.alert_runs), args.alert_rules)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--responses', '--rows', type=int, default=2_000_000)
    parser.add_argument('--shape', choices=['demo', 'realistic'], default='demo',
                        help='realistic: 500 flows over a year, 20 %% WARN/ERROR, mostly '
                             'distinct error reasons (a --instance built with another shape is '
                             'reseeded only with --reseed)')
    parser.add_argument('--baseline', type=int, default=None,
                        help='also measure this many responses first and print the ratio of '
                             'each p95 to it (default 2,000,000 when --responses is larger)')
    parser.add_argument('--baseline-days', type=int, default=None,
                        help='the baseline spans this many days instead of the shape\'s: 37 '
                             'gives 2M realistic responses the responses per day of 20M over '
                             'a year, so the ratios show growth with the table alone')
    parser.add_argument('--seed-only', action='store_true',
                        help='seed (or check) the data sets and measure nothing')
    parser.add_argument('--requests', type=int, default=60,
                        help='requests per page type (default 60)')
    parser.add_argument('--backend', choices=['sqlite', 'postgresql', 'both'], default=None,
                        help='default: sqlite, plus postgresql when BENCH_DATABASE_URL is set')
    parser.add_argument('--instance', help='SQLite instance folder to keep and reuse')
    parser.add_argument('--reseed', action='store_true', help='reseed even when data is there')
    parser.add_argument('--keep', action='store_true', help='keep the temporary folder')
    parser.add_argument('--export-days', type=int, default=30,
                        help='export the responses of the last N days (30 ≈ half the data)')
    parser.add_argument('--alert-rules', type=int, default=50,
                        help='alert rules evaluated for the alerts rows (0: skip them)')
    parser.add_argument('--alert-runs', type=int, default=5,
                        help='runs of each alert evaluation step (default 5)')
    args = parser.parse_args()
    if args.baseline is None and args.responses > 2_000_000:
        args.baseline = 2_000_000
    if args.baseline and args.baseline >= args.responses:
        parser.error('--baseline must be smaller than --responses')
    backends = {'sqlite': ['sqlite'], 'postgresql': ['postgresql'],
                'both': ['sqlite', 'postgresql']}.get(args.backend or '')
    if backends is None:
        backends = ['sqlite'] + (['postgresql'] if os.environ.get('BENCH_DATABASE_URL') else [])
    if 'postgresql' in backends and not (os.environ.get('BENCH_DATABASE_URL')
                                         and os.environ.get('BENCH_OPS_DATABASE_URL')):
        parser.error('PostgreSQL needs BENCH_DATABASE_URL and BENCH_OPS_DATABASE_URL')
    ok = all([run(backend, args) for backend in backends])
    print('\nall targets met' if ok else '\nsome targets missed (see MISSED above)')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
