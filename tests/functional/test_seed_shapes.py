"""``flask seed-demo --shape realistic``: the shape production data has (hundreds of flows, a
year, 20 % WARN/ERROR, error reasons that are mostly distinct), written through the loads' bulk
writer; the quick-start demo shape stays the default."""
import itertools
from datetime import datetime, timedelta
from unittest import mock

from sqlalchemy import func, inspect, select

from app.demo_data import iter_responses
from app.demo_shapes import SHAPES
from app.extensions import db
from app.models import ErrorReason, Flow, Response, ResponseDaily
from app.seeding import seed_demo
from tests.base import FlowdeskTestCase, on_every_backend

UNTIL = datetime(2026, 11, 20, 12, 0, 0)


def non_ok_reasons(shape: str, rows: int) -> list[str]:
    profile = SHAPES[shape]
    flows = profile.make_flows()
    return [row[6] for row in iter_responses(flows, rows, until=UNTIL, seed=7,
                                             **profile.response_options()) if row[3] != 'OK']


class RealisticReasonTests(FlowdeskTestCase):
    CREATE_TABLES = False

    def test_at_least_40_percent_of_non_ok_reasons_are_distinct(self):
        reasons = non_ok_reasons('realistic', 20_000)
        self.assertGreaterEqual(len(set(reasons)) / len(reasons), 0.4)
        # ids, numbers, paths and times in them, not only a suffix counter
        text = '\n'.join(reasons)
        for piece in ('correlation id ', '/data/interfaces/', ' ms, attempt ', '[job '):
            self.assertIn(piece, text)

    def test_a_fifth_of_the_rows_are_warn_or_error(self):
        reasons = non_ok_reasons('realistic', 20_000)
        self.assertAlmostEqual(len(reasons) / 20_000, 0.20, delta=0.03)

    def test_the_demo_shape_keeps_few_distinct_reasons(self):
        reasons = non_ok_reasons('demo', 20_000)
        self.assertLess(len(set(reasons)), 0.2 * len(reasons))


@on_every_backend
class SeedRealisticShapeTests(FlowdeskTestCase):
    def seed(self, *args):
        result = self.app.test_cli_runner().invoke(
            args=['seed-demo', '--until', UNTIL.strftime('%Y-%m-%d %H:%M:%S'), *args])
        self.assertEqual(result.exit_code, 0, result.output)
        return result.output

    def test_realistic_shape_spans_a_year_of_hundreds_of_flows(self):
        output = self.seed('--shape', 'realistic', '--responses', '6000')
        self.assertIn('Seeded 500 flows and 6,000 responses', output)
        self.assertEqual(db.session.scalar(select(func.count()).select_from(Flow)), 500)
        first, last = db.session.execute(
            select(func.min(Response.responded_at), func.max(Response.responded_at))).one()
        self.assertLess(first, UNTIL - timedelta(days=360))
        self.assertGreaterEqual(first, UNTIL - timedelta(days=365))
        self.assertLessEqual(last, UNTIL)
        non_ok = db.session.scalar(select(func.count()).where(Response.status != 'OK'))
        distinct = db.session.scalar(select(func.count(func.distinct(Response.error_reason))))
        self.assertGreaterEqual(distinct / non_ok, 0.4)
        # the bulk writer kept the reason dictionary and the daily summary as a load does
        self.assertEqual(db.session.scalar(select(func.count()).select_from(ErrorReason)),
                         distinct)
        self.assertEqual(db.session.scalar(select(func.sum(ResponseDaily.responses))), 6000)

    def test_days_sets_the_span_of_the_responses(self):
        output = self.seed('--shape', 'realistic', '--responses', '3000', '--days', '30')
        self.assertIn(f'from {UNTIL - timedelta(days=30):%Y-%m-%d %H:%M} to', output)
        first, last = db.session.execute(
            select(func.min(Response.responded_at), func.max(Response.responded_at))).one()
        self.assertGreaterEqual(first, UNTIL - timedelta(days=30))
        self.assertLess(first, UNTIL - timedelta(days=29))
        self.assertLessEqual(last, UNTIL)
        self.assertEqual(db.session.scalar(select(func.count(func.distinct(
            ResponseDaily.day)))), 31)

    def test_days_out_of_range_is_refused_before_anything_changes(self):
        result = self.app.test_cli_runner().invoke(args=['seed-demo', '--days', '0'])
        self.assertNotEqual(result.exit_code, 0)
        self.assertIn("Invalid value for '--days'", result.output)
        self.assertEqual(db.session.scalar(select(func.count()).select_from(Response)), 0)

    def test_demo_shape_is_the_default(self):
        self.assertIn('Seeded 40 flows and 500 responses', self.seed('--responses', '500'))
        first = db.session.scalar(select(func.min(Response.responded_at)))
        self.assertGreaterEqual(first, UNTIL - timedelta(days=60))


@on_every_backend
@mock.patch('app.seeding.REBUILD_INDEXES_MIN_ROWS', 0)
class SeedIndexTests(FlowdeskTestCase):
    """On PostgreSQL a seed drops the responses table's secondary indexes and builds them once
    at the end (app.seeding.indexes_built_at_the_end); every index must come back as it was,
    and a seed that fails midway must leave the table and its indexes untouched."""

    def indexes(self) -> list:
        engine = db.engines['ops']
        found = inspect(engine).get_indexes('responses', schema=self.app.config['OPS_SCHEMA'])
        return sorted((index['name'], tuple(index['column_names']), bool(index['unique']),
                       sorted((key, str(value)) for key, value in index.get('dialect_options', {}).items()))
                      for index in found)

    def test_the_indexes_are_the_same_after_a_seed(self):
        before = self.indexes()
        self.assertGreaterEqual(len(before), 8)
        seed_demo(responses=3000, until=UNTIL, force=True, shape='realistic')
        self.assertEqual(self.indexes(), before)
        # and they are used: a flow's newest rows come from ix_responses_flow_time
        flow = db.session.scalar(select(Response.flow_code).limit(1))
        newest = db.session.scalars(select(Response.response_id).where(
            Response.flow_code == flow).order_by(Response.responded_at.desc()).limit(3)).all()
        self.assertEqual(len(newest), 3)

    def test_a_failed_seed_leaves_the_data_and_the_indexes_as_they_were(self):
        seed_demo(responses=500, until=UNTIL, force=True)
        before = self.indexes()
        db.session.remove()

        def broken(*args, **kwargs):
            yield from itertools.islice(iter_responses(*args, **kwargs), 50_000 - 1)
            raise RuntimeError('generator failed')

        with mock.patch('app.seeding.iter_responses', broken), \
                self.assertRaisesRegex(RuntimeError, 'generator failed'):
            seed_demo(responses=50_000, until=UNTIL, force=True, shape='realistic')
        self.assertEqual(self.indexes(), before)
        self.assertEqual(db.session.scalar(select(func.count()).select_from(Response)), 500)
        self.assertEqual(db.session.scalar(select(func.count()).select_from(Flow)), 40)
