"""Source profiles on the admin pages, on SQLite and PostgreSQL: the upload page recognises a
platform's export by its header and loads it with the profile the admin confirms (or changes);
inboxes name a profile; the editor previews a sample (first rows and every problem), saves with
an audit entry, refuses a bad definition with its reasons; JSON export then import gives the
same profile back; every form needs its CSRF token."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Inbox, LoadBatch, SourceProfile
from app.profiles.builtins import LOGIC_APPS, SAP_CPI, SAP_CPI_DEFINITION
from app.profiles.definition import loads
from tests.base import ADMIN, FlowdeskTestCase, on_every_backend
from tests.csrf_helpers import form_page, token_from
from tests.functional.profiles_support import (
    CPI_FILE,
    CUSTOM,
    LOGIC_APPS_FILE,
    PROFILES,
    add_flows,
    add_profile,
    stored_responses,
)
from tests.functional.test_inbox_admin import audit_events


def upload_file(path: Path, name: str | None = None) -> FileStorage:
    return FileStorage(stream=io.BytesIO(path.read_bytes()), filename=name or path.name,
                       content_type='text/csv')


def hidden_fields(body: str) -> dict[str, str]:
    return dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*type="hidden" value="([^"]*)"', body)
                + re.findall(r'<input[^>]*type="hidden"[^>]*name="(\w+)"[^>]*value="([^"]*)"',
                             body))


@on_every_backend
class UploadRecognitionTests(FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        add_flows()
        self.admin = self.admin_client()

    def upload(self, path: Path, **fields):
        data = {'dataset': 'responses', 'mode': 'upsert', 'encoding': 'auto',
                'file': upload_file(path), **fields}
        return self.admin.post('/admin/loads', data=data, content_type='multipart/form-data')

    def test_a_cpi_export_is_recognised_and_loads_with_the_confirmed_profile(self):
        body = self.assertPageContains(self.upload(CPI_FILE), f'Recognised as {SAP_CPI}',
                                       'sap_cpi_mpl.csv')
        self.assertIn(f'<option value="{SAP_CPI}" selected>', body)
        self.assertEqual(stored_responses(), {})  # nothing loads before the admin confirms
        fields = hidden_fields(body)
        response = self.admin.post('/admin/loads/stored', data={**fields, 'profile': SAP_CPI},
                                   follow_redirects=True)
        page = self.assertPageContains(response, '7 records loaded', 'Skipped 1 row whose '
                                       'Status is PROCESSING')
        self.assertIn(f'<td id="batch-profile">{SAP_CPI}</td>', page)
        self.assertEqual(len(stored_responses()), 7)

    def test_the_admin_can_change_the_recognised_profile(self):
        body = self.upload(CPI_FILE).get_data(as_text=True)
        response = self.admin.post('/admin/loads/stored',
                                   data={**hidden_fields(body), 'profile': ''},
                                   follow_redirects=True)
        self.assertPageContains(response, 'Rejected', 'lacks the required column')
        self.assertEqual(stored_responses(), {})

    def test_a_dry_run_with_a_recognised_profile_stays_a_dry_run(self):
        body = self.upload(LOGIC_APPS_FILE, dry_run='y').get_data(as_text=True)
        self.assertIn(f'Recognised as {LOGIC_APPS}', body)
        response = self.admin.post('/admin/loads/stored',
                                   data={**hidden_fields(body), 'profile': LOGIC_APPS},
                                   follow_redirects=True)
        self.assertPageContains(response, 'Dry run: the file is valid')
        self.assertEqual(stored_responses(), {})
        batch = db.session.scalars(db.select(LoadBatch)).one()
        self.assertEqual((batch.dry_run, batch.profile), (True, LOGIC_APPS))
        # Loading after the dry run maps the file with the same profile.
        page = self.admin.get(f'/admin/batches/{batch.id}').get_data(as_text=True)
        self.assertIn(f'name="profile" type="hidden" value="{LOGIC_APPS}"', page)
        response = self.admin.post('/admin/loads/stored', data=hidden_fields(page),
                                   follow_redirects=True)
        self.assertPageContains(response, '4 records loaded')

    def test_a_chosen_profile_loads_at_once_and_none_means_flowdesks_columns(self):
        response = self.upload(CPI_FILE, profile=SAP_CPI)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(len(stored_responses()), 7)
        response = self.upload(PROFILES / 'sap_cpi_bad_status.csv', profile='*none')
        self.assertEqual(response.status_code, 302)
        batch = db.session.scalars(db.select(LoadBatch).order_by(LoadBatch.id.desc())).first()
        self.assertEqual((batch.status, batch.profile), ('failed', None))

    def test_an_admins_profile_wins_over_a_built_in_one_with_the_same_signature(self):
        add_profile('CPI EU', {**SAP_CPI_DEFINITION, 'columns': {
            **SAP_CPI_DEFINITION['columns'],
            'flow_code': {'lookup': 'IntegrationFlowName', 'unknown': 'reject',
                          'flows': {'SalesOrderReplication': 'ORDER-INTAKE'}}}})
        self.assertPageContains(self.upload(CPI_FILE), 'Recognised as CPI EU')

    def test_a_file_in_flowdesks_own_layout_is_not_recognised(self):
        path = Path(self.databases.folder) / 'own.csv'
        path.write_text('response_id,flow_code,responded_at,status\r\n'
                        '1,ORDER-INTAKE,2026-03-01 10:00:00,OK\r\n', encoding='utf-8')
        response = self.upload(path)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(list(stored_responses()), [1])


@on_every_backend
class ProfileEditorTests(FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        add_flows()
        self.admin = self.admin_client()

    def post_form(self, url: str, definition, name='Plattform', sample: Path | None = None,
                  action='save'):
        data = {'name': name, 'definition': definition if isinstance(definition, str)
                else json.dumps(definition), action: action.title()}
        if sample is not None:
            data['sample'] = upload_file(sample)
        return self.admin.post(url, data=data, content_type='multipart/form-data')

    def test_save_is_audited_and_the_profile_is_used_by_loads(self):
        response = self.post_form('/admin/profiles/new', CUSTOM)
        self.assertEqual(response.status_code, 303, response.get_data(as_text=True)[:3000])
        row = db.session.scalars(db.select(SourceProfile)).one()
        self.assertEqual((row.name, row.dataset, row.updated_by.lower()),
                         ('Plattform', 'responses', ADMIN.lower()))
        self.assertEqual(loads(row.definition).signature, ('Lauf', 'Schnittstelle'))
        event, = audit_events('profile.created')
        self.assertEqual(event.target, 'source profile Plattform')
        self.assertIn('"Schnittstelle"', event.detail)
        changed = {**CUSTOM, 'signature': ['Lauf', 'Schnittstelle', 'Ergebnis']}
        self.assertEqual(self.post_form(f'/admin/profiles/{row.id}/edit', changed,
                                        name='Plattform EU').status_code, 303)
        event, = audit_events('profile.changed')
        self.assertIn('name: Plattform → Plattform EU', event.detail)
        self.assertIn('"Ergebnis"', event.detail)
        self.assertPageContains(self.admin.get('/admin/profiles'), 'Plattform EU',
                                'Lauf, Schnittstelle, Ergebnis', SAP_CPI, LOGIC_APPS)

    def test_a_bad_definition_is_refused_with_every_reason(self):
        bad = {**CUSTOM, 'timestamps': {'format': 'unix'}, 'columns': {'status': {'source': 'E'}}}
        body = self.assertPageContains(self.post_form('/admin/profiles/new', bad),
                                       'timestamps.format', 'Every required column needs a '
                                       'mapping', status=400)
        self.assertNotIn('Traceback', body)
        self.assertPageContains(self.post_form('/admin/profiles/new', '{"dataset": '),
                                'not valid JSON', status=400)
        self.assertPageContains(self.post_form('/admin/profiles/new', CUSTOM, name=SAP_CPI),
                                'name of a built-in profile', status=400)
        self.assertEqual(db.session.scalars(db.select(SourceProfile)).all(), [])

    def test_preview_shows_the_first_rows_mapped_and_every_problem(self):
        sample = Path(self.databases.folder) / 'sample.csv'
        lines = ['Lauf;Schnittstelle;Beginn;Ende;Ergebnis']
        lines += [f'{n};Bestellungen an SAP;01.03.2026 09:00:00;01.03.2026 09:00:0{n % 10};ok'
                  for n in range(1, 26)]
        lines += ['99;Preislisten;01.03.2026 09:00:00;01.03.2026 09:00:01;vielleicht']
        sample.write_text('\r\n'.join(lines) + '\r\n', encoding='utf-8')
        response = self.post_form('/admin/profiles/new', CUSTOM, sample=sample, action='preview')
        body = self.assertPageContains(response, 'Preview: 26 rows read, 2 problems',
                                       'Schnittstelle Preislisten is not in the source',
                                       'Ergebnis vielleicht is not in the source')
        rows = body[body.index('id="preview-rows"'):]
        self.assertEqual(rows.count('<tr><td>'), 20)
        self.assertIn('<td>SALESORDERREPLICATION</td>', rows)
        self.assertEqual(db.session.scalars(db.select(SourceProfile)).all(), [])
        self.assertEqual(stored_responses(), {})

    def test_a_built_in_profile_previews_and_copies(self):
        response = self.admin.post('/admin/profiles/builtin/1',
                                   data={'preview': 'Preview', 'sample': upload_file(CPI_FILE)},
                                   content_type='multipart/form-data')
        self.assertPageContains(response, 'Preview: 8 rows read, 0 problems',
                                'Skipped 1 row whose Status is PROCESSING')
        response = self.admin.post('/admin/profiles/builtin/1/copy')
        self.assertEqual(response.status_code, 303)
        row = db.session.scalars(db.select(SourceProfile)).one()
        self.assertEqual(row.name, f'{SAP_CPI} (copy)')
        self.assertEqual(response.location, f'/admin/profiles/{row.id}/edit')

    def test_export_then_import_gives_the_same_profile(self):
        row = add_profile('Plattform', CUSTOM)
        exported = self.admin.get(f'/admin/profiles/{row.id}/export.json')
        self.assertEqual(exported.mimetype, 'application/json')
        self.assertIn('attachment; filename="profile-Plattform.json"',
                      exported.headers['Content-Disposition'])
        document = exported.get_data()
        before = loads(row.definition)

        def import_(replace=False):
            data = {'file': FileStorage(io.BytesIO(document), 'profile.json',
                                        content_type='application/json')}
            if replace:
                data['replace'] = 'y'
            return self.admin.post('/admin/profiles/import', data=data,
                                   content_type='multipart/form-data', follow_redirects=True)
        self.assertPageContains(import_(), 'Another profile has this name', 'Tick')
        self.assertPageContains(import_(replace=True), 'Source profile Plattform imported.')
        db.session.delete(db.session.get(SourceProfile, row.id))
        db.session.commit()
        self.assertPageContains(import_(), 'Source profile Plattform imported.')
        again = db.session.scalars(db.select(SourceProfile)).one()
        self.assertEqual(loads(again.definition), before)
        self.assertEqual(len(audit_events('profile.imported')), 2)

    def test_a_built_in_export_imports_as_an_editable_profile_under_another_name(self):
        document = json.loads(self.admin.get('/admin/profiles/builtin/2/export.json').get_data())
        self.assertEqual(document['name'], LOGIC_APPS)
        document['name'] = 'Logic Apps EU'
        response = self.admin.post('/admin/profiles/import', data={'file': FileStorage(
            io.BytesIO(json.dumps(document).encode()), 'p.json')},
            content_type='multipart/form-data', follow_redirects=True)
        self.assertPageContains(response, 'Source profile Logic Apps EU imported.')
        self.assertPageContains(self.admin.post('/admin/profiles/import', data={
            'file': FileStorage(io.BytesIO(b'{"name": "x"}'), 'p.json')},
            content_type='multipart/form-data', follow_redirects=True),
            'not a Flowdesk source profile export')

    def test_delete_is_refused_while_an_inbox_uses_the_profile(self):
        row = add_profile('Plattform', CUSTOM)
        db.session.add(Inbox(name='eu', folder=str(self.databases.folder), dataset='responses',
                             mode='upsert', pattern='*.csv', profile='Plattform'))
        db.session.commit()
        response = self.admin.post(f'/admin/profiles/{row.id}/delete', follow_redirects=True)
        self.assertPageContains(response, 'is used by the inbox eu')
        db.session.execute(db.update(Inbox).values(profile=None))
        db.session.commit()
        self.admin.post(f'/admin/profiles/{row.id}/delete')
        self.assertEqual(db.session.scalars(db.select(SourceProfile)).all(), [])
        self.assertEqual(len(audit_events('profile.deleted')), 1)

    def test_an_inbox_names_a_profile_of_its_dataset(self):
        folder = str(Path(self.databases.folder))
        data = {'name': 'sap', 'folder': folder, 'dataset': 'responses', 'mode': 'upsert',
                'pattern': '*.csv', 'profile': SAP_CPI, 'active': 'y'}
        self.assertEqual(self.admin.post('/admin/inboxes/new', data=data).status_code, 303)
        inbox = db.session.scalars(db.select(Inbox)).one()
        self.assertEqual(inbox.profile, SAP_CPI)
        self.assertIn(f'source profile {SAP_CPI}', audit_events('inbox.created')[0].detail)
        self.assertPageContains(self.admin.get('/admin/inboxes'), f'mapped by {SAP_CPI}')
        response = self.admin.post(f'/admin/inboxes/{inbox.id}/edit',
                                   data={**data, 'dataset': 'flows'})
        self.assertPageContains(response, 'This profile maps files to responses, not to flows')
        self.admin.post(f'/admin/inboxes/{inbox.id}/edit', data={**data, 'profile': ''})
        db.session.expire_all()
        self.assertIsNone(db.session.get(Inbox, inbox.id).profile)

    def test_viewers_cannot_see_or_change_profiles(self):
        row = add_profile('Plattform', CUSTOM)
        for url in ('/admin/profiles', '/admin/profiles/new', f'/admin/profiles/{row.id}/edit',
                    f'/admin/profiles/{row.id}/export.json', '/admin/profiles/builtin/1'):
            self.assertEqual(self.client.get(url).status_code, 403, url)
        self.assertEqual(self.client.post(f'/admin/profiles/{row.id}/delete').status_code, 403)


class ProfileCsrfTests(FlowdeskTestCase):
    SETTINGS = {'WTF_CSRF_ENABLED': 'yes'}

    def test_every_profile_form_needs_the_pages_token(self):
        profile_id = add_profile('Plattform', CUSTOM).id
        admin = self.admin_client()
        form_page(admin, '/admin/profiles')
        for url in (f'/admin/profiles/{profile_id}/delete', '/admin/profiles/builtin/1/copy',
                    '/admin/profiles/builtin/1'):
            self.assertEqual(admin.post(url).status_code, 400, url)
        response = admin.post(f'/admin/profiles/{profile_id}/edit',
                              data={'name': 'Other', 'definition': json.dumps(CUSTOM),
                                    'save': 'Save'})
        self.assertEqual(response.status_code, 400)
        db.session.expire_all()
        self.assertEqual(db.session.get(SourceProfile, profile_id).name, 'Plattform')
        token = token_from(admin, '/admin/profiles')
        response = admin.post(f'/admin/profiles/{profile_id}/delete', data={'csrf_token': token})
        self.assertEqual(response.status_code, 303)
        db.session.expire_all()
        self.assertIsNone(db.session.get(SourceProfile, profile_id))
