"""Configuration classes, the factory's refusals and SQL Server URL building."""
import unittest

from parameterized import parameterized
from sqlalchemy.engine import make_url

from app import ConfigurationError, create_app
from app.datasets import boolean
from config import (
    DEFAULT_ODBC_DRIVER,
    DevelopmentConfig,
    ProductionConfig,
    TestingConfig,
    UATConfig,
    config,
    engine_options,
    env_flag,
    mssql_url,
    odbc_connect_parts,
)

#: A production environment that passes every check; tests remove or spoil one setting.
GOOD_PRODUCTION = {
    'SECRET_KEY': 'a-long-random-production-secret-0123456789',
    'MSSQL_SERVER': 'sql01.corp.example',
    'MSSQL_DATABASE': 'Flowdesk',
    'MSSQL_OPS_DATABASE': 'FlowdeskOps',
    'APP_SCHEMA': 'dbo',
    'OPS_SCHEMA': 'ops',
}
#: UAT needs its own secret key too.
GOOD_UAT = {'SECRET_KEY': 'a-long-random-uat-secret-0123456789'}


class ConfigNameTests(unittest.TestCase):
    @parameterized.expand([
        ('development', DevelopmentConfig, 'DEV'),
        ('testing', TestingConfig, 'TEST'),
        ('uat', UATConfig, 'UAT'),
        ('production', ProductionConfig, None),
        ('default', DevelopmentConfig, 'DEV'),
    ])
    def test_each_name_builds_its_class(self, name, cls, badge):
        self.assertIs(config[name], cls)
        environ = {'production': GOOD_PRODUCTION, 'uat': GOOD_UAT}.get(name, {})
        environ = dict(environ)
        app = create_app(name, environ=environ)
        self.assertEqual(app.config['NAME'], cls.NAME)
        self.assertEqual(app.config['ENV_BADGE'], badge)
        self.assertEqual(app.config['TESTING'], name == 'testing')

    def test_unknown_name_lists_the_valid_ones(self):
        with self.assertRaises(ConfigurationError) as caught:
            create_app('staging', environ={})
        message = str(caught.exception)
        self.assertIn("'staging'", message)
        for name in ('default', 'development', 'production', 'testing', 'uat'):
            self.assertIn(name, message)

    def test_name_is_case_insensitive(self):
        self.assertEqual(create_app('UAT', environ=dict(GOOD_UAT)).config['NAME'], 'uat')

    def test_sqlite_is_the_embedded_default_with_two_files(self):
        settings = DevelopmentConfig({'FLOWDESK_INSTANCE_PATH': '/srv/flowdesk/instance'})
        self.assertEqual(make_url(settings.SQLALCHEMY_DATABASE_URI).database,
                         '/srv/flowdesk/instance/app.db')
        self.assertEqual(make_url(settings.SQLALCHEMY_BINDS['ops']['url']).database,
                         '/srv/flowdesk/instance/ops.db')

    def test_whole_url_wins_over_parts(self):
        settings = UATConfig({'DATABASE_URL': 'postgresql+psycopg://u@db/app',
                              'MSSQL_SERVER': 'sql01', 'MSSQL_DATABASE': 'Flowdesk'})
        self.assertEqual(settings.SQLALCHEMY_DATABASE_URI, 'postgresql+psycopg://u@db/app')
        ops = make_url(settings.SQLALCHEMY_BINDS['ops']['url'])
        self.assertEqual(ops.get_backend_name(), 'mssql')

    def test_schemas_go_into_each_bind_translate_map(self):
        settings = UATConfig({'APP_SCHEMA': 'dbo', 'OPS_SCHEMA': 'ops'})
        app_map = settings.SQLALCHEMY_ENGINE_OPTIONS['execution_options']['schema_translate_map']
        ops_map = settings.SQLALCHEMY_BINDS['ops']['execution_options']['schema_translate_map']
        self.assertEqual(app_map, {'app': 'dbo'})
        self.assertEqual(ops_map, {'ops': 'ops'})

    def test_no_schema_on_sqlite_by_default(self):
        settings = DevelopmentConfig({})
        ops_map = settings.SQLALCHEMY_BINDS['ops']['execution_options']['schema_translate_map']
        self.assertEqual(ops_map, {'ops': None})

    def test_fast_executemany_only_for_sql_server(self):
        settings = UATConfig({'MSSQL_SERVER': 'sql01', 'MSSQL_DATABASE': 'Flowdesk'})
        self.assertTrue(settings.SQLALCHEMY_ENGINE_OPTIONS['fast_executemany'])
        self.assertNotIn('fast_executemany', DevelopmentConfig({}).SQLALCHEMY_ENGINE_OPTIONS)

    @parameterized.expand([('maybe',), ('2',)])
    def test_bad_yes_no_value_is_named(self, value):
        with self.assertRaisesRegex(ValueError, 'MSSQL_ENCRYPT'):
            UATConfig({'MSSQL_ENCRYPT': value})

    def test_bad_number_is_named(self):
        with self.assertRaisesRegex(ValueError, 'MAX_UPLOAD_MB'):
            UATConfig({'MAX_UPLOAD_MB': 'lots'})

    def test_upload_limit_in_megabytes(self):
        self.assertEqual(UATConfig({'MAX_UPLOAD_MB': '5'}).MAX_CONTENT_LENGTH, 5 * 1024 * 1024)


