"""Load test: Flowdesk served by waitress with N threads (as it runs on Windows without IIS),
driven by concurrent clients on loopback for a fixed time, mixing every kind of page, the API,
CSV exports and uploads through the admin page.

What it does:
1. builds a fresh database (SQLite in a temporary folder by default, or the PostgreSQL URLs
   given) with `flask db upgrade` and the demo data (``--responses`` rows);
2. serves the app with waitress on 127.0.0.1 and a free port, in a process of its own (so the
   clients do not share its interpreter). Identity comes the way IIS gives it, as
   ``REMOTE_USER`` in the WSGI environ, put there by a test-only WSGI wrapper (admin pages as an
   admin, everything else as one of many viewers) — never from an HTTP header;
3. runs ``--clients`` threads (scripts/load_test_client.py: http.client, keep-alive) for
   ``--seconds``: each picks a request type by weight (dashboard, filtered list, deep page by
   following "Next", text search, flows list, flow page, API lists, one flow, daily stats, CSV
   export), and one client also uploads a new responses file through /admin/loads (with its
   CSRF token) every ``--upload-every`` seconds;
4. prints requests/s, p50/p95/p99 per type and overall, and every error; exits 1 when a
   request failed or the overall p95 is above ``--p95-target-ms`` (docs/architecture.md §10:
   200 ms).

Usage: .venv/bin/python scripts/load_test.py [--seconds 60] [--clients 16] [--threads 8]
       [--servers 1] [--responses 200000] [--database-url URL --ops-database-url URL]
"""
from __future__ import annotations

import argparse
import itertools
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_common import percentile  # noqa: E402 (scripts/ is on the path)
from load_test_client import MIX, REQUEST_TIMEOUT, UPLOAD_ROWS, Client, Results, Uploader  # noqa: E402

ADMIN = 'CORP\\loadtest.admin'
VIEWERS = [f'CORP\\loadtest.viewer{n:02d}' for n in range(40)]


class RemoteUserMiddleware:
    """Test-only stand-in for IIS Windows Authentication: sets REMOTE_USER in the environ."""

    def __init__(self, app):
        self.app = app
        self.viewers = itertools.cycle(VIEWERS)
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '').startswith('/admin'):
            environ['REMOTE_USER'] = ADMIN
        else:
            with self.lock:
                environ['REMOTE_USER'] = next(self.viewers)
        return self.app(environ, start_response)


