"""A load with local times in the repeated daylight-saving hour, in Chromium: the rows load and
the result page warns how they were read."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Flow, Response
from tests.browser.base import ADMIN, BrowserTestCase, Select
from tests.browser.upload_files import HEADER, NEW_IDS

WARNING = ('2 timestamps fell in the repeated hour of 2025-10-26 02:00–03:00 Europe/Berlin; '
           'read as CEST; give a UTC offset to be exact.')


class LoadWarningTest(BrowserTestCase):
    SETTINGS = {**BrowserTestCase.SETTINGS, 'DATA_TIMEZONE': 'Europe/Berlin'}

    def test_the_result_page_shows_the_repeated_hour_warning(self):
        with db.engines['ops'].connect() as connection:
            flow_code = connection.scalar(select(Flow.flow_code).order_by(Flow.flow_code))
        path = self.scratch / 'repeated_hour.csv'
        path.write_text('\n'.join([
            HEADER,
            f'{NEW_IDS[0]},{flow_code},2025-10-26 02:10:00,OK,200,10,,',
            f'{NEW_IDS[1]},{flow_code},2025-10-26 02:40:00,OK,200,10,,',
        ]) + '\n', encoding='utf-8', newline='')
        self.sign_in(ADMIN)
        self.open('/admin/loads')
        Select(self.find('#dataset')).select_by_value('responses')
        self.find('#file').send_keys(str(path))
        self.follow(self.find('#upload-submit'))
        self.assertRegex(self.path(), r'^/admin/batches/\d+$')
        alerts = [alert.text for alert in self.find_all('main .alert-warning')]
        self.assertIn(f'Warning: {WARNING}', ' '.join(alerts))
        self.assertIn(WARNING, self.find('#batch-warnings').text)
        with db.engines['ops'].connect() as connection:
            self.assertEqual(connection.scalar(select(db.func.count()).select_from(Response)
                                               .where(Response.response_id.in_(NEW_IDS))), 2)
        self.assertNoConsoleErrors()