class ProductionRefusalTests(unittest.TestCase):
    def test_good_production_settings_start(self):
        app = create_app('production', environ=dict(GOOD_PRODUCTION))
        self.assertEqual(app.config['NAME'], 'production')
        self.assertTrue(app.config['SESSION_COOKIE_SECURE'])

    def test_defaults_fail_naming_secret_key(self):
        with self.assertRaises(ConfigurationError) as caught:
            create_app('production', environ={})
        self.assertIn('SECRET_KEY', str(caught.exception))

    @parameterized.expand([
        ('missing_secret', {'SECRET_KEY': None}, 'SECRET_KEY'),
        ('default_secret', {'SECRET_KEY': 'flowdesk-development-secret-not-for-production'},
         'SECRET_KEY'),
        ('short_secret', {'SECRET_KEY': 'changeme'}, 'SECRET_KEY'),
        ('sqlite_app_db', {'DATABASE_URL': 'sqlite:///C:/flowdesk/app.db'}, 'DATABASE_URL'),
        ('sqlite_ops_db', {'OPS_DATABASE_URL': 'sqlite:///ops.db'}, 'OPS_DATABASE_URL'),
        ('no_sql_server', {'MSSQL_SERVER': None}, 'DATABASE_URL'),
        ('dev_user', {'FLOWDESK_DEV_USER': 'CORP\\tester'}, 'FLOWDESK_DEV_USER'),
        ('test_login', {'FLOWDESK_ALLOW_TEST_LOGIN': 'yes'}, 'FLOWDESK_ALLOW_TEST_LOGIN'),
    ])
    def test_refuses(self, _name, change, setting):
        environ = dict(GOOD_PRODUCTION)
        for key, value in change.items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value
        with self.assertRaises(ConfigurationError) as caught:
            create_app('production', environ=environ)
        self.assertIn(setting, str(caught.exception))
        self.assertIn('refuses to start', str(caught.exception))

    def test_every_problem_is_listed_at_once(self):
        with self.assertRaises(ConfigurationError) as caught:
            create_app('production', environ={'FLOWDESK_DEV_USER': 'CORP\\x'})
        message = str(caught.exception)
        for setting in ('SECRET_KEY', 'DATABASE_URL', 'OPS_DATABASE_URL', 'FLOWDESK_DEV_USER'):
            self.assertIn(setting, message)

    def test_uat_accepts_development_identity(self):
        app = create_app('uat', environ={**GOOD_UAT, 'FLOWDESK_DEV_USER': 'CORP\\tester',
                                         'FLOWDESK_ALLOW_TEST_LOGIN': '1'})
        self.assertEqual(app.config['FLOWDESK_DEV_USER'], 'CORP\\tester')


