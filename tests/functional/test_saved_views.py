"""Saved views through HTTP: filter → view → the same rows (pages and API), normalisation and
versions, the personal default, the Views menu, and the sharing rules."""
from __future__ import annotations

from unittest import mock
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import delete, select

from app.extensions import db
from app.models import Flow, Response, SavedView
from app.saved_views import querystring
from tests.base import VIEWER, on_every_backend
from tests.csrf_helpers import token_from
from tests.functional.browse_data import SeededTestCase

OTHER = 'CORP\\other'


class SavedViewCase(SeededTestCase):
    """Demo data once per class; saved views emptied before each test."""

    @staticmethod
    def empty_tables() -> None:
        db.session.remove()
        db.session.execute(delete(SavedView))
        db.session.commit()

    def save(self, client, query: str, name: str = 'My view', page: str = 'responses',
             shared: bool = False, status: int = 302):
        data = {'name': name, 'page': page, 'query': query, 'next': f'/{page}'}
        if shared:
            data['shared'] = 'y'
        response = client.post('/views', data=data)
        self.assertEqual(response.status_code, status, response.get_data(as_text=True)[:500])
        return self.view_named(name)

    @staticmethod
    def view_named(name: str) -> SavedView | None:
        db.session.expire_all()
        return db.session.scalars(select(SavedView).where(SavedView.name == name)).first()

    def api_ids(self, client, query: str) -> list[int]:
        response = client.get(f'/api/v1/responses?{query}&size=500')
        self.assertEqual(response.status_code, 200, response.get_json())
        return [item['response_id'] for item in response.get_json()['items']]

    def opened_args(self, client, view_id: int, page: str = 'responses'):
        response = client.get(f'/{page}?view={view_id}')
        self.assertEqual(response.status_code, 302, response.get_data(as_text=True)[:500])
        location = urlsplit(response.location)
        self.assertEqual(location.path, f'/{page}')
        return parse_qsl(location.query), client.get(response.location).get_data(as_text=True)

    def error_flow(self) -> str:
        return db.session.scalars(select(Response.flow_code).where(Response.status == 'ERROR')
                                  .order_by(Response.flow_code)).first()


