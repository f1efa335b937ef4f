"""Retention's dense parts: the month ranges a purge walks, the batched DELETE each dialect
gets (SQL Server compiled with the mssql dialect), the RESPONSES_RETENTION_DAYS setting, and
gzip files as the loader's sniffing sees them, and month files of an older layout."""
from __future__ import annotations

import gzip
import tempfile
import unittest
from datetime import date, datetime
from pathlib import Path

from parameterized import parameterized
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.mssql import pyodbc

from app.datasets import RESPONSES
from app.loading.problems import FileRejected
from app.loading.sniff import CSV_GZ, detect_kind
from app.retention.archive import archive_time, archived_ids, write_month
from app.retention.purge import PURGE_CACHE_KIB, batch_delete, in_range, month_ranges, purge_cache_kib
from app.retention.reasons import orphans
from config import Config

START, END = datetime(2025, 1, 1), datetime(2025, 2, 1)


class MonthRangeTests(unittest.TestCase):
    def test_months_cover_oldest_to_cutoff_without_gaps(self):
        ranges = month_ranges(datetime(2024, 11, 17, 8), datetime(2025, 2, 10, 6, 30))
        self.assertEqual([month for month, _start, _end in ranges],
                         [date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)])
        self.assertEqual(ranges[0][1], datetime(2024, 11, 1))
        self.assertEqual(ranges[1][1], datetime(2024, 12, 1))
        self.assertEqual(ranges[-1][2], datetime(2025, 2, 10, 6, 30), 'the last stops at the cutoff')
        for (_m, _s, end), (_n, start, _e) in zip(ranges, ranges[1:], strict=False):
            self.assertEqual(end, start)

    def test_cutoff_on_a_month_boundary_adds_no_empty_month(self):
        ranges = month_ranges(datetime(2025, 1, 5), datetime(2025, 2, 1))
        self.assertEqual(len(ranges), 1)


class BatchDeleteStatementTests(unittest.TestCase):
    def compiled(self, dialect) -> str:
        table = RESPONSES.table
        statement = batch_delete(dialect.name, table, in_range(table, START, END), 500)
        return ' '.join(str(statement.compile(dialect=dialect)).split())

    def test_sqlite_deletes_by_rowid(self):
        self.assertIn('WHERE rowid IN (SELECT rowid FROM', self.compiled(sqlite.dialect()))

    def test_postgresql_deletes_by_ctid_array(self):
        self.assertIn('WHERE ctid = ANY (ARRAY((SELECT ctid FROM',
                      self.compiled(postgresql.dialect()))

    def test_sql_server_deletes_top_n_keys(self):
        sql = self.compiled(pyodbc.dialect(paramstyle='qmark'))
        self.assertIn('response_id IN (SELECT TOP __[POSTCOMPILE_param_1]', sql)
        self.assertNotIn('LIMIT', sql)


class DictionaryPruneTests(unittest.TestCase):
    @parameterized.expand([('sqlite', sqlite.dialect()), ('postgresql', postgresql.dialect()),
                           ('mssql', pyodbc.dialect(paramstyle='qmark'))])
    def test_an_entry_goes_only_when_no_response_names_it(self, _name, dialect):
        """Checked through the partial reason index (the IS NOT NULL lets every engine use
        it), correlated to the entry being deleted."""
        from sqlalchemy import delete

        from app.models import ErrorReason
        sql = ' '.join(str(delete(ErrorReason).where(orphans([-5, 7])).compile(
            dialect=dialect, compile_kwargs={'literal_binds': True})).split())
        self.assertRegex(sql, r'^DELETE FROM \S*error_reasons\S* WHERE \S*reason_hash IN '
                              r'\(-5, 7\) AND NOT \(EXISTS \(SELECT \* FROM \S*responses\S* WHERE '
                              r'\S*reason_hash IS NOT NULL AND \S*responses\S*\.reason_hash = '
                              r'\S*error_reasons\S*\.reason_hash\)\)$')

    def test_a_batch_returns_the_reasons_of_its_rows(self):
        table = RESPONSES.table
        for dialect, returned in ((sqlite.dialect(), ') RETURNING reason_hash'),
                                  (postgresql.dialect(), 'RETURNING "ops"."responses".reason_hash'),
                                  (pyodbc.dialect(paramstyle='qmark'),
                                   'OUTPUT deleted.reason_hash')):
            statement = batch_delete(dialect.name, table, in_range(table, START, END), 500)
            sql = ' '.join(str(statement.returning(table.c.reason_hash).compile(
                dialect=dialect)).split())
            self.assertIn(returned, sql)


