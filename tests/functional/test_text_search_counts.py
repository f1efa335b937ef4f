"""Counts of a text search (app/browse/text_search.py count, app/browse/text_plan.py), on
SQLite and PostgreSQL: exact below the cap, capped above it, "at least" past the budget; the
same number whichever way it is counted (one statement walking or looking up, entries streamed
through the text index or in storage order, a bounded walk of the other filters' rows); and
the choice between them, on figures."""
from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from parameterized import parameterized
from sqlalchemy import select

from app.browse import text_plan, text_search
from app.extensions import db
from app.models import Flow, Response
from tests.base import FlowdeskTestCase, on_every_backend
from tests.functional.text_search_data import TextSearchCase


def _never(*_args, **_kwargs) -> bool:
    return False


def _always(*_args, **_kwargs) -> bool:
    return True


def _not_in_one_statement(*_args, **_kwargs) -> tuple[float, float]:
    """Count costs that rule out counting in one statement (walk, lookup)."""
    return 10**9, 1


@on_every_backend
class TextSearchCountTest(TextSearchCase):
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
                with mock.patch.multiple(text_plan, SAMPLE=2, walk_sees_more=_never, **streamed), \
                        mock.patch.object(text_plan, 'index_pays_for_stream',
                                          return_value=through_index), \
                        mock.patch.multiple(text_search, STREAM_BATCH=3, TEXT_COUNT_CAP=25), \
                        mock.patch.object(text_search, '_entries_joined_count',
                                          wraps=text_search._entries_joined_count) as joined:
                    answers.append(self.api_count(q=word, **where))
                if self.dialect() == 'postgresql':
                    self.assertEqual(joined.call_args.args[-1], through_index)
            with self.subTest(word=word, **where):
                self.assertEqual(answers[0], answers[1])
                expected = len(self.expected(word, **{k: {v} for k, v in where.items()}))
                self.assertEqual(answers[0], {'value': min(expected, 25),
                                              'capped': expected > 25})

    def test_the_matching_rows_a_sample_stands_for(self):
        """PostgreSQL's sample is the oldest matching entries, not a random one (often the bare
        messages that repeat), so the rows a word's entries name come from the average entry:
        the WARN and ERROR responses over the dictionary's entries; the sample still gives
        the share of them the other filters keep. SQLite's sample is random (hash order) and
        scales as it is. Either way the count is the same."""
        from werkzeug.datastructures import MultiDict

        from app.browse.filters import parse_response_filter
        from app.browse.search_index import reason_in
        from app.clock import utc_now
        figures = {'dictionary_entries': lambda: 400,
                   'rows_per_status': lambda: {'OK': 1_000, 'WARN': 100, 'ERROR': 500}}
        args = MultiDict([('q', 'correlation id'), ('status', 'ERROR')])
        with mock.patch.multiple(text_plan, SAMPLE=2, **figures), \
                self.app.test_request_context('/responses'):
            flt = parse_response_filter(args, now=utc_now(), zone=ZoneInfo('UTC')).filter
            found = text_search.matches_for(flt)
            sample, entries = text_plan.sample_hashes('correlation id', text_search.memo)
            rows = text_plan._count([reason_in(sample)])
            kept = text_plan._count([reason_in(sample), Response.status == 'ERROR'])
        self.assertIsNotNone(entries)
        self.assertEqual(found.entries, entries)
        expected_rows = entries * 600 / 400 if self.dialect() == 'postgresql' \
            else rows * entries / 2
        self.assertAlmostEqual(found.rows, expected_rows)
        self.assertAlmostEqual(found.filtered, expected_rows * kept / rows)
        with mock.patch.multiple(text_plan, **figures):
            self.assertEqual(self.api_count(q='correlation id', status='ERROR')['value'],
                             min(text_search.TEXT_COUNT_CAP,
                                 len(self.expected('correlation id', status={'ERROR'}))))

    def test_count_past_its_budget_says_at_least(self):
        matches = len(self.expected('correlation id'))
        with mock.patch.multiple(text_search, COUNT_BUDGET=4, STREAM_BATCH=2), \
                mock.patch.multiple(text_plan, walk_sees_more=_never,
                                    count_costs=lambda *_args: (10**9, 10**9)):
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

    # -- the bounded walk of the other filters' rows ----------------------------------------------
    def busiest_flow(self) -> tuple[str, int]:
        """The flow with the most responses whose reason holds 'timeout', and how many."""
        counts = {}
        for response_id in self.expected('timeout'):
            flow = self.flow_of[response_id]
            counts[flow] = counts.get(flow, 0) + 1
        return max(counts.items(), key=lambda item: (item[1], item[0]))

    def setUp(self):
        super().setUp()
        rows = db.session.execute(select(Response.response_id,
                                         Response.flow_code,
                                         Response.responded_at)).all()
        self.flow_of = {row.response_id: row.flow_code for row in rows}
        self.time_of = {row.response_id: row.responded_at for row in rows}

    def test_a_walk_of_a_flows_rows_counts_exactly_and_caps(self):
        flow, matches = self.busiest_flow()
        self.assertGreater(matches, 10)
        with mock.patch.multiple(text_plan, SAMPLE=2, walk_sees_more=_always,
                                 count_costs=_not_in_one_statement), \
                mock.patch.object(text_search, '_bounded_walk_count',
                                  wraps=text_search._bounded_walk_count) as walked:
            self.assertEqual(self.api_count(q='timeout', flow=flow),
                             {'value': matches, 'capped': False})
            expected = len(self.expected('timeout', flow_code={flow}, status={'ERROR'}))
            self.assertEqual(self.api_count(q='timeout', flow=flow, status='ERROR'),
                             {'value': expected, 'capped': False})
            with mock.patch.object(text_search, 'TEXT_COUNT_CAP', 10):
                self.assertEqual(self.api_count(q='timeout', flow=flow),
                                 {'value': 10, 'capped': True})
        self.assertEqual(walked.call_count, 3)

    def test_a_walk_cut_short_by_its_budget_says_at_least(self):
        flow, matches = self.busiest_flow()
        flow_rows = sum(1 for code in self.flow_of.values() if code == flow)
        with mock.patch.multiple(text_plan, SAMPLE=2, walk_sees_more=_always,
                                 count_costs=_not_in_one_statement), \
                mock.patch.object(text_search, 'WALK_BUDGET', flow_rows // 2):
            found = self.api_count(q='timeout', flow=flow)
        self.assertTrue(found['capped'])
        self.assertLess(found['value'], matches)
        # the walk's rows are all the flow's: exact
        with mock.patch.multiple(text_plan, SAMPLE=2, walk_sees_more=_always,
                                 count_costs=_not_in_one_statement), \
                mock.patch.object(text_search, 'WALK_BUDGET', flow_rows):
            self.assertEqual(self.api_count(q='timeout', flow=flow),
                             {'value': matches, 'capped': False})

    def test_a_count_over_a_time_range_walks_its_newest_rows(self):
        last = db.session.scalar(select(Response.responded_at).order_by(
            Response.responded_at.desc()).limit(1))
        since = (last - timedelta(days=200)).strftime('%Y-%m-%dT%H:%M:%SZ')
        matches = len([i for i in self.expected('timeout')
                       if self.time_of[i] >= last - timedelta(days=200)])
        rows = sum(1 for at in self.time_of.values() if at >= last - timedelta(days=200))
        self.assertGreater(matches, 5)
        with mock.patch.multiple(text_plan, SAMPLE=2, walk_sees_more=_always,
                                 count_costs=_not_in_one_statement), \
                mock.patch.object(text_search, '_bounded_walk_count',
                                  wraps=text_search._bounded_walk_count) as walked:
            self.assertEqual(self.api_count(q='timeout', **{'from': since}),
                             {'value': matches, 'capped': False})
            with mock.patch.object(text_search, 'TIME_WALK_BUDGET', rows // 3):
                found = self.api_count(q='timeout', **{'from': since})
        self.assertEqual(walked.call_args.args[-1], rows // 3)
        self.assertTrue(found['capped'])
        self.assertLess(found['value'], matches)

    def test_the_walk_and_the_entries_give_the_same_count(self):
        flow, _matches = self.busiest_flow()
        for where in ({'flow': flow}, {'status': 'ERROR'}, {'flow': flow, 'status': 'WARN'}):
            answers = []
            for choice in (_always, _never):
                with mock.patch.multiple(text_plan, SAMPLE=2, walk_sees_more=choice,
                                         count_costs=_not_in_one_statement), \
                        mock.patch.object(text_search, 'COUNT_BUDGET', 10**6):
                    answers.append(self.api_count(q='timeout', **where))
            with self.subTest(**where):
                self.assertEqual(answers[0], answers[1])


class CountChoiceTest(FlowdeskTestCase):
    """How a count chooses, on figures (no database)."""
    CREATE_TABLES = False

    def matches(self, rows, filtered):
        return text_plan.ReasonMatches(None, rows // 2, rows, filtered)

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

    @parameterized.expand([
        # 2M realistic: 'timeout' in 16,050 entries naming 191,800 responses (20M: ten times)
        ('a busy flow keeps 752 of them', 16_050, 752, 24_646, True),
        ('the same flow at 20M', 160_500, 7_520, 246_460, True),
        ('no other filter: both reach the cap', 16_050, 191_800, 2_000_000, False),
        ('status ERROR: both reach the cap', 16_050, 191_800, 337_199, False),
        ('a month of a rarer word', 12_840, 1_067, 166_183, False),
        ('a flow of timeouts: both reach the cap', 16_050, 191_800, 24_646, False),
        ("the sample saw none of the flow's rows", 160_500, 0, 22_743, True),
    ])
    def test_a_count_walks_the_other_filters_rows_where_it_sees_more_matches(
            self, _name, entries, filtered_matches, filtered_rows, walks):
        matches = text_plan.ReasonMatches(None, entries, entries * 12, filtered_matches)
        self.assertIs(text_plan.walk_sees_more(matches, filtered_rows, 1001,
                                               text_search.COUNT_BUDGET,
                                               text_search.WALK_BUDGET), walks)

    @parameterized.expand([
        # NullReference in the last 30 days: 12,840 entries at 2M, 128,630 at 20M
        ('2M', 12_840, 166_183),
        ('20M', 128_630, 1_660_769),
    ])
    def test_a_time_range_alone_is_walked_further(self, _name, entries, filtered_rows):
        """Through the time index rows come many to a page, so a time range alone gets the
        larger budget, and with it the walk sees more than the entries."""
        from app.browse.filters import ResponseFilter
        self.assertEqual(text_search.walk_budget(ResponseFilter(text='x', range='30d')),
                         text_search.TIME_WALK_BUDGET)
        self.assertEqual(text_search.walk_budget(ResponseFilter(text='x', flows=('F1',))),
                         text_search.WALK_BUDGET)
        matches = text_plan.ReasonMatches(None, entries, entries, entries / 12)
        for budget, walks in ((text_search.TIME_WALK_BUDGET, True),
                              (text_search.WALK_BUDGET, False)):
            self.assertIs(text_plan.walk_sees_more(matches, filtered_rows, 1001,
                                                   text_search.COUNT_BUDGET, budget), walks)