@on_every_backend
class SavedViewRoundTripTests(SavedViewCase):

    def test_filter_to_view_to_the_same_rows(self):
        flow = self.error_flow()
        query = f'flow={flow}&status=ERROR&status=WARN&sort=oldest'
        expected = self.api_ids(self.client, query)
        self.assertTrue(expected)
        view = self.save(self.client, query, 'Failing oldest first')
        args, page = self.opened_args(self.client, view.id)
        self.assertEqual(args, [('flow', flow), ('status', 'WARN'), ('status', 'ERROR'),
                                ('sort', 'oldest')])
        self.assertIn('Showing the saved view', page)
        self.assertIn(f'<a href="/responses/{expected[0]}"', page)
        self.assertEqual(self.api_ids(self.client, f'view={view.id}'), expected)
        answer = self.client.get(f'/api/v1/responses?view={view.id}&size=500').get_json()
        self.assertEqual(answer['view'], {'id': view.id, 'name': 'Failing oldest first',
                                          'not_kept': []})

    def test_query_is_normalised_when_saved(self):
        flow = self.error_flow()
        view = self.save(self.client, f'status=error,ok&flow={flow.lower()}&size=50'
                                      '&cursor=abc&view=7&page=3')
        self.assertEqual(view.query, f'flow={flow}&status=OK&status=ERROR')
        self.assertEqual(view.query_version, querystring.QUERY_VERSION)

    def test_filters_with_errors_are_not_saved(self):
        response = self.client.post('/views', data={'name': 'Short', 'page': 'responses',
                                                    'query': 'q=ab', 'next': '/responses?q=ab'})
        self.assertEqual(response.location, '/responses?q=ab')
        self.assertIsNone(self.view_named('Short'))
        page = self.client.get('/flows').get_data(as_text=True)
        self.assertIn('were not saved', page)
        self.assertIn('Search text needs at least 3 characters', page)

    def test_renamed_filter_still_opens_the_same_rows(self):
        """A view saved before a parameter was renamed (here: ``code`` → ``result_code`` in a
        version 2 of the format) opens under the new name."""
        expected = self.api_ids(self.client, 'result_code=503')
        self.assertTrue(expected)
        db.session.add(SavedView(owner_login=VIEWER, name='Old 503s', page='responses',
                                 query='code=503', query_version=1, shared=False,
                                 owner_default=False))
        db.session.commit()
        view = self.view_named('Old 503s')
        with mock.patch.object(querystring, 'RENAMES', {2: {'responses': {'code': 'result_code'}}}), \
                mock.patch.object(querystring, 'QUERY_VERSION', 2):
            args, page = self.opened_args(self.client, view.id)
            self.assertEqual(self.api_ids(self.client, f'view={view.id}'), expected)
        self.assertEqual(args, [('result_code', '503')])
        self.assertNotIn('Not kept', page)

    def test_says_plainly_what_it_could_not_keep(self):
        db.session.add(SavedView(owner_login=VIEWER, name='Stale', page='responses',
                                 query='status=ERROR&colour=red&flow=GONE-FLOW', query_version=1,
                                 shared=False, owner_default=False))
        db.session.commit()
        view = self.view_named('Stale')
        args, page = self.opened_args(self.client, view.id)
        self.assertEqual(args, [('status', 'ERROR')])
        self.assertIn('colour=red', page)
        self.assertIn('is no longer a filter of this page', page)
        self.assertIn('There is no flow GONE-FLOW', page)
        answer = self.client.get(f'/api/v1/views/{view.id}').get_json()
        self.assertEqual(answer['opens']['parameters'], [['status', 'ERROR']])
        self.assertEqual(len(answer['opens']['not_kept']), 2)

    def test_personal_default_opens_the_bare_page_and_view_0_skips_it(self):
        view = self.save(self.client, 'status=ERROR&range=30d', 'Mine')
        self.assertEqual(self.client.post(f'/views/{view.id}/default').status_code, 302)
        bare = self.client.get('/responses')
        self.assertEqual(bare.status_code, 302)
        self.assertEqual(parse_qsl(urlsplit(bare.location).query),
                         [('status', 'ERROR'), ('range', '30d')])
        self.assertEqual(self.client.get('/responses?view=0').status_code, 200)
        self.assertEqual(self.client.get('/responses?status=OK').status_code, 200)
        # Someone else's bare page is not affected.
        self.assertEqual(self.client_for(OTHER).get('/responses').status_code, 200)
        second = self.save(self.client, 'status=WARN', 'Second')
        self.client.post(f'/views/{second.id}/default')
        self.assertFalse(self.view_named('Mine').owner_default)
        self.assertTrue(self.view_named('Second').owner_default)

    def test_flows_page_view_round_trip(self):
        team = db.session.scalars(select(Flow.owner_team).order_by(Flow.owner_team)).first()
        direct = self.client.get('/api/v1/flows', query_string={'team': team}).get_json()
        view = self.save(self.client, f'team={team}', 'Team flows', page='flows')
        args, _page = self.opened_args(self.client, view.id, 'flows')
        self.assertEqual(args, [('team', team)])
        through = self.client.get(f'/api/v1/flows?view={view.id}').get_json()
        self.assertEqual([i['flow_code'] for i in through['items']],
                         [i['flow_code'] for i in direct['items']])
        self.assertTrue(direct['items'])

    def test_rename_update_delete(self):
        view = self.save(self.client, 'status=ERROR', 'First name')
        self.client.post(f'/views/{view.id}/rename', data={'name': 'Second name'})
        self.assertEqual(self.view_named('Second name').id, view.id)
        self.client.post('/views/update', data={'view_id': view.id, 'query': 'status=OK&range=7d'})
        self.assertEqual(self.view_named('Second name').query, 'status=OK&range=7d')
        clash = self.save(self.client, 'status=WARN', 'Other')
        response = self.client.post(f'/views/{clash.id}/rename', data={'name': 'Second name'})
        self.assertEqual(response.status_code, 302)
        self.assertIn('You already have a view called',
                      self.client.get('/views').get_data(as_text=True))
        self.assertEqual(self.view_named('Other').id, clash.id)
        self.client.post(f'/views/{view.id}/delete')
        self.assertIsNone(self.view_named('Second name'))

    def test_views_menu_lists_mine_shared_and_team(self):
        self.save(self.client, 'status=ERROR', 'Private one')
        self.save(self.client, 'status=WARN', 'Shared one', shared=True)
        other_page = self.client_for(OTHER).get('/flows').get_data(as_text=True)
        menu = other_page[other_page.index('id="views-menu"'):other_page.index('Manage saved')]
        self.assertIn('Shared one', menu)
        self.assertNotIn('Private one', menu)
        mine = self.client.get('/flows').get_data(as_text=True)
        self.assertIn('Private one', mine[mine.index('id="views-menu"'):])