class PurgeCacheTests(unittest.TestCase):
    def test_the_cache_grows_with_the_batch_from_a_floor(self):
        """About 3 dirty 4 KiB pages per deleted row (tests/functional/test_retention.py
        checks the connection gets it and gives it back)."""
        self.assertEqual(purge_cache_kib(25), PURGE_CACHE_KIB)
        self.assertEqual(purge_cache_kib(20_000), 240_000)


class RetentionSettingTests(unittest.TestCase):
    def test_empty_keeps_everything(self):
        self.assertIsNone(Config({}).RESPONSES_RETENTION_DAYS)
        self.assertIsNone(Config({'RESPONSES_RETENTION_DAYS': ' '}).RESPONSES_RETENTION_DAYS)

    def test_days_are_read(self):
        self.assertEqual(Config({'RESPONSES_RETENTION_DAYS': '400'}).RESPONSES_RETENTION_DAYS, 400)

    @parameterized.expand([('0',), ('-5',), ('a year',)])
    def test_nonsense_is_refused_with_the_setting_named(self, raw):
        with self.assertRaisesRegex(ValueError, 'RESPONSES_RETENTION_DAYS'):
            Config({'RESPONSES_RETENTION_DAYS': raw})


class GzipSniffTests(unittest.TestCase):
    def setUp(self):
        self.folder = Path(tempfile.mkdtemp())

    def gz(self, content: bytes, cut: int = 0) -> Path:
        path = self.folder / 'file.csv.gz'
        data = gzip.compress(content)
        path.write_bytes(data[:len(data) - cut] if cut else data)
        return path

    def test_gzip_csv_is_accepted(self):
        self.assertEqual(detect_kind(self.gz(b'response_id,flow_code\r\n1,A\r\n')), CSV_GZ)

    def test_gzip_of_a_binary_file_is_refused(self):
        with self.assertRaisesRegex(FileRejected, 'does not hold CSV text'):
            detect_kind(self.gz(b'PK\x03\x04' + bytes(200)))

    def test_damaged_gzip_is_refused(self):
        path = self.folder / 'broken.csv.gz'
        path.write_bytes(b'\x1f\x8b\x08\x00' + b'not deflate data' * 4)
        with self.assertRaisesRegex(FileRejected, 'damaged or incomplete'):
            detect_kind(path)