class UatRefusalTests(unittest.TestCase):
    """UAT is reached by testers over the network: like production, it refuses a session key
    that anyone could know."""

    @parameterized.expand([
        ('missing', None),
        ('empty', ''),
        ('development_default', 'flowdesk-development-secret-not-for-production'),
        ('known_word', 'changeme'),
        ('short', 'abc123'),
    ])
    def test_refuses_a_missing_or_known_key(self, _name, secret_key):
        environ = {'FLOWDESK_ALLOW_TEST_LOGIN': 'yes'}
        if secret_key is not None:
            environ['SECRET_KEY'] = secret_key
        with self.assertRaises(ConfigurationError) as caught:
            create_app('uat', environ=environ)
        message = str(caught.exception)
        self.assertIn('refuses to start with the uat configuration', message)
        self.assertIn('SECRET_KEY', message)

    def test_starts_with_its_own_key(self):
        app = create_app('uat', environ=dict(GOOD_UAT))
        self.assertEqual(app.config['SECRET_KEY'], GOOD_UAT['SECRET_KEY'])


class EntryPointConfigTests(unittest.TestCase):
    """flasky.py: a missing FLASK_CONFIG starts development on a developer's machine and
    refuses to start under IIS (wfastcgi)."""

    class Module:
        def __init__(self, file):
            self.__file__ = file

    def test_flask_config_wins_everywhere(self):
        from app.hosting import entry_point_config_name
        self.assertEqual(entry_point_config_name({'FLASK_CONFIG': 'production',
                                                  'WSGI_HANDLER': 'flasky.app'}), 'production')

    def test_missing_on_a_developer_machine_is_development(self):
        from app.hosting import entry_point_config_name
        flask_command = self.Module('/home/dev/.venv/bin/flask')
        self.assertEqual(entry_point_config_name({}, flask_command), 'default')
        self.assertEqual(entry_point_config_name({'FLASK_CONFIG': ' '}, flask_command), 'default')

    @parameterized.expand([
        ('web_config_app_settings', {'WSGI_HANDLER': 'flasky.app'}, 'C:/app/flask.exe'),
        ('wfastcgi_script', {}, 'C:\\Python311\\Lib\\site-packages\\wfastcgi.py'),
    ])
    def test_missing_under_wfastcgi_refuses_to_start(self, _name, environ, main_file):
        from app.hosting import entry_point_config_name
        with self.assertRaises(ConfigurationError) as caught:
            entry_point_config_name(environ, self.Module(main_file))
        self.assertIn('without FLASK_CONFIG', str(caught.exception))
        self.assertIn('<add key="FLASK_CONFIG" value="production" />', str(caught.exception))


class SqlServerUrlTests(unittest.TestCase):
    def test_trusted_connection(self):
        url = mssql_url('sql01.corp.example', 'Flowdesk')
        self.assertEqual(url.drivername, 'mssql+pyodbc')
        parts = odbc_connect_parts(url)
        self.assertEqual(parts['DRIVER'], DEFAULT_ODBC_DRIVER)
        self.assertEqual(parts['SERVER'], 'sql01.corp.example')
        self.assertEqual(parts['DATABASE'], 'Flowdesk')
        self.assertEqual(parts['Trusted_Connection'], 'yes')
        self.assertNotIn('UID', parts)
        self.assertNotIn('PWD', parts)
        self.assertEqual(parts['Encrypt'], 'yes')
        self.assertEqual(parts['TrustServerCertificate'], 'no')

    def test_driver_name_with_spaces_is_braced(self):
        url = mssql_url('sql01', 'Flowdesk', driver='ODBC Driver 17 for SQL Server')
        odbc = url.query['odbc_connect']
        self.assertIn('DRIVER={ODBC Driver 17 for SQL Server}', odbc)
        self.assertEqual(odbc_connect_parts(url)['DRIVER'], 'ODBC Driver 17 for SQL Server')

    def test_password_authentication(self):
        url = mssql_url('sql01,1433', 'Flowdesk', trusted=False, username='svc_flowdesk',
                        password='s3cret', trust_server_certificate=True)
        parts = odbc_connect_parts(url)
        self.assertEqual((parts['UID'], parts['PWD']), ('svc_flowdesk', 's3cret'))
        self.assertNotIn('Trusted_Connection', parts)
        self.assertEqual(parts['TrustServerCertificate'], 'yes')
        self.assertEqual(parts['SERVER'], 'sql01,1433')

    @parameterized.expand([
        ('semicolon', 'pa;ss'),
        ('braces', 'p{a}ss}}'),
        ('equals', 'a=b'),
        ('at_and_percent', 'p@ss%20word'),
        ('spaces_around', ' spaced '),
        ('quotes', 'it\'s "quoted"'),
    ])
    def test_special_characters_in_password_survive(self, _name, password):
        url = mssql_url('sql01', 'Flowdesk', trusted=False, username='svc', password=password)
        # The URL survives being rendered to a string and parsed back (as config does).
        again = make_url(url.render_as_string(hide_password=False))
        self.assertEqual(odbc_connect_parts(again)['PWD'], password)

    def test_sql_authentication_needs_a_user(self):
        with self.assertRaisesRegex(ValueError, 'user name'):
            mssql_url('sql01', 'Flowdesk', trusted=False)

    def test_config_builds_url_from_parts(self):
        settings = UATConfig({'MSSQL_SERVER': 'sql01', 'MSSQL_DATABASE': 'Flowdesk',
                              'MSSQL_OPS_DATABASE': 'FlowdeskOps', 'MSSQL_TRUSTED_CONNECTION': 'no',
                              'MSSQL_USERNAME': 'svc', 'MSSQL_PASSWORD': 'a;b}c',
                              'MSSQL_ENCRYPT': 'no'})
        app_parts = odbc_connect_parts(settings.SQLALCHEMY_DATABASE_URI)
        ops_parts = odbc_connect_parts(settings.SQLALCHEMY_BINDS['ops']['url'])
        self.assertEqual(app_parts['DATABASE'], 'Flowdesk')
        self.assertEqual(ops_parts['DATABASE'], 'FlowdeskOps')
        self.assertEqual(app_parts['PWD'], 'a;b}c')
        self.assertEqual(app_parts['Encrypt'], 'no')

    def test_ops_database_defaults_to_the_app_database(self):
        settings = UATConfig({'MSSQL_SERVER': 'sql01', 'MSSQL_DATABASE': 'Flowdesk'})
        self.assertEqual(odbc_connect_parts(settings.SQLALCHEMY_BINDS['ops']['url'])['DATABASE'],
                         'Flowdesk')


