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
3. runs ``--clients`` threads (http.client, keep-alive) for ``--seconds``: each picks a request
   type by weight (dashboard, filtered list, deep page by following "Next", text search, flows
   list, flow page, API lists, one flow, daily stats, CSV export), and one client also uploads a
   new responses file through /admin/loads (with its CSRF token) every ``--upload-every``
   seconds;
4. prints requests/s, p50/p95/p99 per type and overall, and every error; exits 1 when a
   request failed or the overall p95 is above ``--p95-target-ms`` (docs/architecture.md §10:
   200 ms).

Usage: .venv/bin/python scripts/load_test.py [--seconds 60] [--clients 16] [--threads 8]
       [--servers 1] [--responses 200000] [--database-url URL --ops-database-url URL]
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import logging
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN = 'CORP\\loadtest.admin'
VIEWERS = [f'CORP\\loadtest.viewer{n:02d}' for n in range(40)]
REQUEST_TIMEOUT = 60
UPLOAD_ROWS = 5_000
#: (request type, weight): roughly what a morning of employees does.
MIX = [
    ('dashboard', 12),
    ('responses list', 16),
    ('responses filtered', 16),
    ('responses deep page', 10),
    ('text search', 6),
    ('response detail', 6),
    ('flows list', 6),
    ('flow page', 10),
    ('api responses', 8),
    ('api flows', 3),
    ('api flow', 3),
    ('api daily stats', 3),
    ('csv export', 2),
]


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


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int
    error: str | None = None


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


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


def upload_file(flow_codes: list[str], number: int) -> bytes:
    """A responses file of new rows (ids no demo row uses), as an admin would upload it."""
    first = 50_000_000 + number * UPLOAD_ROWS
    now = datetime.utcnow().replace(microsecond=0)
    lines = ['response_id,flow_code,responded_at,status,result_code,duration_ms,error_reason,'
             'payload_bytes']
    rng = random.Random(number)
    for offset in range(UPLOAD_ROWS):
        status = rng.choice(('OK', 'OK', 'OK', 'WARN', 'ERROR'))
        reason = 'Upstream timed out after 30 s' if status == 'ERROR' else ''
        moment = now - timedelta(seconds=offset * 3)
        lines.append(f'{first + offset},{rng.choice(flow_codes)},{moment:%Y-%m-%d %H:%M:%S},'
                     f'{status},{500 if reason else 200},{rng.randint(5, 4000)},{reason},'
                     f'{rng.randint(100, 90000)}')
    return ('\r\n'.join(lines) + '\r\n').encode('utf-8')


