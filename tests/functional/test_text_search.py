"""Text search at any cardinality (app/browse/text_plan.py, text_search.py, search_index.py),
on SQLite and PostgreSQL: the right rows for common, rare and absent words, special characters
and case; the lookup through the dictionary's text index and the walk in page order give the
same rows for the same query (pages, exports, the API and the count); counts exact or capped;
the text index kept by every writer and search still right without it."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parameterized import parameterized
from sqlalchemy import select, text

from app.browse import text_plan, text_search
from app.datasets import RESPONSES
from app.error_reasons import reason_hash
from app.extensions import db
from app.loading.writers import writer_for
from app.models import ErrorReason, Flow, Response
from app.reason_text_index import create_text_index, drop_text_index, forget, has_text_index
from app.seeding import seed_demo
from app.summary import refresh_after_write
from tests.base import FlowdeskTestCase, on_every_backend

#: Reasons whose characters LIKE would read as wildcards or the index might fold.
SPECIAL_REASONS = [
    'Discount 50% off applied', 'Discount 50 off applied',
    'file a_b.csv missing', 'file axb.csv missing',
    'O\'Brien said "stop" twice', 'path C:\\temp\\in was locked',
    'bracket [x] here', 'bracket x] here',
    'Ümlaut failure in Zürich', 'ümlaut FAILURE in zürich',
    'MiXeD CaSe Needle found', 'Kelvin \u212a sign in the reading',
]
QUERIES = ['timeout', 'TIMEOUT', 'Timeout', 'correlation id', '50%', '50 o', 'a_b', "O'Brien",
           '"stop"', 'C:\\temp', '[x]', 'x] h', 'Ümlaut', 'ümlaut', 'ZÜRICH', 'needle',
           'case ne', 'kelvin k', 'zzqq-nothing', '%%%', '___']


def fold(dialect: str, value: str) -> str:
    """What the engine's case-insensitive match ignores: ASCII case on SQLite (LIKE), case on
    PostgreSQL (ILIKE)."""
    if dialect == 'postgresql':
        return value.lower()
    return ''.join(ch.lower() if 'A' <= ch <= 'Z' else ch for ch in value)


@on_every_backend
class TextSearchTest(FlowdeskTestCase):
    """Realistic-shape demo data (mostly distinct reasons) plus reasons with special
    characters, seeded once for the class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        summary = seed_demo(flows=12, responses=3000, force=True, shape='realistic')
        with db.engines['ops'].begin() as connection:
            flow = connection.scalar(select(Flow.flow_code).order_by(Flow.flow_code))
            writer = writer_for(connection, RESPONSES, summary.batch_id)
            start = summary.last - timedelta(days=3)
            writer.insert([(9_000_000 + index, flow, start + timedelta(minutes=index), 'ERROR', 1,
                            10, reason, 100, None, None, summary.batch_id, reason_hash(reason))
                           for index, reason in enumerate(SPECIAL_REASONS)])
            writer.finish_writes()
            refresh_after_write(connection)

    @staticmethod
    def empty_tables() -> None:
        db.session.remove()

    # -- the obvious answer -------------------------------------------------------------------
    def dialect(self) -> str:
        return db.engines['ops'].dialect.name

    def expected(self, needle: str, **where) -> list[int]:
        """Ids matching ``needle`` (reason, or flow code/name), newest first, by reading every
        row in Python."""
        dialect = self.dialect()
        wanted = fold(dialect, needle)
        flows = {code for code, name in db.session.execute(select(Flow.flow_code, Flow.name))
                 if needle.lower() in code.lower() or needle.lower() in name.lower()}
        rows = db.session.execute(select(Response.response_id, Response.flow_code,
                                         Response.status, Response.responded_at,
                                         Response.error_reason)).all()
        found = [row for row in rows
                 if (row.flow_code in flows or wanted in fold(dialect, row.error_reason or ''))
                 and all(getattr(row, name) in values for name, values in where.items())]
        found.sort(key=lambda row: (row.responded_at, row.response_id), reverse=True)
        return [row.response_id for row in found]

    def api_ids(self, **params) -> list[int]:
        """Every id the API lists, following its cursors."""
        ids, cursor = [], None
        while True:
            query = {**params, 'size': 500, **({'cursor': cursor} if cursor else {})}
            response = self.client.get('/api/v1/responses', query_string=query)
            self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
            body = response.get_json()
            ids += [item['response_id'] for item in body['items']]
            cursor = body.get('next_cursor')
            if not cursor:
                return ids

    def api_count(self, **params) -> dict:
        response = self.client.get('/api/v1/responses', query_string={**params, 'size': 1})
        self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
        return response.get_json()['count']

    def export_ids(self, **params) -> list[int]:
        response = self.client.get('/responses/export.csv', query_string=params)
        self.assertEqual(response.status_code, 200)
        reader = csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip('\ufeff')))
        return [int(row['response_id']) for row in reader]

    def forced(self, strategy: str):
        return mock.patch.object(text_plan, 'page_strategy', lambda *_args: strategy)

    # -- right rows -----------------------------------------------------------------------------
    @parameterized.expand([(query,) for query in QUERIES])
    def test_rows_match_the_obvious_answer_either_way(self, query):
        expected = self.expected(query)
        self.assertEqual(self.api_ids(q=query), expected)
        for strategy in (text_plan.WALK, text_plan.LOOKUP):
            with self.subTest(strategy=strategy), self.forced(strategy):
                self.assertEqual(self.api_ids(q=query), expected)
                self.assertEqual(self.export_ids(q=query), expected)

    def test_special_characters_are_taken_literally(self):
        special = {9_000_000 + index: reason for index, reason in enumerate(SPECIAL_REASONS)}
        for query, reasons in (('50%', ['Discount 50% off applied']),
                               ('a_b', ['file a_b.csv missing']),
                               ('[x]', ['bracket [x] here']),
                               ('"stop"', ['O\'Brien said "stop" twice']),
                               ('C:\\temp', ['path C:\\temp\\in was locked'])):
            found = [special[i] for i in self.api_ids(q=query) if i in special]
            self.assertEqual(found, reasons, query)

    def test_case_is_ignored_for_ascii_letters_everywhere(self):
        self.assertEqual(self.api_ids(q='needle'), self.api_ids(q='NEEDLE'))
        self.assertIn(9_000_010, self.api_ids(q='mixed case'))

    def test_a_rare_word_is_looked_up_by_its_exact_entries(self):
        from app.browse.filters import ResponseFilter
        rare = self.rare_token()
        with self.app.test_request_context():
            found = text_search.matches_for(ResponseFilter(text=rare))
            common = text_search.matches_for(ResponseFilter(text='correlation id'))
        self.assertEqual((found.hashes, found.rows), ((reason_hash(self.reason_of(rare)),), 1))
        self.assertIsNone(common.hashes)      # more entries than the sample: estimated
        self.assertGreater(common.entries, text_plan.SAMPLE)
        self.assertEqual(text_plan.page_strategy(found, 3012.0, 51), text_plan.LOOKUP)
        self.assertEqual(len(self.api_ids(q=rare)), 1)

    def reason_of(self, token: str) -> str:
        return db.session.scalar(select(Response.error_reason).where(
            Response.error_reason.like(f'%{token}%')))

    def rare_token(self) -> str:
        """A hex correlation id that appears in exactly one stored reason."""
        reasons = [reason for (reason,) in db.session.execute(
            select(Response.error_reason).where(Response.error_reason.like('%correlation id%')))]
        for reason in reasons:
            token = re.search(r'correlation id ([0-9a-f]{12})', reason).group(1)
            if sum(token in other for other in reasons) == 1:
                return token
        self.fail('no unique correlation id in the seeded data')

    # -- combined filters and sorts --------------------------------------------------------------
    @parameterized.expand([
        ('status', {'status': 'ERROR'}, {'status': {'ERROR'}}),
        ('two statuses', {'status': 'WARN,ERROR'}, {'status': {'WARN', 'ERROR'}}),
        ('flow', 'first flow', None),
    ])
    def test_combined_with_status_and_flow_filters(self, _name, params, where):
        flow = db.session.scalar(select(Flow.flow_code).order_by(Flow.flow_code))
        if params == 'first flow':
            params, where = {'flow': flow}, {'flow_code': {flow}}
        for query in ('timeout', 'correlation id', '50%', self.rare_token(), 'zzqq-nothing'):
            expected = self.expected(query, **where)
            for strategy in (text_plan.WALK, text_plan.LOOKUP):
                with self.subTest(query=query, strategy=strategy), self.forced(strategy):
                    self.assertEqual(self.api_ids(q=query, **params), expected)

    @parameterized.expand([('oldest',), ('slowest',), ('fastest',)])
    def test_every_sort_order_gives_the_same_rows_either_way(self, sort):
        pages = {}
        for strategy in (text_plan.WALK, text_plan.LOOKUP):
            with self.forced(strategy):
                pages[strategy] = self.api_ids(q='timeout', sort=sort)
                self.assertEqual(self.export_ids(q='timeout', sort=sort), pages[strategy])
        self.assertEqual(pages[text_plan.WALK], pages[text_plan.LOOKUP])
        self.assertEqual(sorted(pages[text_plan.WALK]), sorted(self.expected('timeout')))

    def test_time_range_combined(self):
        last = db.session.scalar(select(Response.responded_at).order_by(
            Response.responded_at.desc()).limit(1))
        since = last - timedelta(days=20)
        params = {'q': 'timeout', 'from': since.strftime('%Y-%m-%dT%H:%M:%SZ')}
        expected = [i for i, at in db.session.execute(select(
            Response.response_id, Response.responded_at).where(
            Response.response_id.in_(self.expected('timeout')))) if at >= since]
        for strategy in (text_plan.WALK, text_plan.LOOKUP):
            with self.subTest(strategy=strategy), self.forced(strategy):
                self.assertEqual(sorted(self.api_ids(**params)), sorted(expected))

    # -- counts -----------------------------------------------------------------------------------
    @parameterized.expand([('timeout',), ('50%',), ('zzqq-nothing',), ('correlation id',)])
    def test_count_is_exact_below_the_cap(self, query):
        self.assertEqual(self.api_count(q=query),
                         {'value': len(self.expected(query)), 'capped': False})
        self.assertEqual(self.api_count(q=query, status='ERROR'),
                         {'value': len(self.expected(query, status={'ERROR'})), 'capped': False})

    def test_count_of_a_word_naming_flows_is_the_same_whichever_way_it_counts(self):
        """A word in flow names counts in one statement (flow or reason); walking and looking
        the reasons up give the same number, exact below the cap and capped above it."""
        name = db.session.scalar(select(Flow.name).order_by(Flow.flow_code))
        word = next(part for part in re.split(r'[^A-Za-z]+', name) if len(part) >= 3)
        matches = len(self.expected(word))
        self.assertGreater(matches, 40)
        for costs, strategy in (((1, 2), text_plan.WALK), ((2, 1), text_plan.LOOKUP)):
            with self.subTest(strategy=strategy), \
                    mock.patch.object(text_plan, 'count_costs', lambda *_args, c=costs, **_kw: c):
                self.assertEqual(self.api_count(q=word), {'value': matches, 'capped': False})
                with mock.patch.object(text_search, 'TEXT_COUNT_CAP', 40):
                    self.assertEqual(self.api_count(q=word), {'value': 40, 'capped': True})

    def test_count_is_capped_above_the_cap_whichever_way_it_counts(self):
        matches = len(self.expected('correlation id'))
        self.assertGreater(matches, 40)
        with mock.patch.object(text_search, 'TEXT_COUNT_CAP', 40):
            self.assertEqual(self.api_count(q='correlation id'), {'value': 40, 'capped': True})
            with mock.patch.object(text_search, 'COUNT_BUDGET', 10**6):
                self.assertEqual(self.api_count(q='correlation id', status='ERROR')['value'],
                                 min(40, len(self.expected('correlation id',
                                                           status={'ERROR'}))))
        with mock.patch.object(text_search, 'TEXT_COUNT_CAP', matches + 5):
            self.assertEqual(self.api_count(q='correlation id'),
                             {'value': matches, 'capped': False})

    def test_the_count_is_the_same_through_the_index_or_in_storage_order(self):
        """A streamed count reads the dictionary's matching entries through the text index or
        in storage order (PostgreSQL, for common words): the same count either way."""
        streamed = {'count_costs': lambda *_args, **_kw: (10**9, 1)}
        for word, where in (('correlation id', {}), ('correlation id', {'status': 'ERROR'}),
                            ('timeout', {})):
            answers = []
            for through_index in (True, False):
                with mock.patch.multiple(text_plan, SAMPLE=2, **streamed), \
                        mock.patch.object(text_plan, 'index_pays_for_stream',
                                          return_value=through_index), \
                        mock.patch.multiple(text_search, STREAM_BATCH=3, TEXT_COUNT_CAP=25), \
                        mock.patch.object(text_search, '_batched_count',
                                          wraps=text_search._batched_count) as batched:
                    answers.append(self.api_count(q=word, **where))
                if self.dialect() == 'postgresql':
                    self.assertEqual(batched.call_args.args[-1], through_index)
            with self.subTest(word=word, **where):
                self.assertEqual(answers[0], answers[1])
                expected = len(self.expected(word, **{k: {v} for k, v in where.items()}))
                self.assertEqual(answers[0], {'value': min(expected, 25),
                                              'capped': expected > 25})

    def test_count_past_its_budget_says_at_least(self):
        matches = len(self.expected('correlation id'))
        with mock.patch.multiple(text_search, COUNT_BUDGET=4, STREAM_BATCH=2), \
                mock.patch.object(text_plan, 'count_costs', lambda *_args: (10**9, 10**9)):
            found = self.api_count(q='correlation id')
        self.assertTrue(found['capped'])
        self.assertLessEqual(found['value'], matches)
        self.assertGreater(found['value'], 0)

    def test_page_shows_the_capped_count(self):
        with mock.patch.object(text_search, 'TEXT_COUNT_CAP', 40):
            self.assertPageContains(self.client.get('/responses?q=correlation+id&size=25'),
                                    '<strong>40+</strong>')
            # never fewer than the page lists: 50 rows and a next page are at least 51
            self.assertPageContains(self.client.get('/responses?q=correlation+id&size=50'),
                                    '<strong>51+</strong>')

    # -- property: both ways agree on any piece of any reason ----------------------------------------
    def test_any_piece_of_a_reason_finds_the_same_rows_both_ways(self):
        reasons = sorted({reason for (reason,) in db.session.execute(
            select(Response.error_reason).where(Response.error_reason.is_not(None)))})

        @settings(max_examples=25, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture,
                                         HealthCheck.too_slow])
        @given(st.data())
        def check(data):
            reason = data.draw(st.sampled_from(reasons))
            start = data.draw(st.integers(0, max(0, len(reason) - 3)))
            piece = reason[start:start + data.draw(st.integers(3, 14))].strip()
            if len(piece) < 3:
                return
            if data.draw(st.booleans()):
                piece = piece.swapcase()
            found = {}
            for strategy in (text_plan.WALK, text_plan.LOOKUP):
                with self.forced(strategy):
                    found[strategy] = self.api_ids(q=piece, status='WARN,ERROR')
            self.assertEqual(found[text_plan.WALK], found[text_plan.LOOKUP], piece)
            self.assertEqual(found[text_plan.WALK],
                             self.expected(piece, status={'WARN', 'ERROR'}), piece)
        check()

    # -- short terms ------------------------------------------------------------------------------
    @parameterized.expand([('ab',), ('é',), ('  x ',)])
    def test_terms_under_three_characters_are_refused_with_a_message(self, term):
        response = self.client.get('/api/v1/responses', query_string={'q': term})
        self.assertEqual(response.status_code, 400)
        self.assertIn('at least 3 characters', response.get_data(as_text=True))
        page = self.client.get('/responses', query_string={'q': term})
        self.assertEqual(page.status_code, 400)
        self.assertIn('Search text needs at least 3 characters', page.get_data(as_text=True))


