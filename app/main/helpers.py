"""What the employee pages share: links that keep the filter, and where to load data."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, url_for


def url_with_args(endpoint: str, args: list[tuple[str, str]], **values) -> str:
    """``url_for`` plus repeated query parameters (status=OK&status=WARN)."""
    base = url_for(endpoint, **values)
    return f'{base}?{urlencode(args)}' if args else base


def load_data_url() -> str | None:
    """Where an admin loads data, when that page exists (shown in empty states)."""
    if 'admin.upload' in current_app.view_functions:
        return url_for('admin.upload')
    return None
