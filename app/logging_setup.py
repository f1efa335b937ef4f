"""Logging per environment. Under IIS, wfastcgi swallows stderr, so production writes a
rotating log file (LOG_FILE, default instance/logs/flowdesk.log)."""
from __future__ import annotations

import logging
import threading
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


def announce_start_when_serving(app, message: str, *args) -> None:
    """Log ``message`` at INFO once, when the app serves its first request.

    The line tells whoever reads the server log which version and configuration answered; a
    ``flask`` command (db upgrade, seed-demo, load…) builds the app too but serves nothing, so it
    prints nothing."""
    lock = threading.Lock()
    announced = []

    @app.before_request
    def _announce_once():
        if announced:
            return
        with lock:
            if not announced:
                announced.append(True)
                app.logger.info(message, *args)