# -- setup -----------------------------------------------------------------------------------
def serve(args) -> int:
    """The server process: waitress on a free loopback port, printed as the first line."""
    from waitress import create_server
    logging.getLogger('waitress.queue').setLevel(logging.ERROR)  # queueing shows in the timings
    app = build_app(args, Path(args.folder))
    server = create_server(RemoteUserMiddleware(app), host='127.0.0.1', port=0,
                           threads=args.threads, channel_timeout=REQUEST_TIMEOUT,
                           ident='flowdesk-load-test')
    print(server.effective_port, flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return 0


def start_server(args, folder: Path) -> tuple[subprocess.Popen, int]:
    command = [sys.executable, str(Path(__file__).resolve()), '--serve', '--folder', str(folder),
               '--threads', str(args.threads)]
    if args.database_url:
        command += ['--database-url', args.database_url, '--ops-database-url',
                    args.ops_database_url]
        if args.app_schema:
            command += ['--app-schema', args.app_schema]
        if args.ops_schema:
            command += ['--ops-schema', args.ops_schema]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    if not line.isdigit():
        process.kill()
        raise SystemExit(f'The server did not start (said {line!r}).')
    return process, int(line)


def build_app(args, folder: Path):
    settings = {
        'FLOWDESK_INSTANCE_PATH': str(folder),
        'SECRET_KEY': 'load-test-secret-key-0123456789',
        'FLOWDESK_ADMINS': ADMIN,
        'LOG_LEVEL': 'WARNING',
        'LOG_FILE': str(folder / 'flowdesk.log'),
        'UPLOAD_FOLDER': str(folder / 'uploads'),
    }
    if args.database_url:
        settings.update(DATABASE_URL=args.database_url, OPS_DATABASE_URL=args.ops_database_url,
                        APP_SCHEMA=args.app_schema or '', OPS_SCHEMA=args.ops_schema or '')
    from app import create_app
    return create_app('uat', environ=settings)


def prepare_database(app, responses: int) -> list[str]:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models import Flow
    from app.seeding import seed_demo
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        summary = seed_demo(responses=responses, force=True)
        print(f'Seeded {summary.responses:,} responses and {summary.flows} flows in '
              f'{time.perf_counter() - started:.1f} s', flush=True)
        codes = list(db.session.execute(db.select(Flow.flow_code)).scalars())
        db.session.remove()
    return codes


def _engines(app):
    from app.extensions import db
    with app.app_context():
        return list(db.engines.values())


# -- report and run --------------------------------------------------------------------------
def report(results: Results, seconds: float, target_ms: float) -> bool:
    by_kind = defaultdict(list)
    for sample in results.samples:
        by_kind[sample.kind].append(sample)
    by_kind['ALL'] = list(results.samples)
    print(f'\n{"type":<22}{"requests":>9}{"req/s":>8}{"p50 ms":>9}{"p95 ms":>9}{"p99 ms":>9}'
          f'{"max ms":>9}{"errors":>8}')
    for kind in sorted(by_kind, key=lambda k: (k == 'ALL', k)):
        samples = by_kind[kind]
        times = sorted(s.seconds * 1000 for s in samples if s.seconds)
        errors = sum(1 for s in samples if s.error)
        print(f'{kind:<22}{len(samples):>9,}{len(samples) / seconds:>8.1f}'
              f'{percentile(times, .50):>9.1f}{percentile(times, .95):>9.1f}'
              f'{percentile(times, .99):>9.1f}{(max(times) if times else 0):>9.1f}{errors:>8}')
    errors = [s for s in results.samples if s.error]
    for sample in errors[:20]:
        print(f'ERROR {sample.kind}: {sample.error}')
    if len(errors) > 20:
        print(f'... {len(errors) - 20} more errors')
    overall = sorted(s.seconds * 1000 for s in results.samples if s.seconds)
    p95 = percentile(overall, .95)
    ok = not errors and p95 <= target_ms
    print(f'\n{len(results.samples):,} requests in {seconds:.1f} s = '
          f'{len(results.samples) / seconds:.1f} requests/s; {len(errors)} errors; overall p95 '
          f'{p95:.1f} ms (target: 0 errors, p95 <= {target_ms:.0f} ms): '
          f'{"MET" if ok else "MISSED"}')
    return ok


def parse_args(argv: list[str]):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=60)
    parser.add_argument('--clients', type=int, default=16)
    parser.add_argument('--threads', type=int, default=4, help='waitress worker threads per process')
    parser.add_argument('--servers', type=int, default=2,
                        help='waitress processes, each on its own port, clients spread over '
                             'them (IIS runs several wfastcgi processes per site)')
    parser.add_argument('--responses', type=int, default=200_000, help='demo responses to seed')
    parser.add_argument('--upload-every', type=float, default=20.0,
                        help='seconds between uploads by the admin client')
    parser.add_argument('--p95-target-ms', type=float, default=200.0)
    parser.add_argument('--database-url', help='app database (default: SQLite in a temp folder)')
    parser.add_argument('--ops-database-url', help='ops database (with --database-url)')
    parser.add_argument('--app-schema')
    parser.add_argument('--ops-schema')
    parser.add_argument('--keep', action='store_true', help='keep the temporary folder')
    parser.add_argument('--serve', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--folder', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.serve and bool(args.database_url) != bool(args.ops_database_url):
        parser.error('give both --database-url and --ops-database-url, or neither')
    return args


def warm_up(ports: list[int], flow_codes: list[str]) -> list[str]:
    """One request of each type on every server, so first-use costs are not measured; the
    errors."""
    warm_results = Results()
    for port in ports:
        warm = Client(port, warm_results, time.monotonic() + 3600, flow_codes, seed=0)
        for name, _weight in MIX:
            getattr(warm, 'do_' + name.replace(' ', '_'))()
    return [s.error for s in warm_results.samples if s.error]


def run_clients(args, ports: list[int], flow_codes: list[str]) -> tuple[Results, float, int]:
    """``--clients`` clients spread over the servers for ``--seconds``, the first of them the
    uploader: (their results, the seconds they ran, the uploads done)."""
    results = Results()
    deadline = time.monotonic() + args.seconds
    clients = [Uploader(ports[0], results, deadline, flow_codes, seed=1,
                        every=args.upload_every)]
    clients += [Client(ports[n % len(ports)], results, deadline, flow_codes, seed=n)
                for n in range(2, args.clients + 1)]
    threads = [threading.Thread(target=client.run, name=f'client-{n}')
               for n, client in enumerate(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.seconds + REQUEST_TIMEOUT + 30)
    return results, time.monotonic() - started, clients[0].uploads


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.serve:
        return serve(args)

    folder = Path(tempfile.mkdtemp(prefix='flowdesk-load-test-'))
    servers = []
    try:
        app = build_app(args, folder)
        flow_codes = prepare_database(app, args.responses)
        for engine in _engines(app):
            engine.dispose()
        ports = []
        for _ in range(args.servers):
            server, port = start_server(args, folder)
            servers.append(server)
            ports.append(port)
        print(f'waitress on 127.0.0.1:{",".join(map(str, ports))} '
              f'({args.servers} process{"es" if args.servers > 1 else ""} of {args.threads} '
              f'threads); {args.clients} clients '
              f'for {args.seconds:.0f} s ({"PostgreSQL" if args.database_url else "SQLite"}, '
              f'{args.responses:,} demo responses)', flush=True)
        warm_errors = warm_up(ports, flow_codes)
        if warm_errors:
            print('Warm-up failed:\n  ' + '\n  '.join(warm_errors[:10]))
            return 1
        results, elapsed, uploads = run_clients(args, ports, flow_codes)
        print(f'uploads through /admin/loads: {uploads} of {UPLOAD_ROWS:,} rows each')
        ok = report(results, elapsed, args.p95_target_ms)
        return 0 if ok else 1
    finally:
        for server in servers:
            server.terminate()
            server.wait(30)
        if args.keep:
            print(f'Kept {folder}')
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
