"""Inbox folder rules at unit level: which files wait, when one has settled, names that never
collide."""
from __future__ import annotations

import os
import shutil
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from parameterized import parameterized

from app.inboxes import folder as files


class InboxFolderTests(unittest.TestCase):
    def setUp(self):
        self.folder = Path(tempfile.mkdtemp(prefix='inbox ünit '))
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)

    def touch(self, name: str, mtime: float, content: bytes = b'x') -> Path:
        path = self.folder / name
        path.write_bytes(content)
        os.utime(path, (mtime, mtime))
        return path

    def test_waiting_files_match_the_pattern_oldest_first_without_subfolders(self):
        self.touch('b.csv', 200)
        self.touch('a.csv', 300)
        self.touch('UPPER.CSV', 400)
        self.touch('c.CSV.tmp', 100)
        self.touch('~$b.csv', 100)
        self.touch('.partial.csv', 100)
        self.touch('read me.txt', 100)
        (self.folder / 'processed').mkdir()
        (self.folder / 'processed' / 'old.csv').write_bytes(b'x')
        self.assertEqual([item.path.name for item in files.waiting_files(self.folder, '*.csv')],
                         ['b.csv', 'a.csv', 'UPPER.CSV'])

    def test_a_missing_folder_cannot_be_listed(self):
        with self.assertRaises(OSError):
            files.waiting_files(self.folder / 'gone', '*.csv')

    @parameterized.expand([
        ('modified too recently', 1000 + 59, None, 'modified 59 s ago'),
        ('settled, first sighting', 1000 + 60, None, None),
        ('settled, same size as last tick', 1000 + 600, 1, None),
        ('size changed since last tick', 1000 + 600, 7, 'its size changed since the last tick'),
    ])
    def test_settle_rules(self, _name, now_ts, previous_size, expected):
        item = files.Waiting(self.touch('f.csv', 1000), 1, 1000)
        reason = files.unsettled_reason(item, now_ts, 60, previous_size)
        if expected is None:
            self.assertIsNone(reason)
        else:
            self.assertIn(expected, reason)

    def test_a_file_held_open_by_its_writer_has_not_settled(self):
        item = files.Waiting(self.touch('f.csv', 1000), 1, 1000)
        with mock.patch.object(files, 'opens_exclusively', return_value=False):
            self.assertEqual(files.unsettled_reason(item, 5000, 60, 1),
                             'another program still has it open')

    def test_linux_has_no_share_locks(self):
        if os.name == 'nt':
            self.skipTest('Windows checks share locks for real')
        with open(self.touch('open.csv', 1000), 'ab'):
            self.assertTrue(files.opens_exclusively(self.folder / 'open.csv'))

    def test_moves_never_overwrite(self):
        target = self.folder / 'processed' / '2026-11-30'
        for content in (b'one', b'two', b'three'):
            files.move_into(self.touch('daily export.csv', 1000, content), target)
        self.assertEqual({path.name: path.read_bytes() for path in target.iterdir()},
                         {'daily export.csv': b'one', 'daily export (2).csv': b'two',
                          'daily export (3).csv': b'three'})

    def test_report_sits_beside_the_rejected_file(self):
        rejected = files.move_into(self.touch('bad.csv', 1000), files.rejected_folder(self.folder))
        self.assertEqual(files.report_path(rejected), self.folder / 'rejected' / 'bad.errors.csv')
