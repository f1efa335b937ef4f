"""Two ``flask jobs run`` processes started at the same moment against one inbox holding 20
files load each file exactly once (checked by counts and checksums), on SQLite and
PostgreSQL."""
from __future__ import annotations

import hashlib
from pathlib import Path

from app.extensions import db
from app.loading.storage import file_sha256
from app.models import LoadBatch, Response
from tests.base import FlowdeskTestCase, on_every_backend
from tests.functional.jobs_support import (
    SubprocessMixin,
    add_flows,
    add_inbox,
    write_responses,
)

FILES = 20
ROWS_PER_FILE = 250


@on_every_backend
class TwoSchedulersOneInboxTests(SubprocessMixin, FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        add_flows()
        self.folder = Path(self.databases.folder) / 'shared inbox ü'
        self.folder.mkdir()
        add_inbox('shared', self.folder)
        self.files = {}
        for number in range(FILES):
            path = write_responses(self.folder / f'export {number:02d}.csv', ROWS_PER_FILE,
                                   first_id=number * ROWS_PER_FILE + 1)
            self.files[path.name] = file_sha256(path)[0]

    def responses_checksum(self) -> tuple[int, str]:
        digest = hashlib.sha256()
        rows = db.session.execute(db.select(Response.response_id, Response.flow_code,
                                            Response.batch_id).order_by(Response.response_id))
        count = 0
        for response_id, flow_code, _batch in rows:
            digest.update(f'{response_id},{flow_code};'.encode())
            count += 1
        return count, digest.hexdigest()

    def expected_checksum(self) -> tuple[int, str]:
        digest = hashlib.sha256()
        for number in range(1, FILES * ROWS_PER_FILE + 1):
            digest.update(f'{number},{"ORD-SAP" if number % 3 else "INV-DWH"};'.encode())
        return FILES * ROWS_PER_FILE, digest.hexdigest()

    def test_each_file_is_loaded_exactly_once(self):
        settings = {'INBOX_SETTLE_SECONDS': '0', 'INBOX_TICK_SECONDS': '600'}
        first = self.start_flask('jobs', 'run', **settings)
        second = self.start_flask('jobs', 'run', **settings)
        outputs = [process.communicate(timeout=600) for process in (first, second)]
        for process, (output, errors) in zip((first, second), outputs, strict=True):
            self.assertEqual(process.returncode, 0, output + errors)
        inbox_lines = [line for output, _ in outputs for line in output.splitlines()
                       if line.startswith('inbox ')]
        self.assertEqual(len(inbox_lines), 2, inbox_lines)
        self.assertEqual(sum(' ran ' in line for line in inbox_lines), 1, inbox_lines)

        db.session.expire_all()
        batches = db.session.scalars(db.select(LoadBatch)).all()
        self.assertEqual(len(batches), FILES)
        self.assertTrue(all(batch.status == 'succeeded' for batch in batches))
        self.assertEqual(sorted(batch.sha256 for batch in batches), sorted(self.files.values()))
        self.assertEqual(sorted(batch.file_name for batch in batches),
                         sorted(f'inbox shared: {name}' for name in self.files))
        self.assertEqual(self.responses_checksum(), self.expected_checksum())
        processed = {path.name: file_sha256(path)[0]
                     for path in (self.folder / 'processed').glob('*/*')}
        self.assertEqual(processed, self.files)
        self.assertEqual([path for path in self.folder.iterdir() if path.is_file()], [])
