"""The environment of a process that sees the world as the Windows server does."""
from __future__ import annotations

import os
from pathlib import Path

#: Variables of the calling run that a Windows-like process must not inherit: they would hide
#: the differences, or point it at the main run's PostgreSQL databases.
NOT_INHERITED = ('PYTHONUTF8', 'PYTHONIOENCODING', 'PYTHONPATH', 'PYTHONTZPATH', 'TZ',
                 'TEST_DATABASE_URL', 'TEST_OPS_DATABASE_URL', 'FLASK_APP', 'FLASK_CONFIG',
                 'DATABASE_URL', 'OPS_DATABASE_URL')
ZONE_NAME = 'Europe/Berlin'


def windows_like_environment(empty_folder: Path, **extra: str) -> dict[str, str]:
    """No system time zone database (zoneinfo must use the tzdata package), stdout and stderr
    in cp1252, Europe/Berlin as display and data time zone, and EncodingWarning raised for a
    text file opened without an encoding."""
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(PYTHONTZPATH=str(empty_folder), PYTHONIOENCODING='cp1252',
               PYTHONWARNDEFAULTENCODING='1', DISPLAY_TIMEZONE=ZONE_NAME,
               DATA_TIMEZONE=ZONE_NAME, **extra)
    return env
