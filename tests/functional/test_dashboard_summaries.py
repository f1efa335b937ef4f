"""The dashboard's own summaries: the day totals (``response_day_totals``, the daily summary
summed over flows) and the hours (``response_hourly``). Every load, undo and seed keeps them in
step with the rows; a purge leaves them alone, like the daily summary; and the figures the
dashboard reads from them equal the figures counted from the rows."""
import re
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from app.browse import dashboard
from app.browse.daily import daily_rows
from app.browse.responses import total_responses
from app.clock import utc_now
from app.extensions import db
from app.loading import undo_batch
from app.models import Flow, Response, ResponseDaily, ResponseDayTotal, ResponseHourly
from app.seeding import seed_demo
from tests.base import ADMIN, FlowdeskTestCase, on_every_backend
from tests.functional.test_retention import ROWS, RetentionTestCase, write_responses

HOUR = timedelta(hours=1)
CHART = re.compile(r"data-chart='([^']*)'")


def stored_summaries() -> tuple[dict, dict]:
    """(day totals, hours) as stored, read on a fresh connection."""
    with db.engines['ops'].connect() as connection:
        totals = {(row.day, row.status): (row.responses, row.duration_ms_sum)
                  for row in connection.execute(select(ResponseDayTotal))}
        hours = {(row.day, row.hour, row.status): row.responses
                 for row in connection.execute(select(ResponseHourly))}
    return totals, hours


def expected_summaries() -> tuple[dict, dict]:
    """The same, worked out the slow way: the daily summary summed over flows, and every row
    counted by its hour."""
    with db.engines['ops'].connect() as connection:
        daily = ResponseDaily.__table__.c
        totals = {(day, status): (int(responses), None if duration is None else int(duration))
                  for day, status, responses, duration in connection.execute(
                      select(daily.day, daily.status, func.sum(daily.responses),
                             func.sum(daily.duration_ms_sum)).group_by(daily.day, daily.status))}
        hours = Counter((moment.date(), moment.hour, status) for moment, status in
                        connection.execute(select(Response.responded_at, Response.status)))
    return totals, dict(hours)


class SummaryAssertions:
    def assertSummariesInStep(self):
        totals, hours = stored_summaries()
        self.assertEqual((totals, hours), expected_summaries())
        self.assertEqual(total_responses(), sum(count for count, _ in totals.values()))

    def assertPeriodMatchesRows(self, start, end):
        counted = db.session.scalar(select(func.count()).where(
            Response.responded_at >= start, Response.responded_at < end))
        errors = db.session.scalar(select(func.count()).where(
            Response.responded_at >= start, Response.responded_at < end,
            Response.status == 'ERROR'))
        found = dashboard.period(start, end)
        self.assertEqual((found.responses, found.errors), (counted, errors), (start, end))


@on_every_backend
class SummariesFollowWritesTests(SummaryAssertions, RetentionTestCase):
    """600 responses over 150 days loaded by RetentionTestCase.setUp, then more."""

    def test_a_load_and_its_undo(self):
        self.assertSummariesInStep()
        self.assertEqual(total_responses(), ROWS)
        # one response every 15 minutes over the last 50 hours: every hour of the comparison
        write_responses(self.work / 'recent.csv', range(7001, 7201), lambda n: (n - 7000) / 4)
        recent = self.load(self.work / 'recent.csv')
        self.assertSummariesInStep()
        self.assertEqual(total_responses(), ROWS + 200)
        self.assertEqual(undo_batch(recent, ADMIN).status, 'succeeded')
        self.assertSummariesInStep()
        self.assertEqual(total_responses(), ROWS)

    def test_a_purge_leaves_the_summaries_and_the_total_shown(self):
        before = stored_summaries()
        chart = CHART.search(self.client.get('/?days=90').get_data(as_text=True)).group(1)
        self.purge()
        self.assertEqual(stored_summaries(), before)
        self.assertLess(db.session.scalar(select(func.count()).select_from(Response)), ROWS)
        self.assertEqual(total_responses(), ROWS)
        body = self.client.get('/?days=90').get_data(as_text=True)
        self.assertIn(f'{ROWS:,} responses in all', body)
        self.assertEqual(CHART.search(body).group(1), chart)

    def test_last_24_hours_against_the_rows_at_any_hour_boundary(self):
        write_responses(self.work / 'recent.csv', range(7001, 7201), lambda n: (n - 7000) / 4)
        self.load(self.work / 'recent.csv')
        now = utc_now()
        hour = now.replace(minute=0, second=0, microsecond=0)
        windows = [
            (now - 24 * HOUR, now), (now - 48 * HOUR, now - 24 * HOUR),   # the dashboard's
            (hour - 24 * HOUR, hour),                                     # whole hours only
            (hour - 30 * HOUR + 17 * HOUR / 60, hour - HOUR / 2),          # part-hours at both ends
            (hour - HOUR + HOUR / 6, hour - HOUR / 4),                    # within one hour
            (hour - 2 * HOUR, hour - HOUR + HOUR / 3),                    # one whole hour
            (hour - HOUR, hour - HOUR),                                   # empty
        ]
        for start, end in windows:
            self.assertPeriodMatchesRows(start, end)
        # all at once (one statement), as the dashboard asks for its two windows
        self.assertEqual(dashboard.periods(*windows),
                         [dashboard.period(start, end) for start, end in windows])

    def test_day_totals_answer_the_daily_figures_of_every_flow(self):
        """The API's and the chart's daily rows over every flow (from the day totals) equal
        the daily summary summed over all flows by name, durations included."""
        write_responses(self.work / 'recent.csv', range(7001, 7201), lambda n: (n - 7000) / 4)
        self.load(self.work / 'recent.csv')
        today = utc_now().date()
        codes = list(db.session.scalars(select(Flow.flow_code)))
        with self.app.test_request_context('/'):
            for statuses in (None, ['ERROR'], ['OK', 'WARN']):
                self.assertEqual(
                    daily_rows(today - timedelta(days=200), today, statuses=statuses),
                    daily_rows(today - timedelta(days=200), today, flow_codes=codes,
                               statuses=statuses))


@on_every_backend
class SummariesFollowSeedTests(SummaryAssertions, FlowdeskTestCase):
    def test_seed_and_reseed(self):
        seed_demo(responses=800, flows=6, force=True)
        self.assertSummariesInStep()
        seed_demo(responses=300, flows=4, force=True)
        self.assertSummariesInStep()
        self.assertEqual(total_responses(), 300)

    def test_top_failing_flows_agree_with_the_daily_summary(self):
        seed_demo(responses=3000, flows=12, force=True)
        today = utc_now().date()
        first = today - timedelta(days=dashboard.TOP_DAYS - 1)
        totals, errors = Counter(), Counter()
        for row in db.session.execute(select(ResponseDaily).where(ResponseDaily.day >= first)):
            daily = row[0]
            totals[daily.flow_code] += daily.responses
            errors[daily.flow_code] += daily.responses if daily.status == 'ERROR' else 0
        expected = sorted((code for code in errors if errors[code]),
                          key=lambda code: (-errors[code], code))[:dashboard.TOP_LIMIT]
        found = dashboard.top_failing_flows(today)
        self.assertGreater(len(found), 1)
        self.assertEqual([(flow.flow_code, flow.responses, flow.errors) for flow in found],
                         [(code, totals[code], errors[code]) for code in expected])
