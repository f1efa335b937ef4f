"""``flask init-db``, ``flask seed-demo`` and ``flask search-index``."""
from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from ..demo_shapes import DEMO, SHAPES
from ..seeding import SeedRefused, seed_demo


@click.command('init-db')
@click.option('--drop', is_flag=True, help='Drop every Flowdesk table first (loses all data).')
@with_appcontext
def init_db_command(drop: bool) -> None:
    """Create the tables directly from the models (development only; use `flask db upgrade`
    everywhere else)."""
    from ..extensions import db
    if current_app.config['NAME'] not in ('development', 'testing'):
        raise click.ClickException(
            f'init-db is for development only; the {current_app.config["NAME"]} databases are '
            'built with `flask db upgrade` (or the script from `flask db upgrade --sql`).')
    if drop:
        db.drop_all()
    db.create_all()
    click.echo('Created the Flowdesk tables in both databases.')


@click.command('seed-demo')
@click.option('--responses', default=50_000, show_default=True, type=click.IntRange(0),
              help='How many responses to generate.')
@click.option('--flows', default=None, type=click.IntRange(1, 5000),
              help='How many flows to generate (default: the shape\'s, 40 or 500).')
@click.option('--shape', type=click.Choice(sorted(SHAPES)), default=DEMO, show_default=True,
              help='demo: 40 flows over 60 days, few distinct error reasons; realistic: 500 '
                   'flows over a year, 20 % WARN/ERROR, reasons carrying ids, paths and times.')
@click.option('--days', default=None, type=click.IntRange(1, 3650),
              help='How many days the responses span, ending at --until (default: the '
                   'shape\'s, 60 or 365).')
@click.option('--seed', default=7, show_default=True, help='Random seed (same seed, same data).')
@click.option('--until', type=click.DateTime(), default=None,
              help='Newest response time, UTC (default: now; a future time is refused).')
@click.option('--force', is_flag=True,
              help='Replace flows and responses even when they hold data loaded by admins.')
@with_appcontext
def seed_demo_command(responses: int, flows: int | None, shape: str, days: int | None,
                      seed: int, until: datetime | None, force: bool) -> None:
    """Fill the ops database with demo flows and responses (replaces any earlier demo data)."""
    if current_app.config['NAME'] == 'production':
        raise click.ClickException('seed-demo never runs against production.')
    try:
        with click.progressbar(length=responses, label='Writing demo responses',
                               show_pos=True) as bar:
            summary = seed_demo(flows=flows, responses=responses, seed=seed, until=until,
                                force=force, progress=bar.update, shape=shape, days=days)
    except SeedRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f'Seeded {summary.flows:,} flows and {summary.responses:,} responses '
               f'from {summary.first:%Y-%m-%d %H:%M} to {summary.last:%Y-%m-%d %H:%M} UTC '
               f'in {summary.seconds:.1f} s.')


@click.command('search-index')
@with_appcontext
def search_index_command() -> None:
    """Build the text index over the error-reason dictionary now (SQLite FTS5 trigram table,
    PostgreSQL pg_trgm index), for example once a DBA has created the pg_trgm extension.
    `flask db upgrade` builds it too; running this again changes nothing."""
    from ..extensions import db
    from ..reason_text_index import create_text_index, forget
    engine = db.engines['ops']
    with engine.begin() as connection:
        built = create_text_index(connection)
    forget(engine)
    if not built:
        raise click.ClickException(
            f'The {engine.dialect.name} ops database has no text index for error reasons '
            '(see the warning above): text search still works, reading the dictionary without '
            'an index. PostgreSQL: ask a DBA to run CREATE EXTENSION pg_trgm in the ops '
            'database, then run this again. SQL Server has no such index.')
    click.echo(f'The error-reason text index of the {engine.dialect.name} ops database is in '
               'place.')
