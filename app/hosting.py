"""Which configuration the ``flasky`` entry point starts.

Without FLASK_CONFIG, ``flask run`` on a developer's machine starts the development
configuration. Under IIS (wfastcgi) a missing FLASK_CONFIG is a deployment mistake: the
development configuration has a stand-in admin and a public key, so Flowdesk refuses to start
there and the reason goes to the WSGI_LOG (IIS answers 500 until the setting is added).
"""
from __future__ import annotations

import sys
from pathlib import PureWindowsPath

from . import ConfigurationError

MISSING_UNDER_IIS = (
    'Flowdesk refuses to start under IIS (wfastcgi) without FLASK_CONFIG: without it, the '
    'development configuration would start, with its stand-in admin and public secret key. Add '
    '<add key="FLASK_CONFIG" value="production" /> to the appSettings of web.config.')


def hosted_by_wfastcgi(environ, main_module=None) -> bool:
    """wfastcgi copies web.config's appSettings (WSGI_HANDLER among them) into the environment
    and runs as the main script."""
    main_module = sys.modules.get('__main__') if main_module is None else main_module
    main_file = getattr(main_module, '__file__', None) or ''
    return (bool(environ.get('WSGI_HANDLER'))
            or PureWindowsPath(main_file).name.lower() == 'wfastcgi.py')


def entry_point_config_name(environ, main_module=None) -> str:
    """FLASK_CONFIG, else ``default`` (development) except under wfastcgi, which refuses."""
    name = (environ.get('FLASK_CONFIG') or '').strip()
    if name:
        return name
    if hosted_by_wfastcgi(environ, main_module):
        raise ConfigurationError(MISSING_UNDER_IIS)
    return 'default'
