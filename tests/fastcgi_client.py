"""Drive the installed wfastcgi.py the way IIS does, on Linux, for the hosting tests.

IIS starts ``python.exe wfastcgi.py`` with a duplex named pipe as its standard input and speaks
FastCGI records over it, one request at a time. Here one end of a ``socket.socketpair()`` plays
that pipe (a pipe pair cannot: wfastcgi writes its replies to the same handle it reads from).

wfastcgi imports ``ctypes.windll`` for its file watcher at import time; the bootstrap below puts
a stand-in there first whose functions raise OSError, so the import succeeds and any Windows call
would fail loudly. With ``WSGI_RESTART_FILE_REGEX`` empty the watcher never starts, and nothing
on the request path touches Windows.
"""
from __future__ import annotations

import importlib.util
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

FCGI_VERSION_1 = 1
FCGI_BEGIN_REQUEST = 1
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_STDERR = 7
FCGI_RESPONDER = 1
FCGI_KEEP_CONN = 1
MAX_RECORD_CONTENT = 0xFFFF

#: Runs wfastcgi.main() as IIS would run the script, after stubbing the Windows-only ctypes API.
BOOTSTRAP = r'''
import ctypes, runpy, sys

class WindowsFunction:
    """A kernel32 function on a host that has none: any call fails."""
    def __init__(self, name):
        self.name = name
    def __call__(self, *args):
        raise OSError(f'{self.name} is a Windows API; this host is not Windows')

class WindowsLibrary:
    def __getattr__(self, name):
        value = WindowsFunction(name) if name[:1].isupper() else WindowsLibrary()
        setattr(self, name, value)
        return value

ctypes.windll = WindowsLibrary()
script = sys.argv[1]
sys.argv = [script]
runpy.run_path(script, run_name='__main__')
'''

#: What IIS does with text a FastCGI process writes to STDERR (the FastCGI application's
#: ``stderrMode``). IIS's default returns that text, tracebacks included, as the 500 page;
#: scripts/iis/Install-Flowdesk.ps1 sets ReturnGeneric500.
STDERR_MODES = ('ReturnStdErrIn500', 'ReturnGeneric500')
IIS_GENERIC_500 = (b'<html><body><h1>500 - Internal server error.</h1>'
                   b'<p>There is a problem with the resource you are looking for.</p></body></html>')


def installed_wfastcgi() -> Path:
    """The wfastcgi.py that pip installed (the file IIS's scriptProcessor names)."""
    spec = importlib.util.find_spec('wfastcgi')
    if spec is None or not spec.origin:
        raise RuntimeError('wfastcgi is not installed: pip install -r requirements.txt')
    return Path(spec.origin)


def encode_length(length: int) -> bytes:
    return struct.pack('>B', length) if length < 0x80 else struct.pack('>I', length | 0x80000000)


def encode_params(params: dict[str, str]) -> bytes:
    """FastCGI name-value pairs; IIS sends server variables as Latin-1 bytes."""
    parts = []
    for name, value in params.items():
        name_bytes, value_bytes = name.encode('latin-1'), value.encode('latin-1')
        parts += [encode_length(len(name_bytes)), encode_length(len(value_bytes)),
                  name_bytes, value_bytes]
    return b''.join(parts)


def record(record_type: int, request_id: int, content: bytes = b'') -> bytes:
    padding = -len(content) % 8
    return struct.pack('>BBHHBB', FCGI_VERSION_1, record_type, request_id, len(content),
                       padding, 0) + content + b'\0' * padding


def stream_records(record_type: int, request_id: int, data: bytes) -> bytes:
    """A FastCGI stream: the data in records of at most 65,535 bytes, then an empty record."""
    chunks = [data[i:i + MAX_RECORD_CONTENT] for i in range(0, len(data), MAX_RECORD_CONTENT)]
    return b''.join(record(record_type, request_id, chunk) for chunk in chunks) + \
        record(record_type, request_id)


@dataclass
class FastCgiResponse:
    """What wfastcgi sent back for one request: the CGI response on STDOUT, text on STDERR."""
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stderr: bytes
    app_status: int

    @property
    def text(self) -> str:
        return self.body.decode('utf-8', errors='replace')

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def as_iis_sends_it(self, stderr_mode: str) -> tuple[int, bytes]:
        """(status, body) as the browser gets them from IIS with this FastCGI ``stderrMode``."""
        if stderr_mode not in STDERR_MODES:
            raise ValueError(f'stderr_mode must be one of {STDERR_MODES}')
        if not self.stderr:
            return self.status, self.body
        if stderr_mode == 'ReturnStdErrIn500':
            return 500, self.stderr
        return 500, IIS_GENERIC_500


