"""``flask load DATASET FILE --mode append|upsert|replace [--dry-run] [--profile NAME]``: the
same load pipeline as the upload page, for files of any size and for Windows Task Scheduler. It writes to the
databases configured by DATABASE_URL / OPS_DATABASE_URL (or the MSSQL_* settings), and exits
with status 1 when the file is rejected or the load cannot start."""
from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..datasets import DATASETS
from ..loading import MODES, SHOWN_ON_PAGE, LoadRefused, LoadRequest, run_load, undo_batch
from ..loading.report import write_report
from ..loading.storage import file_sha256
from ..models import BATCH_SUCCEEDED
from ..profiles import resolve

#: What a dry run says each count would be.
DRY_RUN_VERBS = {'inserted': 'insert', 'updated': 'update', 'unchanged': 'be unchanged',
                 'deleted': 'delete'}


def cli_user() -> str:
    """Who runs the command: DOMAIN\\user on Windows, the login name elsewhere."""
    name = os.environ.get('USERNAME') or getpass.getuser()
    domain = os.environ.get('USERDOMAIN')
    return f'{domain}\\{name}' if domain else name


@click.command('load')
@click.argument('dataset', type=click.Choice(sorted(DATASETS), case_sensitive=False))
@click.argument('file', type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option('--mode', type=click.Choice(MODES), default='append', show_default=True,
              help='append: new keys only; upsert: insert or update by key; replace: the '
                   'dataset becomes exactly the file.')
@click.option('--dry-run', is_flag=True, help='Validate only: report what a load would do, '
                                              'change nothing.')
@click.option('--encoding', type=click.Choice(['auto', 'utf-8', 'cp1252']), default='auto',
              show_default=True, help='Text encoding of a CSV file.')
@click.option('--allow-duplicate', is_flag=True,
              help='Load even if an identical file was already loaded into this dataset.')
@click.option('--errors-csv', type=click.Path(dir_okay=False, path_type=Path),
              help='Write every problem found to this CSV file.')
@click.option('--user', default=None, help='Whom to record as loading (default: you).')
@click.option('--profile', 'profile_name', default=None, metavar='NAME',
              help='Map FILE with this source profile (a platform\'s own export layout; see '
                   'Admin > Source profiles). Default: Flowdesk\'s own columns.')
@with_appcontext
def load_command(dataset, file, mode, dry_run, encoding, allow_duplicate, errors_csv, user,
                 profile_name):
    """Validate FILE (CSV or xlsx) and load it into DATASET, all or nothing."""
    user = user or cli_user()
    sha256, size = file_sha256(file)
    try:
        profile = resolve(profile_name)
    except LoadRefused as refused:
        raise click.ClickException(str(refused)) from None
    request = LoadRequest(dataset=dataset.lower(), mode=mode, path=file, file_name=file.name,
                          user=user, dry_run=dry_run, encoding=encoding,
                          allow_duplicate=allow_duplicate, sha256=sha256, size=size,
                          profile=profile)
    label = f'{"Validating" if dry_run else "Loading"} {file.name}'
    try:
        # sys.stderr itself, in the console's encoding (click.get_text_stream would write UTF-8
        # into a cp1252 Task Scheduler log).
        with click.progressbar(length=max(size, 1), label=label, show_percent=True,
                               file=sys.stderr) as bar:
            done = [0]

            def progress(position, _total):
                if position > done[0]:
                    bar.update(position - done[0])
                    done[0] = position
            outcome = run_load(request, progress=progress)
    except LoadRefused as refused:
        raise click.ClickException(str(refused)) from None
    counts = outcome.counts
    click.echo(f'Batch #{outcome.batch_id} {outcome.status} in {outcome.seconds:.1f} s '
               f'({counts.read / max(outcome.seconds, 1e-9):,.0f} rows/s)')
    click.echo(f'  rows read  {counts.read:>12,}')
    for name, verb in DRY_RUN_VERBS.items():
        word = f'would {verb}' if dry_run else name
        click.echo(f'  {word:<20} {getattr(counts, name):>12,}')
    click.echo(f'  errors     {outcome.problems.count:>12,}')
    for warning in outcome.warnings:
        click.echo(f'Warning: {warning}')
    if outcome.problems.count:
        click.echo('')
        click.echo(f'{"line":>8}  {"column":<14} {"value":<30} problem')
        for problem in outcome.problems.kept[:SHOWN_ON_PAGE]:
            click.echo(f'{problem.line if problem.line is not None else "":>8}  '
                       f'{problem.column or "":<14} {(problem.value or "")[:30]:<30} '
                       f'{problem.message}')
        if outcome.problems.count > SHOWN_ON_PAGE:
            click.echo(f'… {outcome.problems.count - SHOWN_ON_PAGE:,} more; use --errors-csv FILE '
                       'for the full report.')
        if errors_csv:
            with open(errors_csv, 'w', encoding='utf-8-sig', newline='') as handle:
                write_report(handle, outcome.problems.kept, outcome.problems.count)
            click.echo(f'Full error report written to {errors_csv}.')
    click.echo(outcome.summary)
    if not outcome.ok:
        raise SystemExit(1)


@click.command('undo-load')
@click.argument('batch_id', type=int)
@click.option('--user', default=None, help='Whom to record as undoing (default: you).')
@with_appcontext
def undo_load_command(batch_id, user):
    """Undo load batch BATCH_ID (the most recent load of its dataset)."""
    try:
        outcome = undo_batch(batch_id, user or cli_user())
    except LoadRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(outcome.message)
    if outcome.status != BATCH_SUCCEEDED:
        raise SystemExit(1)


__all__ = ['load_command', 'undo_load_command']
