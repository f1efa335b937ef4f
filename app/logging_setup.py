"""Logging per environment. Under IIS, wfastcgi swallows stderr, so production writes a
rotating log file (LOG_FILE, default instance/logs/flowdesk.log)."""
from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_FORMAT = '%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s'


def configure_logging(app) -> None:
    level = getattr(logging, app.config.get('LOG_LEVEL', 'INFO'), logging.INFO)
    app.logger.setLevel(level)
    log_file = app.config.get('LOG_FILE')
    if log_file:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not any(isinstance(h, RotatingFileHandler) and Path(h.baseFilename) == path.resolve()
                   for h in app.logger.handlers):
            handler = RotatingFileHandler(path, maxBytes=10 * 1024 * 1024, backupCount=10,
                                          encoding='utf-8', delay=True)
            handler.setFormatter(logging.Formatter(LOG_FORMAT))
            handler.setLevel(level)
            app.logger.addHandler(handler)