@on_every_backend
class SharingRuleTests(SavedViewCase):

    def setUp(self):
        super().setUp()
        self.other = self.client_for(OTHER)
        self.admin = self.admin_client()
        self.team = db.session.scalars(select(Flow.owner_team).order_by(Flow.owner_team)).first()

    def test_nobody_edits_another_persons_private_view(self):
        view = self.save(self.client, 'status=ERROR', 'Private')
        for client in (self.other, self.admin):
            self.assertEqual(client.get(f'/api/v1/views/{view.id}').status_code, 404)
            self.assertEqual(client.get(f'/responses?view={view.id}').status_code, 404)
            for action in ('rename', 'update', 'share', 'default', 'delete', 'promote'):
                response = client.post(f'/views/{view.id}/{action}',
                                       data={'name': 'Taken', 'query': 'status=OK',
                                             'team': self.team})
                self.assertEqual(response.status_code, 404, action)
        after = self.view_named('Private')
        self.assertEqual((after.query, after.shared, after.team, after.owner_default),
                         ('status=ERROR', False, None, False))
        self.assertNotIn(view.id, [v['id'] for v in self.other.get('/api/v1/views').get_json()['items']])

    def test_shared_view_opens_for_everyone_but_only_its_owner_changes_it(self):
        view = self.save(self.client, 'status=ERROR', 'Shared', shared=True)
        self.assertEqual(self.other.get(f'/api/v1/views/{view.id}').get_json()['mine'], False)
        self.assertEqual(self.other.get(f'/responses?view={view.id}').status_code, 302)
        for action in ('rename', 'update', 'unshare', 'default', 'delete'):
            response = self.other.post(f'/views/{view.id}/{action}',
                                       data={'name': 'Taken', 'query': 'status=OK'})
            self.assertEqual(response.status_code, 403, action)
        after = self.view_named('Shared')
        self.assertEqual((after.query, after.shared, after.owner_default),
                         ('status=ERROR', True, False))

    def test_a_viewer_cannot_promote(self):
        view = self.save(self.client, 'status=ERROR', 'Mine shared', shared=True)
        for client in (self.client, self.other):
            response = client.post(f'/views/{view.id}/promote', data={'team': self.team})
            self.assertEqual(response.status_code, 403)
        self.assertIsNone(self.view_named('Mine shared').team)

    def test_admin_promotes_one_default_per_team_and_page(self):
        first = self.save(self.client, 'status=ERROR', 'First', shared=True)
        second = self.save(self.other, 'status=WARN', 'Second', shared=True)
        self.assertEqual(self.admin.post(f'/views/{first.id}/promote',
                                         data={'team': self.team}).status_code, 302)
        self.assertEqual(self.view_named('First').team, self.team)
        page = self.other.get('/responses?view=0').get_data(as_text=True)
        menu = page[page.index('Team defaults'):page.index('Manage saved')]
        self.assertIn('First', menu)
        self.admin.post(f'/views/{second.id}/promote', data={'team': self.team})
        self.assertIsNone(self.view_named('First').team)
        self.assertEqual(self.view_named('Second').team, self.team)
        # The owner cannot make a team default private; an admin removes it first.
        self.other.post(f'/views/{second.id}/unshare')
        self.assertTrue(self.view_named('Second').shared)
        self.admin.post(f'/views/{second.id}/demote')
        self.assertIsNone(self.view_named('Second').team)
        self.admin.post(f'/views/{first.id}/promote', data={'team': 'No such team'})
        self.assertIn('There is no team', self.admin.get('/views').get_data(as_text=True))
        self.assertIsNone(self.view_named('First').team)


@on_every_backend
class SavedViewCsrfTests(SavedViewCase):
    SETTINGS = {'WTF_CSRF_ENABLED': 'true'}

    def test_forms_need_the_csrf_token(self):
        refused = self.client.post('/views', data={'name': 'No token', 'page': 'responses',
                                                   'query': 'status=ERROR'})
        self.assertEqual(refused.status_code, 400)
        self.assertIsNone(self.view_named('No token'))
        token = token_from(self.client, '/responses?status=ERROR')
        self.save_with_token(token)
        view = self.view_named('With token')
        self.assertEqual(view.query, 'status=ERROR')
        refused = self.client.post(f'/views/{view.id}/delete')
        self.assertEqual(refused.status_code, 400)
        self.assertIsNotNone(self.view_named('With token'))

    def save_with_token(self, token):
        response = self.client.post('/views', data={
            'csrf_token': token, 'name': 'With token', 'page': 'responses',
            'query': 'status=ERROR', 'next': '/responses'})
        self.assertEqual(response.status_code, 302)
