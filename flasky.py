"""Flowdesk entry point: ``FLASK_APP=flasky`` for the flask command, ``WSGI_HANDLER=flasky.app``
under IIS/wfastcgi. FLASK_CONFIG picks the configuration: development when it is missing,
except under wfastcgi, where a missing FLASK_CONFIG refuses to start (app/hosting.py)."""
import os
import sys

import click

from app import create_app
from app.extensions import db
from app.hosting import entry_point_config_name
from app.models import AuditEvent, Flow, LoadBatch, LoadError, Response, User

app = create_app(entry_point_config_name(os.environ))


@app.shell_context_processor
def make_shell_context():
    return dict(db=db, User=User, AuditEvent=AuditEvent, Flow=Flow, Response=Response,
                LoadBatch=LoadBatch, LoadError=LoadError)


@app.cli.command(with_appcontext=False)
@click.argument('names', nargs=-1)
@click.option('--pattern', '-p', default='test*.py', show_default=True,
              help='File name pattern of the test modules to discover.')
@click.option('--verbose', '-v', is_flag=True, help='Print every test as it runs.')
@click.option('--failfast', '-f', is_flag=True, help='Stop at the first failure.')
def test(names, pattern, verbose, failfast):
    """Run the unit tests. NAMES: test modules, classes or methods in dotted form
    (e.g. tests.unit.test_config); by default every suite under tests/.

    The last line printed is always `N passed, N failed, N skipped`."""
    from tests.runner import run_tests
    ok = run_tests(names=list(names), pattern=pattern, verbosity=2 if verbose else 1,
                   failfast=failfast)
    sys.exit(0 if ok else 1)
