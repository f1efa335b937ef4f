"""Admin pages for source profiles (on the admin blueprint): the list with the built-in
profiles, the editor with its preview, copy, delete, and JSON export and import. Every change
is audited with what changed."""
from __future__ import annotations

from flask import Response as HttpResponse
from flask import abort, current_app, flash, g, redirect, render_template, url_for
from sqlalchemy import select, update

from .. import audit
from ..admin import bp
from ..clock import utc_now
from ..extensions import db
from ..forms import ButtonForm
from ..loading.storage import store_upload
from ..models import Inbox, SourceProfile
from .builtins import SAP_CPI
from .definition import DefinitionError, dumps, loads
from .forms import ImportForm, ProfileForm, check_name
from .preview import preview
from .store import builtin_profiles, find_profile
from .transfer import export_text, read_import

#: What a new profile's editor starts from: the built-in CPI profile, to adapt.
STARTER = SAP_CPI


def get_profile(profile_id: int) -> SourceProfile:
    return db.get_or_404(SourceProfile, profile_id, description='There is no such source '
                                                                'profile: the list may be out of '
                                                                'date, reload it.')


def get_builtin(number: int):
    profiles = builtin_profiles()
    if not 1 <= number <= len(profiles):
        abort(404, description='There is no such built-in profile.')
    return profiles[number - 1]


def signature_of(row: SourceProfile) -> str:
    try:
        return ', '.join(loads(row.definition).signature)
    except DefinitionError as error:
        return f'(not usable: {error})'


@bp.route('/profiles')
def profiles():
    rows = db.session.scalars(select(SourceProfile).order_by(SourceProfile.name)).all()
    return render_template('admin/profiles.html', profiles=[(row, signature_of(row)) for row in rows],
                           builtins=builtin_profiles(),
                           action_form=ButtonForm(), import_form=ImportForm(),
                           page_title='Source profiles')


def run_preview(form: ProfileForm, name: str):
    """The preview of the form's definition on its sample (None without a sample)."""
    try:
        definition = loads(form.definition.data)
    except DefinitionError as error:
        for problem in error.problems:
            flash(problem, 'error')
        return None
    if not form.sample.data:
        flash('The definition is valid. Choose a sample file to see it mapped.', 'info')
        return None
    stored = store_upload(form.sample.data.stream, current_app.config['UPLOAD_FOLDER'])
    return preview(definition, name or 'new profile', stored.path)


def save(form: ProfileForm, row: SourceProfile | None):
    """Store the form's profile (audited); None when the definition has problems."""
    try:
        definition = loads(form.definition.data)
    except DefinitionError as error:
        form.definition.errors = list(error.problems)
        return None
    text, name = dumps(definition), form.name.data.strip()
    if row is None:
        row = SourceProfile(created_at=utc_now())
        db.session.add(row)
        action, detail = 'profile.created', text
    else:
        changes = [f'name: {row.name} → {name}'] if row.name != name else []
        if changes:  # inboxes name their profile: they follow the rename
            db.session.execute(update(Inbox).where(Inbox.profile == row.name)
                               .values(profile=name))
        if row.definition != text:
            changes.append(f'definition now: {text}')
        if not changes:
            flash('Nothing was changed.', 'info')
            return redirect(url_for('admin.profiles'), code=303)
        action, detail = 'profile.changed', '; '.join(changes)
    row.name, row.dataset, row.definition = name, definition.dataset, text
    row.updated_at, row.updated_by = utc_now(), g.user.login
    audit.record(action, target=f'source profile {name}', detail=detail)
    db.session.commit()
    flash(f'Source profile {name} saved.', 'success')
    return redirect(url_for('admin.profiles'), code=303)


def editor(form: ProfileForm, row: SourceProfile | None):
    result = None
    if form.validate_on_submit():
        if form.save.data:
            response = save(form, row)
            if response is not None:
                return response
        else:
            result = run_preview(form, form.name.data)
    status = 400 if form.errors else 200
    return render_template('admin/profile_form.html', form=form, profile=row, builtin=None,
                           result=result, page_title=row.name if row else 'New source profile'
                           ), status


@bp.route('/profiles/new', methods=['GET', 'POST'])
def new_profile():
    form = ProfileForm()
    if not form.is_submitted():
        form.definition.data = dumps(find_profile(STARTER).definition)
    return editor(form, None)


