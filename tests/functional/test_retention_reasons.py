"""Retention and the error-reason dictionary: a purge removes the reasons no stored response
names any more (so search does not slow down for as long as Flowdesk runs), keeps every one a
stored row names, and loading an archive back or undoing a load brings the reasons of its rows
back, so a search finds them by lookup as well as by walking."""
from __future__ import annotations

import re
from unittest import mock

from sqlalchemy import select

from app.browse import text_plan
from app.error_reasons import reason_hash
from app.extensions import db
from app.loading import LoadRequest, run_load, undo_batch
from app.models import AuditEvent, ErrorReason, Response
from tests.base import ADMIN, on_every_backend
from tests.functional.test_retention import HEADER, RetentionTestCase

#: Recent responses (well inside the retention period) whose reasons an upsert changes.
CHANGED = range(1, 6)


def stored(column) -> set:
    with db.engines['ops'].connect() as connection:
        return set(connection.scalars(select(column)))


@on_every_backend
class PurgedReasonsTests(RetentionTestCase):
    def named_hashes(self) -> set[int]:
        return stored(Response.reason_hash) - {None}

    def found_by_lookup(self, text: str) -> list[int]:
        with mock.patch.object(text_plan, 'page_strategy', lambda *_args: text_plan.LOOKUP):
            response = self.client.get('/api/v1/responses', query_string={'q': text})
        self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
        return [item['response_id'] for item in response.get_json()['items']]

    def test_a_purge_keeps_exactly_the_reasons_stored_rows_name(self):
        self.assertEqual(stored(ErrorReason.reason_hash), self.named_hashes())
        oldest = db.session.execute(select(Response.response_id, Response.error_reason).where(
            Response.error_reason.is_not(None)).order_by(Response.responded_at)).first()
        before = len(stored(ErrorReason.reason_hash))

        output = self.purge()
        kept = stored(ErrorReason.reason_hash)
        self.assertEqual(kept, self.named_hashes())
        self.assertLess(len(kept), before)
        self.assertNotIn(reason_hash(oldest.error_reason), kept)
        self.assertIn(f'{before - len(kept):,} error reasons no response names any more', output)
        removed = sum(int(re.search(r'([\d,]+) error reasons no stored response names',
                                    detail).group(1).replace(',', ''))
                      for detail in db.session.scalars(select(AuditEvent.detail).where(
                          AuditEvent.action == 'responses.purged')))
        self.assertEqual(removed, before - len(kept))

        self.reload_archives()
        self.assertEqual(stored(ErrorReason.reason_hash), self.named_hashes())
        self.assertEqual(self.found_by_lookup(oldest.error_reason), [oldest.response_id])

    def upsert(self, name: str, rows: dict[int, str]) -> int:
        """Give stored responses new reasons (an upsert of those rows, as an ERROR each)."""
        path = self.work / name
        with open(path, 'w', encoding='utf-8', newline='') as handle:
            handle.write(HEADER)
            for number, reason in sorted(rows.items()):
                row = db.session.get(Response, number)
                handle.write(f'{number},{row.flow_code},{row.responded_at.isoformat(" ")},ERROR,'
                             f'500,{row.duration_ms},"{reason}",,,\r\n')
        db.session.remove()
        outcome = run_load(LoadRequest(dataset='responses', mode='upsert', path=path,
                                       file_name=name, user=ADMIN))
        self.assertEqual(outcome.status, 'succeeded', outcome.message)
        return outcome.batch_id

    def test_undo_after_a_purge_brings_back_the_reasons_of_the_rows_it_restores(self):
        """A recent row takes the reason of an old one, then another; the purge deletes the old
        row, so no stored row names that reason and it leaves the dictionary; undoing the
        second change gives the recent row that reason again, and its entry comes back."""
        old = db.session.execute(select(Response.response_id, Response.error_reason).where(
            Response.error_reason.is_not(None)).order_by(Response.responded_at)).first()
        recent = CHANGED[0]
        self.upsert('same-as-old.csv', {recent: old.error_reason})
        changed = self.upsert('changed.csv', {recent: 'Changed reason'})

        self.purge()
        self.assertNotIn(reason_hash(old.error_reason), stored(ErrorReason.reason_hash))

        undo_batch(changed, ADMIN)
        self.assertEqual(db.session.get(Response, recent).error_reason, old.error_reason)
        # every stored row's reason has its entry (the undone reason waits for its last row)
        self.assertLessEqual(self.named_hashes(), stored(ErrorReason.reason_hash))
        self.assertEqual(self.found_by_lookup(old.error_reason), [recent])