@on_every_backend
class TextIndexUpkeepTest(FlowdeskTestCase):
    """Every writer keeps the dictionary's text index; search is right without it too."""

    def seed(self):
        return seed_demo(flows=6, responses=600, force=True, shape='realistic')

    def add(self, summary, response_id: int, reason: str) -> None:
        with db.engines['ops'].begin() as connection:
            flow = connection.scalar(select(Flow.flow_code).limit(1))
            writer = writer_for(connection, RESPONSES, summary.batch_id)
            writer.insert([(response_id, flow, summary.last, 'ERROR', 1, 5, reason, 1, None, None,
                            summary.batch_id, reason_hash(reason))])
            writer.finish_writes()
            refresh_after_write(connection)

    def indexed_hashes(self, needle: str) -> set[int]:
        """What the text index itself answers (SQLite: the FTS5 table; PostgreSQL: the
        dictionary through its trigram index)."""
        from app.browse.search_index import dictionary_matches
        with db.engines['ops'].connect() as connection:
            statement = dictionary_matches(connection.dialect.name, needle,
                                           has_text_index(connection))
            return set(connection.execute(statement).scalars())

    def test_index_exists_and_writers_keep_it(self):
        summary = self.seed()
        with db.engines['ops'].connect() as connection:
            self.assertTrue(has_text_index(connection))
        self.assertTrue(self.indexed_hashes('correlation id'))
        self.add(summary, 8_000_001, 'Quokka gateway refused the batch')
        self.assertEqual(self.indexed_hashes('QUOKKA'),
                         {reason_hash('Quokka gateway refused the batch')})
        response = self.client.get('/api/v1/responses', query_string={'q': 'quokka'})
        self.assertEqual([item['response_id'] for item in response.get_json()['items']],
                         [8_000_001])

    def test_bulk_writers_index_their_new_reasons_at_the_end_and_keep_the_trigger(self):
        summary = self.seed()
        engine = db.engines['ops']
        with engine.begin() as connection:
            flow = connection.scalar(select(Flow.flow_code).limit(1))
            writer = writer_for(connection, RESPONSES, summary.batch_id)
            writer.insert([(8_000_002, flow, summary.last, 'ERROR', 1, 5, 'Wombat one', 1, None,
                            None, summary.batch_id, reason_hash('Wombat one'))])
            connection.rollback()                 # a failed or dry-run load
        self.assertEqual(self.indexed_hashes('wombat'), set())
        self.add(summary, 8_000_003, 'Wombat two')
        self.assertEqual(self.indexed_hashes('wombat'), {reason_hash('Wombat two')})
        if engine.dialect.name == 'sqlite':
            with engine.connect() as connection:
                triggers = set(connection.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
            self.assertIn('error_reason_words_add', triggers)
        # A single insert outside a bulk writer goes through the trigger.
        with engine.begin() as connection:
            connection.execute(ErrorReason.__table__.insert().values(
                reason_hash=reason_hash('Wombat three'), error_reason='Wombat three'))
        self.assertEqual(self.indexed_hashes('WOMBAT T'), {reason_hash('Wombat two'),
                                                           reason_hash('Wombat three')})

    def test_search_without_the_index_gives_the_same_rows(self):
        self.seed()
        with_index = self.client.get('/api/v1/responses',
                                     query_string={'q': 'timeout', 'size': 500}).get_json()
        engine = db.engines['ops']
        with engine.begin() as connection:
            drop_text_index(connection)
        try:
            forget(engine)
            without = self.client.get('/api/v1/responses',
                                      query_string={'q': 'timeout', 'size': 500}).get_json()
            with engine.connect() as connection:
                self.assertFalse(has_text_index(connection))
        finally:
            with engine.begin() as connection:
                create_text_index(connection)
            forget(engine)
        self.assertEqual(without['items'], with_index['items'])
        self.assertEqual(without['count'], with_index['count'])

    def test_rebuilding_the_index_fills_it_from_the_dictionary(self):
        self.seed()
        before = self.indexed_hashes('correlation id')
        engine = db.engines['ops']
        with engine.begin() as connection:
            drop_text_index(connection)
            self.assertTrue(create_text_index(connection))
        forget(engine)
        self.assertEqual(self.indexed_hashes('correlation id'), before)
        self.assertTrue(before)


    def test_search_index_command_builds_it(self):
        self.seed()
        engine = db.engines['ops']
        with engine.begin() as connection:
            drop_text_index(connection)
        forget(engine)
        result = self.app.test_cli_runner().invoke(args=['search-index'])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn('text index', result.output)
        with engine.connect() as connection:
            self.assertTrue(has_text_index(connection))
        self.assertTrue(self.indexed_hashes('correlation id'))
        again = self.app.test_cli_runner().invoke(args=['search-index'])
        self.assertEqual(again.exit_code, 0, again.output)

    def test_search_index_command_says_what_to_do_when_it_cannot(self):
        with mock.patch('app.reason_text_index.create_text_index', return_value=False):
            result = self.app.test_cli_runner().invoke(args=['search-index'])
        self.assertEqual(result.exit_code, 1)
        self.assertIn('CREATE EXTENSION pg_trgm', result.output)
        self.assertIn('text search still works', result.output)


class SqliteWithoutTrigramTest(FlowdeskTestCase):
    """An SQLite without the trigram tokenizer (before 3.34) gets no index and a warning;
    search reads the dictionary with LIKE."""

    def test_no_trigram_no_index(self):
        engine = db.engines['ops']
        with engine.begin() as connection:
            drop_text_index(connection)
        forget(engine)
        try:
            with mock.patch('app.reason_text_index.sqlite_supports_trigram', return_value=False), \
                    self.assertLogs('app.reason_text_index', 'WARNING') as logs, \
                    engine.begin() as connection:
                self.assertFalse(create_text_index(connection))
            self.assertIn('trigram tokenizer', logs.output[0])
            with engine.connect() as connection:
                self.assertFalse(has_text_index(connection))
                self.assertEqual(connection.scalar(text(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'error_reason_words'")), 0)
        finally:
            with engine.begin() as connection:
                create_text_index(connection)
            forget(engine)


class PostgresWithoutExtensionTest(FlowdeskTestCase):
    """No right to create pg_trgm: the migration goes on without the index and says what the
    DBA must do (checked with a stand-in connection; the test tier's user may create it)."""

    def test_missing_extension_is_a_warning_not_a_failure(self):
        from sqlalchemy.exc import ProgrammingError

        from app import reason_text_index
        connection = mock.MagicMock()
        connection.dialect.name = 'postgresql'
        connection.scalar.return_value = None           # pg_trgm not installed
        connection.begin_nested.return_value.__exit__.return_value = False
        connection.exec_driver_sql.side_effect = ProgrammingError(
            'CREATE EXTENSION', {}, Exception('permission denied to create extension "pg_trgm"'))
        with self.assertLogs('app.reason_text_index', 'WARNING') as logs:
            self.assertFalse(reason_text_index.create_text_index(connection))
        self.assertIn('CREATE EXTENSION pg_trgm', logs.output[0])
        self.assertIn('permission denied', logs.output[0])
        executed = [call.args[0] for call in connection.exec_driver_sql.call_args_list]
        self.assertEqual(executed, ['CREATE EXTENSION IF NOT EXISTS pg_trgm'])


class StrategyChoiceTest(FlowdeskTestCase):
    """The cost comparison, on figures (no database)."""
    CREATE_TABLES = False

    def matches(self, rows, filtered):
        return text_plan.ReasonMatches(None, rows // 2, rows, filtered)

    @parameterized.expand([
        ('common word', 40_000, 40_000, 2_000_000, text_plan.WALK),
        ('rare word', 40, 40, 2_000_000, text_plan.LOOKUP),
        ('common word, few in the filter', 40_000, 20, 100_000, text_plan.LOOKUP),
        ('common word, selective flow', 40_000, 80, 4_000, text_plan.WALK),
        ('no match', 0, 0, 2_000_000, text_plan.LOOKUP),
    ])
    def test_page_strategy(self, _name, rows, filtered, other_rows, expected):
        self.assertEqual(text_plan.page_strategy(self.matches(rows, filtered), other_rows, 51),
                         expected)

    def test_counting_streams_so_a_common_word_counts_cheaply_by_lookup(self):
        walk, lookup = text_plan.count_costs(self.matches(40_000, 40_000), 2_000_000, 1001)
        self.assertLess(lookup, walk)
        self.assertLess(lookup, text_search.COUNT_BUDGET)

    def test_a_count_in_one_statement_pays_for_every_matching_entry(self):
        """A word naming busy flows: streamed, the lookup would stop after a few entries, but
        one statement naming the dictionary match reads all of them first, so it walks."""
        matches = text_plan.ReasonMatches(None, 12_000, 200_000, 200_000)
        walk, streamed = text_plan.count_costs(matches, 2_000_000, 1001)
        self.assertLess(streamed, walk)
        walk, whole = text_plan.count_costs(matches, 2_000_000, 1001, streamed=False)
        self.assertLess(walk, whole)

    def test_time_share(self):
        span = (datetime(2026, 1, 1), datetime(2026, 1, 11))
        from app.browse.filters import ResponseFilter
        with mock.patch.object(text_plan, 'data_span', return_value=span):
            self.assertEqual(text_plan.time_share(ResponseFilter()), 1.0)
            self.assertAlmostEqual(text_plan.time_share(
                ResponseFilter(start=datetime(2026, 1, 9))), 0.2)
            self.assertEqual(text_plan.time_share(ResponseFilter(end=datetime(2025, 1, 1))), 0.0)

    @parameterized.expand([
        # the measured cases: 3.2M entries, planner estimates 289,000 and 161,000
        ('common word, big dictionary', 'timeout', 289_000, 3_200_000, False),
        ('two words, big dictionary', 'deadlock victim', 161_000, 3_200_000, False),
        ('rare word, big dictionary', '0af3c9e1d2b4', 300, 3_200_000, True),
        ('common word, small dictionary', 'timeout', 2_000, 20_000, True),
        ('no statistics yet', 'timeout', 500, 0, True),
    ])
    def test_a_streamed_count_reads_the_dictionary_in_storage_order_for_common_words(
            self, _name, word, entries, dictionary, through_index):
        """PostgreSQL's trigram index finds every matching entry before the first comes back
        (a bitmap, a pass per trigram); for a word in a twentieth of a big dictionary a read in
        storage order reaches the count's budget of entries sooner."""
        with mock.patch.object(text_plan, 'dictionary_entries', return_value=dictionary):
            self.assertIs(text_plan.index_pays_for_stream(word, entries,
                                                          text_search.COUNT_BUDGET),
                          through_index)
