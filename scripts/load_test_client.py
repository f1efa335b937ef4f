"""The clients of scripts/load_test.py: each a thread with a keep-alive HTTP connection to one
server, picking request types by weight (MIX) until the deadline and recording every request's
time, status and error in a shared Results; the Uploader also uploads a new responses file
through /admin/loads (with its CSRF token) every so many seconds.
"""
from __future__ import annotations

import http.client
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import urlencode

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
