"""The dataset lock survives server timeouts for idle sessions (PostgreSQL tier).

A load holds its dataset's lock on its own connection for the whole load. That connection sits
idle while the load works on another one, so a server that ends idle transactions
(``idle_in_transaction_session_timeout``) or idle sessions (``idle_session_timeout``) must not
be able to take the lock away half-way through a load.
"""
from __future__ import annotations

import time
import unittest

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.loading.locks import DatasetLock, advisory_key
from tests.base import ADMIN, TestDatabases

#: The server's idle timeouts for every session of the test app's ops engine.
IDLE_TIMEOUT_MS = 1000
POLL_LIMIT_SECONDS = 15


def with_idle_timeouts(url: str) -> str:
    options = (f'-c idle_in_transaction_session_timeout={IDLE_TIMEOUT_MS} '
               f'-c idle_session_timeout={IDLE_TIMEOUT_MS}')
    return make_url(url).update_query_dict({'options': options}).render_as_string(
        hide_password=False)


class LockUnderIdleTimeoutsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.databases = TestDatabases('postgresql')  # skips without the PostgreSQL tier
        settings = dict(cls.databases.settings, FLOWDESK_ADMINS=ADMIN, LOG_LEVEL='CRITICAL')
        settings['OPS_DATABASE_URL'] = with_idle_timeouts(settings['OPS_DATABASE_URL'])
        cls.app = create_app('testing', environ=settings)
        cls.context = cls.app.app_context()
        cls.context.push()
        cls.engine = db.engines['ops']

    @classmethod
    def tearDownClass(cls):
        for engine in db.engines.values():
            engine.dispose()
        cls.context.pop()
        cls.databases.cleanup()
        super().tearDownClass()

    def backend(self, pid: int):
        """(state, holds the responses lock) of a server process, None when it has ended."""
        key = advisory_key('responses')
        with self.engine.connect() as connection:
            state = connection.scalar(text('SELECT state FROM pg_stat_activity WHERE pid = :pid'),
                                      {'pid': pid})
            held = connection.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = :pid AND classid = :high AND objid = :low"),
                {'pid': pid, 'high': (key >> 32) & 0xFFFFFFFF, 'low': key & 0xFFFFFFFF})
        return None if state is None else (state, held == 1)

    def wait_until_ended(self, pid: int) -> float:
        """Poll (bounded) until the server has ended a process; the seconds it took."""
        started = time.monotonic()
        while self.backend(pid) is not None:
            self.assertLess(time.monotonic() - started, POLL_LIMIT_SECONDS,
                            f'the server never ended process {pid}')
            time.sleep(0.05)
        return time.monotonic() - started

    def idle_control(self, in_transaction: bool) -> int:
        """A plain connection left idle (in a transaction or not): the timeouts end it."""
        connection = self.engine.connect()
        if in_transaction:
            connection.begin()
        pid = connection.scalar(text('SELECT pg_backend_pid()'))
        if not in_transaction:
            connection.commit()
        self.addCleanup(connection.invalidate)
        return pid

    def test_the_timeouts_are_in_force(self):
        with self.engine.connect() as connection:
            self.assertEqual(connection.scalar(text('SHOW idle_in_transaction_session_timeout')),
                             '1s')

    def test_a_lock_held_past_the_idle_timeouts_is_still_held(self):
        lock = DatasetLock('responses', wait_seconds=0)
        self.assertTrue(lock.acquire())
        try:
            pid = lock._connection.scalar(text('SELECT pg_backend_pid()'))
            controls = [self.idle_control(True), self.idle_control(False)]
            # Both kinds of idle connection are ended by the server...
            for control in controls:
                self.wait_until_ended(control)
            # ...but the lock connection, idle all along, is still there and holds the lock.
            self.assertEqual(self.backend(pid), ('idle', True))
            self.assertFalse(DatasetLock('responses', wait_seconds=0.05).acquire(),
                             'a second load was given the lock of a running one')
        finally:
            lock.release()
        self.assertEqual(self.backend(pid), ('idle', False))
        again = DatasetLock('responses', wait_seconds=0)
        self.assertTrue(again.acquire(), 'the lock was not released')
        again.release()

    def test_a_second_acquirer_waits_then_is_refused(self):
        lock = DatasetLock('responses', wait_seconds=0)
        self.assertTrue(lock.acquire())
        other_dataset = DatasetLock('flows', wait_seconds=0)
        try:
            started = time.monotonic()
            self.assertFalse(DatasetLock('responses', wait_seconds=0.3).acquire())
            self.assertGreaterEqual(time.monotonic() - started, 0.3)
            self.assertTrue(other_dataset.acquire(), 'datasets are locked one by one')
        finally:
            other_dataset.release()
            lock.release()

    def test_the_pooled_connection_comes_back_with_default_settings(self):
        self.engine.dispose()  # an empty pool: the next checkout reuses the lock's connection
        lock = DatasetLock('responses', wait_seconds=0.25)
        self.assertTrue(lock.acquire())
        pid = lock._connection.scalar(text('SELECT pg_backend_pid()'))
        self.assertEqual(lock._connection.scalar(text('SHOW lock_timeout')), '250ms')
        self.assertEqual(lock._connection.scalar(text('SHOW idle_session_timeout')), '0')
        lock.release()
        with self.engine.connect() as connection:
            self.assertEqual(connection.scalar(text('SELECT pg_backend_pid()')), pid)
            self.assertEqual(connection.scalar(text('SHOW lock_timeout')), '0')
            self.assertEqual(connection.scalar(text('SHOW idle_session_timeout')), '1s')
            self.assertEqual(connection.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                'AND pid = pg_backend_pid()')), 0)

if __name__ == '__main__':
    unittest.main()