if __name__ == '__main__':
    unittest.main()


class YesNoWordTests(unittest.TestCase):
    """Settings and data files (a flow's ``active`` column) understand the same yes/no words."""

    @parameterized.expand([(word, True) for word in ('1', 'true', 'Yes', ' on ', 'Y')]
                          + [(word, False) for word in ('0', 'FALSE', 'no', 'off', 'n')])
    def test_settings_and_files_agree(self, word, meaning):
        self.assertIs(env_flag({'FLAG': word}, 'FLAG'), meaning)
        self.assertIs(boolean(not meaning)(None)(word), meaning)

    def test_empty_means_no_in_settings_and_the_default_in_files(self):
        self.assertIs(env_flag({'FLAG': ''}, 'FLAG', default=True), False)
        self.assertIs(boolean(True)(None)(' '), True)

    @parameterized.expand([('maybe',), ('2',), ('ja',)])
    def test_other_words_are_refused_by_both(self, word):
        with self.assertRaisesRegex(ValueError, 'is not a yes/no value'):
            env_flag({'FLAG': word}, 'FLAG')
        with self.assertRaisesRegex(ValueError, 'must be true/false'):
            boolean(True)(None)(word)


class EngineOptionTests(unittest.TestCase):
    def test_postgresql_scans_start_at_the_table_start(self):
        """Text search reads the first matching dictionary entries and rows of a scan: with
        synchronized scans they would depend on what another request was reading."""
        options = engine_options('postgresql+psycopg://u@db/flowdesk_ops', 'ops', 'ops')
        self.assertEqual(options['connect_args'], {'options': '-c synchronize_seqscans=off'})
        given = engine_options('postgresql+psycopg://u@db/ops?options=-c%20work_mem%3D64MB',
                               'ops', None)
        self.assertEqual(given['connect_args'],
                         {'options': '-c work_mem=64MB -c synchronize_seqscans=off'})

    def test_other_engines_keep_their_own_connection_settings(self):
        self.assertEqual(engine_options('sqlite:///x.db', 'ops', None)['connect_args'],
                         {'timeout': 30})
        self.assertNotIn('connect_args', engine_options(
            'mssql+pyodbc://@sql01/Flowdesk?driver=ODBC+Driver+18+for+SQL+Server', 'ops', 'ops'))