@bp.route('/profiles/<int32:profile_id>/edit', methods=['GET', 'POST'])
def edit_profile(profile_id: int):
    row = get_profile(profile_id)
    form = ProfileForm(obj=row, profile_id=row.id)
    return editor(form, row)


@bp.route('/profiles/builtin/<int32:number>', methods=['GET', 'POST'])
def builtin_profile(number: int):
    """A built-in profile, read-only, with the preview."""
    profile = get_builtin(number)
    form = ProfileForm(data={'name': profile.name, 'definition': dumps(profile.definition)})
    result = None
    if form.is_submitted():
        if not form.validate_on_submit() and 'csrf_token' in form.errors:
            abort(400)
        form.definition.data = dumps(profile.definition)
        result = run_preview(form, profile.name)
    return render_template('admin/profile_form.html', form=form, profile=None, builtin=number,
                           result=result, page_title=profile.name)


@bp.route('/profiles/builtin/<int32:number>/copy', methods=['POST'])
def copy_builtin(number: int):
    if not ButtonForm().validate_on_submit():
        abort(400)
    profile = get_builtin(number)
    name = f'{profile.name} (copy)'
    suffix = 1
    while find_profile(name) is not None:
        suffix += 1
        name = f'{profile.name} (copy {suffix})'
    row = SourceProfile(name=name, dataset=profile.dataset, definition=dumps(profile.definition),
                        created_at=utc_now(), updated_at=utc_now(), updated_by=g.user.login)
    db.session.add(row)
    audit.record('profile.created', target=f'source profile {name}',
                 detail=f'copied from the built-in profile {profile.name}')
    db.session.commit()
    flash(f'Source profile {name} created from {profile.name}: adapt it here.', 'success')
    return redirect(url_for('admin.edit_profile', profile_id=row.id), code=303)


@bp.route('/profiles/<int32:profile_id>/delete', methods=['POST'])
def delete_profile(profile_id: int):
    if not ButtonForm().validate_on_submit():
        abort(400)
    row = get_profile(profile_id)
    users = db.session.scalars(select(Inbox.name).where(Inbox.profile == row.name)).all()
    if users:
        flash(f'Source profile {row.name} is used by the inbox{"es" if len(users) > 1 else ""} '
              f'{", ".join(users)}: choose another profile there first.', 'error')
        return redirect(url_for('admin.profiles'), code=303)
    audit.record('profile.deleted', target=f'source profile {row.name}', detail=row.definition)
    db.session.delete(row)
    db.session.commit()
    flash(f'Source profile {row.name} deleted.', 'success')
    return redirect(url_for('admin.profiles'), code=303)


def json_download(name: str, text: str) -> HttpResponse:
    safe = ''.join(c if c.isalnum() or c in '-_' else '_' for c in name)[:80]
    return HttpResponse(text, mimetype='application/json', headers={
        'Content-Disposition': f'attachment; filename="profile-{safe}.json"'})


@bp.route('/profiles/<int32:profile_id>/export.json')
def export_profile(profile_id: int):
    row = get_profile(profile_id)
    return json_download(row.name, export_text(row.name, loads(row.definition)))


@bp.route('/profiles/builtin/<int32:number>/export.json')
def export_builtin(number: int):
    profile = get_builtin(number)
    return json_download(profile.name, export_text(profile.name, profile.definition))


@bp.route('/profiles/import', methods=['POST'])
def import_profile():
    form = ImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(' '.join(errors), 'error')
        return redirect(url_for('admin.profiles'), code=303)
    try:
        name, definition = read_import(form.file.data.read())
    except DefinitionError as error:
        flash('Not imported: ' + ' '.join(error.problems), 'error')
        return redirect(url_for('admin.profiles'), code=303)
    row = db.session.scalar(select(SourceProfile).where(SourceProfile.name == name))
    try:
        check_name(name, row.id if row is not None and form.replace.data else None)
    except ValueError as error:
        flash(f'Not imported: {name}: {error} Tick "Replace" to overwrite it.'
              if row is not None else f'Not imported: {name}: {error}', 'error')
        return redirect(url_for('admin.profiles'), code=303)
    row = row or SourceProfile(name=name, created_at=utc_now())
    row.dataset, row.definition = definition.dataset, dumps(definition)
    row.updated_at, row.updated_by = utc_now(), g.user.login
    db.session.add(row)
    audit.record('profile.imported', target=f'source profile {name}', detail=row.definition)
    db.session.commit()
    flash(f'Source profile {name} imported.', 'success')
    return redirect(url_for('admin.profiles'), code=303)
