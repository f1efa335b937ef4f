"""Console output that never dies on a character the console cannot show.

On Windows, output redirected to a file (Task Scheduler, ``> load.log``) or shown by a legacy
console is encoded in the ANSI code page (cp1252 in Western Europe), which has no CJK, arrows
or emoji. Python's default for that is to raise ``UnicodeEncodeError`` half-way through a
report. Every ``flask`` command therefore writes such characters as ``\\u65e5`` escapes
instead; set ``PYTHONUTF8=1`` to get the text itself in UTF-8 (README "Command line")."""
from __future__ import annotations

import codecs
import sys

#: What a stream that cannot encode a character writes instead: ``\\u65e5``, ``\\U0001f680``.
LENIENT_ERRORS = 'backslashreplace'


def holds_unicode(encoding: str | None) -> bool:
    """True when the encoding can write every character (UTF-8, UTF-16, UTF-32)."""
    try:
        return codecs.lookup(encoding or 'ascii').name.startswith('utf')
    except LookupError:
        return False


def make_lenient(stream) -> bool:
    """Let ``stream`` escape what its encoding cannot hold; True when it was changed."""
    if stream is None or holds_unicode(getattr(stream, 'encoding', None)):
        return False
    if getattr(stream, 'errors', 'strict') != 'strict' or not hasattr(stream, 'reconfigure'):
        return False
    try:
        stream.reconfigure(errors=LENIENT_ERRORS)
    except (ValueError, OSError):  # a closed or foreign stream: leave it as it is
        return False
    return True


def protect_console() -> None:
    """Make the process's stdout and stderr lenient (see the module docstring)."""
    make_lenient(sys.stdout)
    make_lenient(sys.stderr)
