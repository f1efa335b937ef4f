"""The dashboard: figures that agree with the rows, the "failing now" rule stated, links into
the filtered list, the chart fed from the daily summary, and an empty state that says what to
do."""
import json
import re
from collections import Counter
from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.browse import dashboard
from app.clock import utc_now
from app.extensions import db
from app.models import Response
from tests.base import FlowdeskTestCase, on_every_backend
from tests.functional.browse_data import SeededTestCase


@on_every_backend
class DashboardTests(SeededTestCase):
    def test_last_24_hours_match_the_rows(self):
        now = utc_now()
        body = self.assertPageContains(self.client.get('/'), 'Responses, last 24 h')
        expected = self.count_where(Response.responded_at >= now - timedelta(hours=24),
                                    Response.responded_at < now)
        shown = re.search(r'id="responses-24h">([\d,]+)<', body).group(1)
        # A request crossing a second boundary may see one row more or less.
        self.assertAlmostEqual(int(shown.replace(',', '')), expected, delta=2)
        self.assertIn('href="/responses?range=24h"', body)

    def test_failing_now_rule_is_stated_and_applied(self):
        body = self.assertPageContains(self.client.get('/'), 'id="failing-rule"')
        self.assertIn(f'at least {dashboard.FAILING_MIN_RESPONSES} responses in the last 3 hours',
                      body)
        now = utc_now()
        for flow in dashboard.failing_now(now):
            self.assertGreaterEqual(flow.responses, dashboard.FAILING_MIN_RESPONSES)
            self.assertGreaterEqual(flow.error_rate, dashboard.FAILING_ERROR_SHARE)
            self.assertIn(f'href="/responses?flow={flow.flow_code}&amp;range=24h"', body)

    def test_chart_data_comes_from_the_summary_and_adds_up(self):
        for days in (30, 90):
            body = self.assertPageContains(self.client.get(f'/?days={days}'),
                                           'vendor/chartjs/chart.umd.min.js', 'js/charts.js')
            raw = re.search(r"data-chart='([^']*)'", body).group(1)
            chart = json.loads(raw.replace('&#34;', '"').replace('&quot;', '"'))
            self.assertEqual(len(chart['labels']), days)
            self.assertEqual([s['status'] for s in chart['series']], ['OK', 'WARN', 'ERROR'])
            shown = sum(sum(s['counts']) for s in chart['series'])
            first_day = utc_now().date() - timedelta(days=days - 1)
            expected = self.count_where(
                Response.responded_at >= datetime.combine(first_day, time.min))
            self.assertEqual(shown, expected)

    def test_top_lists_link_to_the_filtered_list(self):
        body = self.client.get('/').get_data(as_text=True)
        self.assertRegex(body, r'href="/responses\?flow=[A-Z0-9_-]+&amp;status=ERROR&amp;range=7d"')
        self.assertRegex(body, r'href="/responses\?q=[^"]+&amp;status=ERROR&amp;range=24h"')

    def test_top_error_reasons_are_the_most_frequent_of_the_last_24_hours(self):
        now = utc_now()
        counts = Counter(reason for (reason,) in db.session.execute(
            select(Response.error_reason).where(Response.status == 'ERROR',
                                                Response.responded_at >= now - timedelta(hours=24),
                                                Response.error_reason.is_not(None))))
        shown = dashboard.top_error_reasons(now)
        expected = sorted(counts.values(), reverse=True)[:dashboard.TOP_LIMIT]
        self.assertTrue(shown)
        self.assertEqual([count for _reason, count in shown], expected)
        for reason, count in shown:
            self.assertEqual(counts[reason], count, reason)
        # every reason more frequent than the last one shown is shown
        self.assertEqual({reason for reason, count in counts.items() if count > expected[-1]},
                         {reason for reason, count in shown if count > expected[-1]})

    def test_bad_chart_period_is_a_clear_400(self):
        response = self.client.get('/?days=45')
        self.assertPageContains(response, 'The chart shows 30 or 90 days.', status=400)

    def test_no_inline_script_or_style(self):
        body = self.client.get('/').get_data(as_text=True)
        self.assertNotRegex(body, r'<script(?![^>]*\bsrc=)[^>]*>')
        self.assertNotIn(' style="', body)
        self.assertNotIn('<style', body)


@on_every_backend
class EmptyDashboardTests(FlowdeskTestCase):
    def test_empty_state_says_what_to_do(self):
        body = self.assertPageContains(self.client.get('/'), 'No responses yet')
        self.assertIn('An admin can load data on the Load data page', body)
        self.assertNotIn('daily-chart', body)

    def test_anonymous_is_refused(self):
        self.assertEqual(self.client_for(None).get('/').status_code, 401)
