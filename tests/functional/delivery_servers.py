"""Real servers on 127.0.0.1 for the alert delivery tests: an aiosmtpd SMTP server that keeps
what it receives, and an http.server for webhooks with an endpoint that answers 200, one that
answers 500 and one that hangs until the test ends."""
from __future__ import annotations

import email
import json
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class MailCollector:
    """aiosmtpd handler: every message received, parsed."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return '250 Message accepted'

    def take(self):
        with self.lock:
            taken, self.messages = self.messages, []
        return taken


class SmtpServer:
    def __init__(self):
        self.collector = MailCollector()
        self.port = free_port()
        self.controller = Controller(self.collector, hostname='127.0.0.1', port=self.port)

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()


class WebhookServer:
    """/ok answers 200, /fail answers 500, /hang answers nothing until ``stop``."""

    def __init__(self):
        self.received = []
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                owner.received.append((self.path, json.loads(body)))
                if self.path == '/hang':
                    owner.release.wait(30)
                    return
                self.send_response(500 if self.path == '/fail' else 200)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
