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
        ('upn_unmapped_first_label', 'bob@sales.example.org', 'SALES\\bob'),
        ('bare_name_default_domain', 'JDoe', 'CORP\\jdoe'),
        ('non_ascii_name', 'CORP\\ÉLodie', 'CORP\\élodie'),
        ('machine_account', 'CORP\\WEB01$', 'CORP\\web01$'),
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
