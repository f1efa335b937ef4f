"""app/cli/console.py: a console whose code page cannot hold a character escapes it instead of
raising UnicodeEncodeError; a UTF-8 console is left alone."""
import io
import unittest

from parameterized import parameterized

from app.cli.console import holds_unicode, make_lenient

TEXT = 'Fehler: 日本→ 🚀 é'


def console(encoding, errors='strict'):
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors=errors)


class ConsoleTests(unittest.TestCase):
    @parameterized.expand([('cp1252', False), ('CP1252', False), ('ascii', False),
                           ('latin-1', False), ('utf-8', True), ('UTF8', True),
                           ('utf-16-le', True), (None, False), ('no-such-codec', False)])
    def test_which_encodings_hold_unicode(self, encoding, expected):
        self.assertEqual(holds_unicode(encoding), expected)

    def test_cp1252_console_escapes_what_it_cannot_hold(self):
        stream = console('cp1252')
        with self.assertRaises(UnicodeEncodeError):
            stream.write(TEXT)   # what every flask command did before
        stream = console('cp1252')
        self.assertTrue(make_lenient(stream))
        stream.write(TEXT)
        stream.flush()
        self.assertEqual(stream.buffer.getvalue().decode('cp1252'),
                         'Fehler: \\u65e5\\u672c\\u2192 \\U0001f680 é')

    def test_utf8_console_and_chosen_error_handlers_are_left_alone(self):
        utf8 = console('utf-8')
        self.assertFalse(make_lenient(utf8))
        self.assertEqual(utf8.errors, 'strict')
        chosen = console('cp1252', errors='replace')
        self.assertFalse(make_lenient(chosen))
        self.assertEqual(chosen.errors, 'replace')
        self.assertFalse(make_lenient(None))   # pythonw: no console at all


if __name__ == '__main__':
    unittest.main()