class ArchiveLayoutTests(unittest.TestCase):
    """A month file written before the upload layout gained the id columns is rewritten in
    today's layout when the month is added to: one header, older rows with empty ids."""
    OLD_HEADER = ('response_id,flow_code,responded_at,status,result_code,duration_ms,'
                  'error_reason,payload_bytes')

    def setUp(self):
        self.path = Path(tempfile.mkdtemp()) / 'responses_2025-01.csv.gz'

    def rows(self) -> list[str]:
        with gzip.open(self.path, 'rt', encoding='utf-8', newline='') as handle:
            return handle.read().splitlines()

    def test_an_older_layout_is_rewritten_with_empty_ids(self):
        with gzip.open(self.path, 'wt', encoding='utf-8', newline='') as handle:
            handle.write(f'{self.OLD_HEADER}\r\n1,ORD,2025-01-01 00:00:00.000000Z,ERROR,1,5,'
                         "'=bad,7\r\n")
        written = write_month(self.path, [[(2, 'ORD', datetime(2025, 1, 2), 'OK', 0, 3, None, None,
                                            'guid-2', '=ORDER-2')]], archived_ids(self.path))
        self.assertEqual(written, 1)
        self.assertEqual(self.rows(), [
            ','.join(RESPONSES.export_columns),
            "1,ORD,2025-01-01 00:00:00.000000Z,ERROR,1,5,'=bad,7,,",
            "2,ORD,2025-01-02 00:00:00.000000Z,OK,0,3,,,guid-2,'=ORDER-2"])
        self.assertEqual(archived_ids(self.path), {1, 2})

    def test_todays_layout_is_appended_as_it_is(self):
        row = (1, 'ORD', datetime(2025, 1, 1), 'OK', 0, 3, None, None, None, 'C-1')
        write_month(self.path, [[row]], set())
        write_month(self.path, [[(2, *row[1:])]], {1})
        self.assertEqual(self.rows(), [','.join(RESPONSES.export_columns),
                                       '1,ORD,2025-01-01 00:00:00.000000Z,OK,0,3,,,,C-1',
                                       '2,ORD,2025-01-01 00:00:00.000000Z,OK,0,3,,,,C-1'])


class ArchiveRowTests(unittest.TestCase):
    """An archived response as the upload reads it back: UTC time with a Z, every digit kept,
    text that a spreadsheet would run as a formula neutralised (csv_safety), empty cells for
    missing values, numbers (negative ones too) as they are."""

    def written(self, row) -> str:
        folder = Path(tempfile.mkdtemp())
        path = folder / 'responses_2025-01.csv.gz'
        self.assertEqual(write_month(path, [[row]], known=set()), 1)
        with gzip.open(path, 'rt', encoding='utf-8', newline='') as handle:
            return handle.read().split('\r\n')[1]

    def test_times_numbers_and_empty_cells(self):
        row = (7, 'ORD-SAP', datetime(2025, 1, 2, 3, 4, 5, 60), 'OK', -1, None, None, 0, None, None)
        self.assertEqual(self.written(row), '7,ORD-SAP,2025-01-02 03:04:05.000060Z,OK,-1,,,0,,')

    @parameterized.expand([
        ('datetime', datetime(2025, 1, 2, 3, 4, 5, 60), '2025-01-02 03:04:05.000060Z'),
        ('sqlite_text', '2025-01-02 03:04:05.000060', '2025-01-02 03:04:05.000060Z'),
        ('text_without_fraction', '2025-01-02 03:04:05', '2025-01-02 03:04:05.000000Z'),
        ('text_with_a_t', '2025-01-02T03:04:05.000060', '2025-01-02 03:04:05.000060Z'),
    ])
    def test_the_time_the_driver_returns_is_written_in_one_form(self, _name, value, cell):
        """The archive reads the time as the driver returns it: SQLite's stored text is used
        as it is, any other form is parsed and written as the datetime would be."""
        self.assertEqual(archive_time(value), cell)
        row = (7, 'ORD-SAP', value, 'OK', -1, None, None, 0, None, None)
        self.assertEqual(self.written(row), f'7,ORD-SAP,{cell},OK,-1,,,0,,')

    @parameterized.expand([
        ('formula', '=HYPERLINK("x")', '"\'=HYPERLINK(""x"")"'),
        ('apostrophe', "'=1", "''=1"),
        ('plain_number', '-5', '-5'),
        ('plain_text', 'Timeout after 30 s', 'Timeout after 30 s'),
    ])
    def test_text_is_neutralised_in_every_text_column(self, _name, text, cell):
        row = (1, text, datetime(2025, 1, 2), text, 500, 1, text, 2, text, text)
        self.assertEqual(self.written(row).split(',2025-01-02 00:00:00.000000Z,'),
                         [f'1,{cell}', f'{cell},500,1,{cell},2,{cell},{cell}'])
