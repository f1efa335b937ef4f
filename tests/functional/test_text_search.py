"""Text search at any cardinality (app/browse/text_plan.py, text_search.py, search_index.py),
on SQLite and PostgreSQL: the right rows for common, rare and absent words, special characters
and case; the lookup through the dictionary's text index and the walk in page order give the
same rows for the same query (pages, exports and the API); the text index kept by every writer
and search still right without it. Counts: test_text_search_counts.py."""
from __future__ import annotations

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
from tests.functional.text_search_data import QUERIES, SPECIAL_REASONS, TextSearchCase


@on_every_backend
class TextSearchTest(TextSearchCase):
    """The right rows, whichever way they are found."""

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

    def test_time_share(self):
        span = (datetime(2026, 1, 1), datetime(2026, 1, 11))
        from app.browse.filters import ResponseFilter
        with mock.patch.object(text_plan, 'data_span', return_value=span):
            self.assertEqual(text_plan.time_share(ResponseFilter()), 1.0)
            self.assertAlmostEqual(text_plan.time_share(
                ResponseFilter(start=datetime(2026, 1, 9))), 0.2)
            self.assertEqual(text_plan.time_share(ResponseFilter(end=datetime(2025, 1, 1))), 0.0)
