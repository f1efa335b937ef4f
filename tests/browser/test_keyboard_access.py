"""Keyboard and non-visual use, checked in Chromium: the skip link comes first and works, every
tab stop shows where focus is, the tab order follows the page, a view is saved and opened from
the Views menu with the keyboard alone, charts have their table, and status is never told by
colour alone."""
from __future__ import annotations

from tests.browser.base import BrowserTestCase, By

try:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
except ImportError:  # pragma: no cover - the class skips without Selenium
    ActionChains = Keys = TimeoutException = None

#: Tab stops walked per page at most (more than any page has before its table rows).
MAX_TABS = 60
#: The focused element draws a ring (outline or Bootstrap's box-shadow). A date input's own
#: calendar button takes focus inside the browser's widget, which draws its own ring there.
FOCUS_VISIBLE = (
    'const e = arguments[0], s = getComputedStyle(e);'
    'if (e.matches("input[type^=date]:not(:focus)")) return true;'
    'const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;'
    'return outline || (s.boxShadow && s.boxShadow !== "none");')


class KeyboardAccessTest(BrowserTestCase):

    def active(self):
        return self.driver.switch_to.active_element

    def press(self, *keys) -> None:
        """Keys as typed: to whatever has focus (the page itself when nothing has)."""
        ActionChains(self.driver).send_keys(*keys).perform()

    def tab_until(self, matches, limit: int = MAX_TABS):
        """Press Tab until the focused element satisfies ``matches``; fail after ``limit``."""
        for _ in range(limit):
            self.press(Keys.TAB)
            if matches(self.active()):
                return self.active()
        self.fail(f'no tab stop matched within {limit} presses')

    def tab_stops(self, count: int) -> list[tuple]:
        """(element, whether its focus is visible) for the first ``count`` Tab presses from
        the top of a freshly opened page."""
        stops = []
        for _ in range(count):
            self.press(Keys.TAB)
            element = self.active()
            if element.tag_name == 'body' or (stops and element == stops[0][0]):
                break
            if stops and element == stops[-1][0]:
                continue  # the next part of a date input (day, month, year, time)
            stops.append((element, self.focus_is_visible(element)))
        return stops

    def focus_is_visible(self, element) -> bool:
        """The focus ring is drawn (given a moment: a ring may fade in)."""
        try:
            return bool(self.wait(2).until(
                lambda d: d.execute_script(FOCUS_VISIBLE, element)))
        except TimeoutException:
            return False

    def test_skip_link_is_the_first_stop_and_moves_into_the_page(self):
        self.open('/responses')
        first = self.tab_stops(1)[0][0]
        self.assertEqual(first.text, 'Skip to content')
        self.assertTrue(first.is_displayed())
        self.assertGreater(first.size['width'], 10, 'the skip link is visible when focused')
        first.send_keys(Keys.ENTER)
        self.wait().until(lambda d: d.current_url.endswith('#content'))
        self.press(Keys.TAB)
        inside = self.driver.execute_script('return !!arguments[0].closest("main")', self.active())
        self.assertTrue(inside, 'after the skip link, Tab goes to the page content, not the menu')

    def test_every_stop_shows_focus_in_page_order(self):
        for path in ('/responses?status=ERROR', '/', '/flows', '/views'):
            with self.subTest(page=path):
                self.open(path)
                stops = self.tab_stops(MAX_TABS)
                self.assertGreater(len(stops), 5)
                unseen = [s.get_attribute('outerHTML')[:80] for s, seen in stops if not seen]
                self.assertEqual(unseen, [], 'focused elements without a visible focus mark')
                stops = [s for s, _seen in stops]
                out_of_order = [
                    b.get_attribute('outerHTML')[:80] for a, b in zip(stops, stops[1:], strict=False)
                    if not self.driver.execute_script(
                        'return arguments[0].compareDocumentPosition(arguments[1])'
                        ' & Node.DOCUMENT_POSITION_FOLLOWING', a, b)]
                self.assertEqual(out_of_order, [], 'tab stops that jump back in the page')

    def test_save_a_view_and_open_it_from_the_views_menu_with_the_keyboard(self):
        self.open('/responses?status=ERROR&range=30d')
        summary = self.tab_until(lambda e: e.tag_name == 'summary' and 'Save these' in e.text)
        summary.send_keys(Keys.ENTER)
        name = self.tab_until(lambda e: e.get_attribute('id') == 'sv-name', limit=3)
        name.send_keys('Keyboard errors')
        page = self.driver.find_element(By.TAG_NAME, 'html')
        name.send_keys(Keys.ENTER)
        self.wait().until(lambda d: page.id != d.find_element(By.TAG_NAME, 'html').id)
        self.wait_for_page()
        self.assertIn('Saved the view "Keyboard errors"', self.find('main').text)

        self.open('/flows')
        toggle = self.tab_until(lambda e: e.text == 'Views')
        toggle.send_keys(Keys.ENTER)
        self.wait().until(lambda d: self.find('#views-menu .dropdown-menu').is_displayed())
        item = None
        for _ in range(6):
            self.press(Keys.ARROW_DOWN)
            if 'Keyboard errors' in self.active().text:
                item = self.active()
                break
        self.assertIsNotNone(item, 'the arrow keys reach the saved view in the menu')
        item.send_keys(Keys.ENTER)
        self.wait().until(lambda d: '/responses?' in d.current_url)
        self.wait_for_page()
        self.assertEqual(self.path(), '/responses?status=ERROR&range=30d')

    def test_charts_have_a_table_with_the_same_days(self):
        self.open('/')
        figures = self.find_all('figure.chart-figure')
        self.assertTrue(figures, 'the dashboard shows a chart')
        for figure in figures:
            canvas = figure.find_element(By.CSS_SELECTOR, 'canvas.daily-chart')
            self.assertTrue(canvas.get_attribute('aria-label'))
            days = self.driver.execute_script(
                'return JSON.parse(arguments[0].dataset.chart).labels.length', canvas)
            rows = figure.find_elements(By.CSS_SELECTOR, 'details table tbody tr')
            self.assertEqual(len(rows), days)

    def test_status_is_written_not_only_coloured(self):
        self.open('/responses')
        badges = self.find_all('.status-badge')
        self.assertTrue(badges)
        texts = {badge.get_attribute('textContent').strip() for badge in badges}
        self.assertTrue(texts <= {'OK', 'WARN', 'ERROR'} and texts, texts)
