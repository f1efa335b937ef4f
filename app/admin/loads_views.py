"""Admin pages for data loads: upload (with dry run), confirmation of an identical file, the
load history, a batch's detail page with its problems and error report, load-after-dry-run and
undo. Every POST redirects to a page that can be reloaded safely."""
from __future__ import annotations

import csv

from flask import Response as HttpResponse
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import func, select

from .. import audit
from ..datasets import DATASETS
from ..extensions import db
from ..forms import ButtonForm
from ..loading import (
    MODE_HELP,
    SHOWN_ON_PAGE,
    DuplicateFile,
    LoadRefused,
    LoadRequest,
    run_load,
    sweep_interrupted,
    undo_batch,
    undoable_batch_ids,
)
from ..loading.readers import DELIMITER_NAMES
from ..loading.report import LineBuffer, report_rows
from ..loading.storage import discard_if_changed, purge_expired, store_upload, stored_upload, touch
from ..models import BATCH_SUCCEEDED, BATCH_VALIDATED, LoadBatch, LoadError
from ..params import optional_id, page_number
from ..profiles import detect, file_header, resolve
from ..profiles.store import profile_names
from . import bp
from .forms import DETECT_PROFILE, NO_PROFILE, StoredLoadForm, UploadForm

BATCHES_PER_PAGE = 50
DELIMITER_CHARACTERS = {name: character for character, name in DELIMITER_NAMES.items()}


def upload_folder():
    return current_app.config['UPLOAD_FOLDER']


def retention_hours() -> int:
    return current_app.config['UPLOAD_RETENTION_HOURS']


def start_load(*, dataset, mode, encoding, stored, file_name, dry_run, allow_duplicate=False,
               delimiter=None, profile=None):
    """Run a load and send the admin to its batch page (or to the confirmation page).
    ``profile``: the name of the source profile that maps the file (None: none)."""
    try:
        load = LoadRequest(dataset=dataset, mode=mode, path=stored.path, file_name=file_name,
                           user=g.user.login, dry_run=dry_run, encoding=encoding,
                           delimiter=DELIMITER_CHARACTERS.get(delimiter),
                           allow_duplicate=allow_duplicate, sha256=stored.sha256,
                           size=stored.size, profile=resolve(profile))
        outcome = run_load(load)
    except DuplicateFile as duplicate:
        return redirect(url_for('admin.confirm_load', sha256=stored.sha256, dataset=dataset,
                                mode=mode, encoding=encoding, delimiter=delimiter or '',
                                file_name=file_name, profile=profile or '',
                                previous=duplicate.previous.id))
    except LoadRefused as refused:
        flash(str(refused), 'error')
        return None
    flash(outcome.summary, 'success' if outcome.ok else 'error')
    for warning in outcome.warnings:
        flash(f'Warning: {warning}', 'warning')
    return redirect(url_for('admin.batch', batch_id=outcome.batch_id))


@bp.route('/loads', methods=['GET', 'POST'])
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        purge_expired(upload_folder(), retention_hours())
        upload_file = form.file.data
        stored = store_upload(upload_file.stream, upload_folder())
        touch(stored)
        file_name = upload_file.filename or 'upload'
        profile = chosen_profile(form, stored)
        if profile is not None and form.profile.data == DETECT_PROFILE:
            return recognised(form, stored, file_name, profile)
        response = start_load(dataset=form.dataset.data, mode=form.mode.data,
                              encoding=form.encoding.data, stored=stored, file_name=file_name,
                              dry_run=form.dry_run.data, profile=profile)
        if response is not None:
            return response
        status = 409
    else:
        status = 400 if form.errors else 200
    return render_template('admin/upload.html', form=form, datasets=DATASETS.values(),
                           modes=MODE_HELP, page_title='Load data',
                           max_mb=(current_app.config.get('MAX_CONTENT_LENGTH') or 0) // (1 << 20),
                           retention=retention_hours(),
                           max_skew=current_app.config['MAX_CLOCK_SKEW_MINUTES'],
                           earliest=current_app.config['EARLIEST_RESPONSE_DATE'],
                           data_timezone=current_app.config['DATA_TIMEZONE']), status


def chosen_profile(form: UploadForm, stored) -> str | None:
    """The profile the admin chose, or the one the file's header is recognised as."""
    choice = form.profile.data
    if choice == NO_PROFILE:
        return None
    if choice != DETECT_PROFILE:
        return choice
    found = detect(file_header(stored.path, form.encoding.data), dataset=form.dataset.data)
    return found.name if found else None


def recognised(form: UploadForm, stored, file_name: str, profile: str):
    """The file is a platform's export: say which profile recognised it, and let the admin
    load it with that profile, another one, or none."""
    load_form = StoredLoadForm(formdata=None, data={
        'sha256': stored.sha256, 'dataset': form.dataset.data, 'mode': form.mode.data,
        'encoding': form.encoding.data, 'delimiter': '', 'file_name': file_name,
        'allow_duplicate': '', 'profile': profile, 'dry_run': '1' if form.dry_run.data else ''})
    return render_template('admin/recognised_load.html', form=load_form, profile=profile,
                           names=profile_names(form.dataset.data),
                           page_title=f'Recognised as {profile}')