# -- clients ---------------------------------------------------------------------------------
NEXT_LINK = re.compile(r'<a class="page-link" rel="next" href="([^"]+)"')
DETAIL_LINK = re.compile(r'href="(/responses/\d+)[^"]*"')
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Client:
    def __init__(self, port: int, results: Results, deadline: float, flow_codes: list[str],
                 seed: int):
        self.port = port
        self.results = results
        self.deadline = deadline
        self.flow_codes = flow_codes
        self.rng = random.Random(seed)
        self.connection = None
        self.cookie = None
        self.deep_link = None
        self.detail_links: list[str] = []

    # one HTTP exchange, timed; a failure is recorded, never raised
    def request(self, kind: str, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, expect=(200,)) -> tuple[int, bytes]:
        started = time.perf_counter()
        status, data, error = 0, b'', None
        headers = dict(headers or {})
        if self.cookie:
            headers['Cookie'] = self.cookie
        for attempt in (1, 2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection('127.0.0.1', self.port,
                                                                 timeout=REQUEST_TIMEOUT)
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                status = response.status
                cookie = response.getheader('Set-Cookie')
                if cookie:
                    self.cookie = cookie.split(';', 1)[0]
                if response.getheader('Connection', '').lower() == 'close':
                    self.connection.close()
                    self.connection = None
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                # A kept-alive connection the server closed between requests: reconnect once.
                self.connection = None
                if attempt == 2:
                    error = f'{type(exc).__name__}: {exc}'
            except Exception as exc:  # timeouts and the like: recorded as errors
                self.connection = None
                error = f'{type(exc).__name__}: {exc}'
                break
        if error is None and status not in expect:
            error = f'HTTP {status} for {method} {path[:120]}: {data[:200]!r}'
        self.results.add(Sample(kind, time.perf_counter() - started, status, error))
        return status, data

    def pick(self) -> str:
        kinds, weights = zip(*MIX, strict=True)
        return self.rng.choices(kinds, weights)[0]

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            getattr(self, 'do_' + self.pick().replace(' ', '_'))()

    # request types
    def do_dashboard(self):
        self.request('dashboard', 'GET', '/')

    def do_responses_list(self):
        _, data = self.request('responses list', 'GET', '/responses')
        self.remember_details(data)

    def filter_args(self) -> dict:
        args = {'range': self.rng.choice(['24h', '7d', '30d'])}
        if self.rng.random() < 0.6:
            args['status'] = self.rng.choice(['ERROR', 'WARN', 'OK', 'ERROR,WARN'])
        if self.rng.random() < 0.6:
            args['flow'] = self.rng.choice(self.flow_codes)
        if self.rng.random() < 0.2:
            args['sort'] = self.rng.choice(['slowest', 'oldest'])
        return args

    def do_responses_filtered(self):
        _, data = self.request('responses filtered', 'GET',
                               '/responses?' + urlencode(self.filter_args()))
        self.remember_details(data)

    def do_responses_deep_page(self):
        if self.deep_link is None or self.rng.random() < 0.05:
            self.deep_link = '/responses'
        _, data = self.request('responses deep page', 'GET', self.deep_link)
        found = NEXT_LINK.search(data.decode('utf-8', 'replace'))
        self.deep_link = unescape(found.group(1)) if found else None

    def do_text_search(self):
        word = self.rng.choice(['timeout', 'refused', 'certificate', 'deadlock', 'quota'])
        self.request('text search', 'GET', '/responses?' + urlencode({'q': word}))

    def do_response_detail(self):
        if not self.detail_links:
            return self.do_responses_list()
        self.request('response detail', 'GET', self.rng.choice(self.detail_links))

    def remember_details(self, data: bytes) -> None:
        links = DETAIL_LINK.findall(data.decode('utf-8', 'replace'))
        if links:
            self.detail_links = links[:50]

    def do_flows_list(self):
        args = self.rng.choice([{}, {'type': 'API'}, {'q': 'sap'}, {'type': 'FILE'}])
        self.request('flows list', 'GET', '/flows' + ('?' + urlencode(args) if args else ''))

    def do_flow_page(self):
        self.request('flow page', 'GET', f'/flows/{self.rng.choice(self.flow_codes)}')

    def do_api_responses(self):
        args = self.filter_args()
        args['size'] = 100
        self.request('api responses', 'GET', '/api/v1/responses?' + urlencode(args))

    def do_api_flows(self):
        self.request('api flows', 'GET', '/api/v1/flows')

    def do_api_flow(self):
        self.request('api flow', 'GET', f'/api/v1/flows/{self.rng.choice(self.flow_codes)}')

    def do_api_daily_stats(self):
        first = (datetime.utcnow() - timedelta(days=self.rng.choice([30, 90]))).date()
        args = {'from': first.isoformat()}
        if self.rng.random() < 0.5:
            args['flow'] = self.rng.choice(self.flow_codes)
        self.request('api daily stats', 'GET', '/api/v1/stats/daily?' + urlencode(args))

    def do_csv_export(self):
        args = {'range': '24h', 'flow': self.rng.choice(self.flow_codes)}
        self.request('csv export', 'GET', '/responses/export.csv?' + urlencode(args))


class Uploader(Client):
    """The admin among the clients: uploads a new file every ``every`` seconds, reading pages
    in between like the others."""

    def __init__(self, *args, every: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.every = every
        self.uploads = 0

    def run(self) -> None:
        next_upload = time.monotonic() + min(5.0, self.every)
        while time.monotonic() < self.deadline:
            if time.monotonic() >= next_upload:
                self.upload()
                next_upload = time.monotonic() + self.every
            else:
                getattr(self, 'do_' + self.pick().replace(' ', '_'))()

    def upload(self) -> None:
        status, page = self.request('upload form', 'GET', '/admin/loads')
        token = CSRF_FIELD.search(page.decode('utf-8', 'replace'))
        if status != 200 or token is None:
            return
        boundary = f'----flowdesk-load-test-{self.uploads}'
        fields = {'csrf_token': token.group(1), 'dataset': 'responses', 'mode': 'append',
                  'encoding': 'auto'}
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                 f'{value}\r\n'.encode() for name, value in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="responses-{self.uploads}.csv"\r\nContent-Type: text/csv\r\n\r\n'
                     .encode() + upload_file(self.flow_codes, self.uploads) + b'\r\n')
        parts.append(f'--{boundary}--\r\n'.encode())
        status, data = self.request(
            'upload + load', 'POST', '/admin/loads', body=b''.join(parts),
            headers={'Content-Type': f'multipart/form-data; boundary={boundary}'},
            expect=(302, 303))
        if status in (302, 303):
            text = data.decode('utf-8', 'replace')
            location = re.search(r'href="([^"]+)"', text)
            if location:
                _, batch_page = self.request('batch page', 'GET', unescape(location.group(1)))
                if f'{UPLOAD_ROWS:,} records loaded' not in batch_page.decode('utf-8', 'replace'):
                    self.results.add(Sample('upload + load', 0.0, status,
                                            f'upload {self.uploads} did not load its rows'))
        self.uploads += 1


# -- report ----------------------------------------------------------------------------------
def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float('nan')
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


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


def main(argv: list[str]) -> int:
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
    if args.serve:
        return serve(args)
    if bool(args.database_url) != bool(args.ops_database_url):
        parser.error('give both --database-url and --ops-database-url, or neither')

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

        warm_results = Results()
        for port in ports:
            warm = Client(port, warm_results, time.monotonic() + 3600, flow_codes, seed=0)
            for name, _weight in MIX:  # one of each, so first-use costs are not measured
                getattr(warm, 'do_' + name.replace(' ', '_'))()
        warm_errors = [s.error for s in warm_results.samples if s.error]
        if warm_errors:
            print('Warm-up failed:\n  ' + '\n  '.join(warm_errors[:10]))
            return 1

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
        elapsed = time.monotonic() - started
        print(f'uploads through /admin/loads: {clients[0].uploads} of {UPLOAD_ROWS:,} rows each')
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