def parse_cgi_response(stdout: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    head, separator, body = stdout.partition(b'\r\n\r\n')
    if not separator:  # wfastcgi sends a bare status line when the app never started
        head, body = stdout, b''
    headers = []
    for line in head.decode('latin-1').split('\r\n'):
        if line:
            name, _, value = line.partition(':')
            headers.append((name.strip(), value.strip()))
    status_line = next((value for name, value in headers if name.lower() == 'status'), '200 OK')
    return int(status_line.split()[0]), [h for h in headers if h[0].lower() != 'status'], body


@dataclass
class IisSite:
    """What IIS tells the FastCGI process about the site and the signed-in user."""
    app_folder: Path
    server_name: str = 'flowdesk.corp.example'
    client_address: str = '10.20.30.40'
    https: bool = True

    def params(self, method: str, path: str, query: str, remote_user: str | None,
               headers: dict[str, str], body: bytes) -> dict[str, str]:
        """Server variables as IIS sends them: the full URL path in PATH_INFO (and SCRIPT_NAME),
        the Windows user in REMOTE_USER/LOGON_USER with AUTH_TYPE, request headers as HTTP_*."""
        authenticated = bool(remote_user)
        params = {
            'SERVER_SOFTWARE': 'Microsoft-IIS/10.0',
            'GATEWAY_INTERFACE': 'CGI/1.1',
            'SERVER_PROTOCOL': 'HTTP/1.1',
            'REQUEST_METHOD': method,
            'PATH_INFO': path,
            'SCRIPT_NAME': path,
            'URL': path,
            'QUERY_STRING': query,
            'PATH_TRANSLATED': str(self.app_folder) + path.replace('/', os.sep),
            'SERVER_NAME': self.server_name,
            'SERVER_PORT': '443' if self.https else '80',
            'SERVER_PORT_SECURE': '1' if self.https else '0',
            'HTTPS': 'on' if self.https else 'off',
            'REMOTE_ADDR': self.client_address,
            'REMOTE_HOST': self.client_address,
            'REMOTE_PORT': '50123',
            'AUTH_TYPE': 'Negotiate' if authenticated else '',
            'REMOTE_USER': remote_user or '',
            'LOGON_USER': remote_user or '',
            'APPL_PHYSICAL_PATH': str(self.app_folder) + os.sep,
            'APPL_MD_PATH': '/LM/W3SVC/1/ROOT',
            'INSTANCE_ID': '1',
            'CONTENT_LENGTH': str(len(body)),
        }
        all_headers = {'Host': self.server_name, 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0)',
                       'Accept': 'text/html,application/xhtml+xml', 'Connection': 'keep-alive',
                       **headers}
        for name, value in all_headers.items():
            if name.lower() == 'content-type':
                params['CONTENT_TYPE'] = value
            else:
                params['HTTP_' + name.upper().replace('-', '_')] = value
        return params