@bp.route('/loads/confirm')
def confirm_load():
    sha256 = request.args.get('sha256', '')
    stored = stored_upload(upload_folder(), sha256, retention_hours())
    if stored is None:
        abort(404, description='That upload is no longer kept on the server: upload the file '
                               'again.')
    previous = db.session.get(LoadBatch, optional_id(request.args, 'previous') or 0)
    form = StoredLoadForm(data={
        'sha256': sha256, 'dataset': request.args.get('dataset'), 'mode': request.args.get('mode'),
        'encoding': request.args.get('encoding', 'auto'),
        'delimiter': request.args.get('delimiter', ''),
        'file_name': request.args.get('file_name', 'upload'), 'allow_duplicate': '1',
        'profile': request.args.get('profile', '')})
    return render_template('admin/confirm_load.html', form=form, previous=previous,
                           page_title='Load an identical file again?')


@bp.route('/loads/stored', methods=['POST'])
def load_stored():
    form = StoredLoadForm()
    if not form.validate_on_submit():
        abort(400, description='The load request was incomplete; upload the file again.')
    stored = stored_upload(upload_folder(), form.sha256.data, retention_hours())
    if stored is None:
        abort(410, description='That upload is no longer kept on the server '
                               f'(uploads are kept {retention_hours()} hours): upload it again.')
    if discard_if_changed(stored):
        audit.record('upload.discarded', target=f'upload {stored.sha256[:12]}…',
                     detail=f'{form.file_name.data}: the kept file no longer has the SHA-256 it '
                            'was uploaded with, so it was deleted instead of loaded.')
        db.session.commit()
        abort(409, description='The kept copy of this file has changed on the server since it '
                               'was uploaded, so Flowdesk deleted it and loaded nothing. Upload '
                               'the file again.')
    response = start_load(dataset=form.dataset.data, mode=form.mode.data,
                          encoding=form.encoding.data, stored=stored,
                          file_name=form.file_name.data, dry_run=form.dry_run.data == '1',
                          allow_duplicate=form.allow_duplicate.data == '1',
                          delimiter=form.delimiter.data or None,
                          profile=form.profile.data or None)
    return response or redirect(url_for('admin.upload'))


@bp.route('/batches')
def batches():
    sweep_interrupted()
    page = page_number(request.args)
    dataset = request.args.get('dataset') or None
    if dataset is not None and dataset not in DATASETS:
        abort(400, description=f'Unknown dataset: use one of {", ".join(DATASETS)}.')
    query = select(LoadBatch).order_by(LoadBatch.id.desc())
    if dataset:
        query = query.where(LoadBatch.dataset == dataset)
    pagination = db.paginate(query, page=page, per_page=BATCHES_PER_PAGE, error_out=False)
    return render_template('admin/batches.html', pagination=pagination, dataset=dataset,
                           datasets=DATASETS, undoable=undoable_batch_ids(), form=ButtonForm(),
                           page_title='Load history')


@bp.route('/batches/<int32:batch_id>')
def batch(batch_id: int):
    record = db.get_or_404(LoadBatch, batch_id, description=f'There is no load batch #{batch_id}.')
    problems = db.session.scalars(select(LoadError).where(LoadError.batch_id == batch_id)
                                  .order_by(LoadError.id).limit(SHOWN_ON_PAGE)).all()
    kept = db.session.scalar(select(func.count()).select_from(LoadError)
                             .where(LoadError.batch_id == batch_id))
    can_load = (record.dry_run and record.status == BATCH_VALIDATED and record.sha256 is not None
                and stored_upload(upload_folder(), record.sha256, retention_hours()) is not None)
    load_form = None
    if can_load:
        load_form = StoredLoadForm(data={
            'sha256': record.sha256, 'dataset': record.dataset, 'mode': record.mode,
            'encoding': record.encoding or 'auto', 'delimiter': record.delimiter or '',
            'file_name': record.file_name or 'upload', 'allow_duplicate': '',
            'profile': record.profile or ''})
    return render_template('admin/batch.html', batch=record, problems=problems, kept=kept,
                           shown=SHOWN_ON_PAGE, load_form=load_form,
                           can_undo=batch_id in undoable_batch_ids(), form=ButtonForm(),
                           page_title=f'Load batch #{batch_id}')


@bp.route('/batches/<int32:batch_id>/errors.csv')
def batch_errors(batch_id: int):
    record = db.get_or_404(LoadBatch, batch_id, description=f'There is no load batch #{batch_id}.')
    kept = db.session.scalar(select(func.count()).select_from(LoadError)
                             .where(LoadError.batch_id == batch_id))
    total = record.error_count

    def generate():
        buffer = LineBuffer()
        writer = csv.writer(buffer)
        yield '\ufeff'  # Excel opens UTF-8 CSV correctly only with a BOM
        problems = db.session.execute(select(LoadError).where(LoadError.batch_id == batch_id)
                                      .order_by(LoadError.id).execution_options(yield_per=2000)
                                      ).scalars()
        for row in report_rows(problems, total, kept):
            writer.writerow(row)
            yield buffer.take()

    headers = {'Content-Disposition': f'attachment; filename="batch-{batch_id}-errors.csv"'}
    return HttpResponse(stream_with_context(generate()), mimetype='text/csv', headers=headers)


@bp.route('/batches/<int32:batch_id>/undo', methods=['POST'])
def undo(batch_id: int):
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        outcome = undo_batch(batch_id, g.user.login)
    except LoadRefused as refused:
        flash(str(refused), 'error')
        return redirect(url_for('admin.batch', batch_id=batch_id))
    flash(outcome.message, 'success' if outcome.status == BATCH_SUCCEEDED else 'error')
    return redirect(url_for('admin.batch', batch_id=outcome.batch_id))
