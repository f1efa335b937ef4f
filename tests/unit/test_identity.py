"""Login normalisation and the identity rules that need no database."""
from __future__ import annotations

import unittest

from parameterized import parameterized

from app.identity import MAX_LOGIN_LENGTH, IdentityError, normalise_login

DOMAIN_MAP = {'corp.example': 'CORP', 'emea.corp.example': 'EMEA'}


class NormaliseLoginTest(unittest.TestCase):

    @parameterized.expand([
        ('netbios_upper', 'CORP\\jdoe', 'CORP\\jdoe'),
        ('netbios_mixed_case', 'corp\\JDoe', 'CORP\\jdoe'),
        ('surrounding_space', '  CORP\\JDOE \t', 'CORP\\jdoe'),
        ('upn_mapped', 'jdoe@corp.example', 'CORP\\jdoe'),
        ('upn_mapped_case', 'JDoe@CORP.Example', 'CORP\\jdoe'),
        ('upn_subdomain_mapped', 'anna@emea.corp.example', 'EMEA\\anna'),
        ('bare_name_default_domain', 'JDoe', 'CORP\\jdoe'),
        ('non_ascii_name', 'CORP\\ÉLodie', 'CORP\\élodie'),
        ('machine_account', 'CORP\\WEB01$', 'CORP\\web01$'),
        ('sharp_s_is_not_ss', 'CORP\\Straße', 'CORP\\straße'),
        ('dotless_i_in_a_name', 'CORP\\Yıldız', 'CORP\\yıldız'),
        ('space_inside_a_name', 'CORP\\Jane Doe', 'CORP\\jane doe'),
    ])
    def test_one_spelling_per_person(self, _name, raw, expected):
        self.assertEqual(normalise_login(raw, 'CORP', DOMAIN_MAP), expected)

    def test_default_domain_is_configurable(self):
        self.assertEqual(normalise_login('jdoe', 'ACME'), 'ACME\\jdoe')

    def test_spellings_of_one_person_agree(self):
        spellings = ['corp\\JDoe', 'CORP\\jdoe', 'jdoe@corp.example', 'JDOE']
        self.assertEqual({normalise_login(s, 'CORP', DOMAIN_MAP) for s in spellings},
                         {'CORP\\jdoe'})

    @parameterized.expand([
        ('empty', ''),
        ('blank', '   '),
        ('none', None),
        ('no_name', 'CORP\\'),
        ('no_domain', '\\jdoe'),
        ('two_backslashes', 'CORP\\sub\\jdoe'),
        ('space_in_domain', 'CO RP\\jdoe'),
        ('upn_without_name', '@corp.example'),
        ('control_character', 'CORP\\jd\x00oe'),
        ('too_long', 'CORP\\' + 'x' * MAX_LOGIN_LENGTH),
    ])
    def test_unusable_logins_are_refused(self, _name, raw):
        with self.assertRaises(IdentityError):
            normalise_login(raw, 'CORP', DOMAIN_MAP)




class UnmappedUpnDomainTest(unittest.TestCase):
    """A user@domain login is accepted only from a DNS domain in FLOWDESK_DOMAIN_MAP."""

    @parameterized.expand([
        ('lookalike_of_a_mapped_domain', 'jdoe@corp.evil.example'),
        ('unknown_domain', 'bob@sales.example.org'),
        ('subdomain_of_a_mapped_domain', 'jdoe@dev.corp.example'),
        ('no_map_at_all', 'jdoe@corp.example', {}),
    ])
    def test_refused_with_the_reason(self, _name, raw, domain_map=DOMAIN_MAP):
        with self.assertRaises(IdentityError) as caught:
            normalise_login(raw, 'CORP', domain_map)
        self.assertIn('not in FLOWDESK_DOMAIN_MAP', str(caught.exception))

    def test_mapped_domain_is_accepted(self):
        self.assertEqual(normalise_login('jdoe@corp.example', 'CORP', DOMAIN_MAP), 'CORP\\jdoe')


class AsciiLookalikeTest(unittest.TestCase):
    """Normalisation never merges two Windows accounts: a non-ASCII character that would fold
    into ASCII (by case or NFKC) is refused instead of being folded."""

    @parameterized.expand([
        ('kelvin_sign', 'CORP\\\u212aate', '\u212a'),
        ('trailing_no_break_space', 'CORP\\kate\u00a0', '\u00a0'),
        ('leading_no_break_space', '\u00a0CORP\\kate', '\u00a0'),
        ('fullwidth_letter', 'CORP\\\uff4bate', '\uff4b'),
        ('ligature', 'CORP\\\ufb01ona', '\ufb01'),
        ('em_space_inside', 'CORP\\ka\u2003te', '\u2003'),
        ('dotted_capital_i', 'CORP\\\u0130lker', '\u0130'),
        ('dotless_i_in_the_domain', 'CORP\u0131\\kate', '\u0131'),
        ('kelvin_sign_in_upn_domain', 'kate@corp.exampl\u212a', '\u212a'),
    ])
    def test_refused_naming_the_character(self, _name, raw, character):
        with self.assertRaises(IdentityError) as caught:
            normalise_login(raw, 'CORP', DOMAIN_MAP)
        message = str(caught.exception)
        self.assertIn(f'U+{ord(character):04X}', message)
        self.assertIn('never be taken for another account', message)

    def test_ascii_spelling_still_normalises(self):
        self.assertEqual(normalise_login('CORP\\Kate ', 'CORP'), 'CORP\\kate')


if __name__ == '__main__':
    unittest.main()


class RoleStatementsOnSqlServerTest(unittest.TestCase):
    """The last-admin rule's statements, compiled as SQL Server gets them."""

    @classmethod
    def setUpClass(cls):
        from sqlalchemy.dialects import mssql, postgresql
        cls.mssql, cls.postgresql = mssql.dialect(), postgresql.dialect()

    def compile(self, statement, dialect) -> str:
        return str(statement.compile(dialect=dialect))

    def test_active_admins_are_locked_until_commit(self):
        from app.roles import lock_active_admins
        sql_server = self.compile(lock_active_admins(), self.mssql)
        self.assertIn('[users] WITH (UPDLOCK, HOLDLOCK)', sql_server)
        self.assertIn('FOR UPDATE', self.compile(lock_active_admins(), self.postgresql))

    def test_guarded_removal_needs_another_active_admin(self):
        from app.roles import removal_statement
        sql = self.compile(removal_statement(7, {'role': 'viewer'}, guard_last_admin=True),
                           self.mssql)
        self.assertRegex(' '.join(sql.split()),
                         r'UPDATE \[app\]\.\[users\] SET role=.* WHERE .*id = .* AND '
                         r'\(EXISTS \(SELECT .*FROM \[app\]\.\[users\] AS users_1')
        self.assertIn('users_1.active = 1', sql)
        self.assertNotRegex(sql, r' IS [01]\b')  # SQL Server has no "IS 1"
        unguarded = self.compile(removal_statement(7, {'active': False}, guard_last_admin=False),
                                 self.mssql)
        self.assertNotIn('EXISTS', unguarded)