class WfastcgiProcess:
    """One wfastcgi.py worker, as IIS runs it: serves requests one after another until its
    standard input closes."""

    def __init__(self, site: IisSite, environ: dict[str, str], timeout: float = 60.0):
        self.site = site
        self.timeout = timeout
        self.stderr_file = tempfile.TemporaryFile()
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, '-c', BOOTSTRAP, str(installed_wfastcgi())],
            stdin=theirs.fileno(), stdout=subprocess.DEVNULL, stderr=self.stderr_file,
            env=environ, cwd=str(site.app_folder), close_fds=True)
        theirs.close()
        ours.settimeout(timeout)
        self.socket = ours
        self.next_request_id = 1

    # -- one request -------------------------------------------------------------------------
    def request(self, method: str, url: str, *, remote_user: str | None = None,
                headers: dict[str, str] | None = None, body: bytes = b'') -> FastCgiResponse:
        parts = urlsplit(url)
        request_id = self.next_request_id
        self.next_request_id = self.next_request_id % 0xFFFF + 1
        params = self.site.params(method, parts.path, parts.query, remote_user, headers or {},
                                  body)
        begin = struct.pack('>HB5x', FCGI_RESPONDER, FCGI_KEEP_CONN)
        self.socket.sendall(record(FCGI_BEGIN_REQUEST, request_id, begin)
                            + stream_records(FCGI_PARAMS, request_id, encode_params(params))
                            + stream_records(FCGI_STDIN, request_id, body))
        return self._read_response(request_id)

    def _read_exact(self, size: int) -> bytes:
        data = b''
        while len(data) < size:
            try:
                chunk = self.socket.recv(size - len(data))
            except TimeoutError:
                raise AssertionError(f'wfastcgi did not answer within {self.timeout} s; its '
                                     f'stderr: {self.process_stderr()}') from None
            if not chunk:
                raise ConnectionError('wfastcgi closed the connection; its stderr: '
                                      + self.process_stderr())
            data += chunk
        return data

    def _read_response(self, request_id: int) -> FastCgiResponse:
        stdout, stderr = [], []
        while True:
            _version, record_type, rid, length, padding, _ = struct.unpack(
                '>BBHHBB', self._read_exact(8))
            content = self._read_exact(length)
            self._read_exact(padding)
            if rid != request_id:
                raise AssertionError(f'record for request {rid} while waiting for {request_id}')
            if record_type == FCGI_STDOUT:
                stdout.append(content)
            elif record_type == FCGI_STDERR:
                stderr.append(content)
            elif record_type == FCGI_END_REQUEST:
                app_status = struct.unpack('>IB3x', content)[0]
                status, headers, body = parse_cgi_response(b''.join(stdout))
                return FastCgiResponse(status, headers, body, b''.join(stderr), app_status)

    # -- lifetime ----------------------------------------------------------------------------
    def process_stderr(self) -> str:
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode('utf-8', errors='replace')[-4000:]

    def wait_for_exit(self, timeout: float = 10.0) -> int:
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        """Close the pipe as IIS does when it recycles the worker: wfastcgi exits at end of input."""
        try:
            self.socket.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        finally:
            self.stderr_file.close()


@dataclass
class Browser:
    """A user's browser talking to the IIS site: keeps cookies, sends Referer on forms (Flask-WTF
    checks it on HTTPS) and signs in as one Windows user."""
    worker: WfastcgiProcess
    remote_user: str | None
    cookies: dict[str, str] = field(default_factory=dict)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.cookies:
            headers['Cookie'] = '; '.join(f'{k}={v}' for k, v in self.cookies.items())
        return headers

    def _keep_cookies(self, response: FastCgiResponse) -> FastCgiResponse:
        for value in response.header_values('Set-Cookie'):
            cookie = SimpleCookie()
            cookie.load(value)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response

    def get(self, url: str, headers: dict[str, str] | None = None) -> FastCgiResponse:
        return self._keep_cookies(self.worker.request('GET', url, remote_user=self.remote_user,
                                                      headers=self._headers(headers)))

    def post_form(self, url: str, fields: dict[str, str], referer: str | None = None,
                  headers: dict[str, str] | None = None) -> FastCgiResponse:
        body = urlencode(fields).encode('ascii')
        extra = {'Content-Type': 'application/x-www-form-urlencoded',
                 'Referer': referer or self.site_url(url), **(headers or {})}
        return self._keep_cookies(self.worker.request('POST', url, remote_user=self.remote_user,
                                                      headers=self._headers(extra), body=body))

    def post_multipart(self, url: str, fields: dict[str, str],
                       files: dict[str, tuple[str, bytes, str]], referer: str | None = None
                       ) -> FastCgiResponse:
        body, content_type = multipart_body(fields, files)
        extra = {'Content-Type': content_type, 'Referer': referer or self.site_url(url)}
        return self._keep_cookies(self.worker.request('POST', url, remote_user=self.remote_user,
                                                      headers=self._headers(extra), body=body))

    def site_url(self, path: str) -> str:
        scheme = 'https' if self.worker.site.https else 'http'
        return f'{scheme}://{self.worker.site.server_name}{path}'


def multipart_body(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
                   ) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser builds it: (body, Content-Type header)."""
    boundary = '----FlowdeskTestBoundary7MA4YWxkTrZu0gW'
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     .encode() + value.encode('utf-8') + b'\r\n')
    for name, (filename, content, mimetype) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {mimetype}\r\n\r\n'.encode()
                     + content + b'\r\n')
    parts.append(f'--{boundary}--\r\n'.encode('ascii'))
    return b''.join(parts), f'multipart/form-data; boundary={boundary}'


CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    if match is None:
        raise AssertionError('the page has no CSRF token field: ' + html[:500])
    return match.group(1)
