"""``flask purge --older-than DAYS [--dry-run]``: archive, then delete, the responses older
than DAYS days (the ``retention`` job does the same daily with RESPONSES_RETENTION_DAYS)."""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from ..cli.load_command import cli_user
from ..clock import utc_now
from .purge import PurgeRefused, purge_responses


@click.command('purge')
@click.option('--older-than', 'days', required=True, type=click.IntRange(1),
              help='Purge responses older than this many days.')
@click.option('--dry-run', is_flag=True,
              help='Only count what would be archived and deleted, per month; change nothing.')
@with_appcontext
def purge_command(days: int, dry_run: bool) -> None:
    """Archive responses older than DAYS to ARCHIVE_FOLDER (one gzip CSV per month, loadable
    with `flask load responses FILE`), then delete them in short batches. The daily summary
    is kept."""
    cutoff = utc_now() - timedelta(days=days)
    try:
        outcome = purge_responses(cutoff, dry_run=dry_run, actor=cli_user())
    except PurgeRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    for month in outcome.months:
        line = f'{month.month:%Y-%m}: {month.responses:,} responses, {month.versions:,} versions'
        if month.archive is not None:
            line += f' -> {month.archive} ({month.archived:,} rows added)'
        click.echo(line)
    rate = outcome.responses / outcome.seconds if outcome.seconds and not dry_run else 0
    click.echo(f'{outcome.summary()} in {outcome.seconds:.1f} s'
               + (f' ({rate:,.0f} rows/s).' if rate else '.'))
