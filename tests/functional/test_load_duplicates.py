"""An identical file is loaded once, also when two loads of it start together: the second,
waiting for the dataset's lock while the first loads, is refused once it has the lock."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import func, select

from app.extensions import db
from app.loading import LoadRequest, run_load, service
from app.loading.outcomes import DuplicateFile
from app.models import BATCH_SUCCEEDED, LoadBatch, Response
from tests.base import ADMIN, ASSETS, FlowdeskTestCase, on_every_backend

LOADS = ASSETS / 'loads'
OTHER_ADMIN = 'CORP\\other.admin'


def request(fixture: str, user: str = ADMIN, mode: str = 'append', **options) -> LoadRequest:
    return LoadRequest(dataset='responses' if fixture.startswith('responses') else 'flows',
                       mode=mode, path=LOADS / fixture, file_name=fixture, user=user, **options)


@on_every_backend
class SimultaneousIdenticalLoadsTest(FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.assertTrue(run_load(request('flows_good.csv')).ok)
        self.real_hold_lock = service.hold_lock

    @contextmanager
    def lock_taken_after_another_load(self, dataset: str, wait_seconds):
        """The dataset's lock, taken only after another admin has loaded the same file: what
        a load sees when it passed its first check and then waited for the lock."""
        service.hold_lock = self.real_hold_lock
        self.other = run_load(request('responses_good.csv', user=OTHER_ADMIN))
        with self.real_hold_lock(dataset, wait_seconds) as lock:
            yield lock

    def test_the_load_that_waited_for_the_lock_is_refused(self):
        service.hold_lock = self.lock_taken_after_another_load
        try:
            with self.assertRaises(DuplicateFile) as refused:
                run_load(request('responses_good.csv'))
        finally:
            service.hold_lock = self.real_hold_lock
        self.assertTrue(self.other.ok)
        self.assertEqual(refused.exception.previous.id, self.other.batch_id)
        self.assertIn(OTHER_ADMIN, str(refused.exception))
        with db.engines['ops'].connect() as connection:
            self.assertEqual(connection.scalar(select(func.count()).select_from(Response)), 5)
            loads = connection.scalars(select(LoadBatch.loaded_by).where(
                LoadBatch.dataset == 'responses', LoadBatch.status == BATCH_SUCCEEDED)).all()
        self.assertEqual(loads, [OTHER_ADMIN])

    def test_a_dry_run_or_a_confirmed_load_again_still_runs(self):
        self.assertTrue(run_load(request('responses_good.csv')).ok)
        self.assertTrue(run_load(request('responses_good.csv', mode='upsert', dry_run=True)).ok)
        again = run_load(request('responses_good.csv', mode='upsert', allow_duplicate=True))
        self.assertTrue(again.ok)
        self.assertIn('5 unchanged', again.message)
