"""Kept uploads behave on Windows, where a file that is open cannot be replaced, moved or
deleted. The file operations are swapped for ones that refuse exactly what Windows refuses
(read from /proc/self/fd: which files this process holds open)."""
import io
import os
import time
import unittest
from pathlib import Path
from tempfile import TemporaryDirectory
from unittest import mock

from app.loading import storage

PROC_FD = Path('/proc/self/fd')


def open_files() -> set[Path]:
    held = set()
    for fd in PROC_FD.iterdir():
        try:
            held.add(Path(os.readlink(fd)))
        except OSError:
            continue
    return held


def refuse_if_open(*paths) -> None:
    held = open_files()
    for path in paths:
        if Path(path).exists() and Path(path).resolve() in held:
            raise PermissionError(13, 'The process cannot access the file because it is being '
                                      'used by another process', str(path))


def windows_replace(source, target):
    refuse_if_open(source, target)
    os.rename(source, target)  # windows-ok: the emulation's own move, after the checks


real_unlink = Path.unlink


def windows_unlink(self, missing_ok=False):
    refuse_if_open(self)
    real_unlink(self, missing_ok=missing_ok)


@unittest.skipUnless(PROC_FD.is_dir(), 'needs /proc/self/fd to see which files are open')
class WindowsFileSharingTests(unittest.TestCase):
    def setUp(self):
        folder = TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)
        patches = [mock.patch.object(storage.os, 'replace', windows_replace),
                   mock.patch.object(Path, 'unlink', windows_unlink)]
        for patch in patches:
            patch.start()
            self.addCleanup(patch.stop)

    def test_upload_is_closed_before_it_is_moved_into_place(self):
        stored = storage.store_upload(io.BytesIO(b'a,b\n1,2\n'), self.folder)
        self.assertEqual(stored.path.read_bytes(), b'a,b\n1,2\n')
        self.assertEqual([p.name for p in self.folder.iterdir()], [stored.path.name])

    def test_same_content_again_while_a_load_reads_the_kept_file(self):
        first = storage.store_upload(io.BytesIO(b'id\n1\n'), self.folder)
        old = time.time() - 3600
        os.utime(first.path, (old, old))
        with open(first.path, 'rb'):   # a load is reading it
            again = storage.store_upload(io.BytesIO(b'id\n1\n'), self.folder)
        self.assertEqual(again, first)
        self.assertEqual([p.name for p in self.folder.iterdir()], [first.path.name],
                         'the second copy is not left behind')
        self.assertGreater(first.path.stat().st_mtime, old + 1800, 'retention restarted')

    def test_purge_leaves_a_file_a_load_still_reads_and_removes_the_rest(self):
        reading = storage.store_upload(io.BytesIO(b'one'), self.folder)
        idle = storage.store_upload(io.BytesIO(b'two'), self.folder)
        old = time.time() - 48 * 3600
        for path in (reading.path, idle.path):
            os.utime(path, (old, old))
        with open(reading.path, 'rb'):
            removed = storage.purge_expired(self.folder, retention_hours=24)
        self.assertEqual(removed, 1)
        self.assertTrue(reading.path.exists())
        self.assertFalse(idle.path.exists())
        self.assertEqual(storage.purge_expired(self.folder, retention_hours=24), 1)


if __name__ == '__main__':
    unittest.main()
