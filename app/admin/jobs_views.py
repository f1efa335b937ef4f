"""The admin jobs page (each job's interval, last run, outcome and next due time; the recent
runs with their errors) and the banner every admin sees when the scheduler has stopped."""
from __future__ import annotations

from flask import current_app, g, render_template, request

from ..clock import utc_now
from ..extensions import db
from ..jobs.registry import all_jobs
from ..jobs.status import job_statuses, recent_runs, scheduler_health, staleness
from . import bp

RECENT_RUNS = 100


@bp.route('/jobs')
def jobs():
    names = [job.name for job in all_jobs()]
    chosen = request.args.get('job', '')
    chosen = chosen if chosen in names else ''
    return render_template('admin/jobs.html', statuses=job_statuses(),
                           runs=recent_runs(RECENT_RUNS, chosen or None), names=names,
                           chosen=chosen, health=scheduler_health(utc_now()),
                           tick_interval=current_app.config['JOBS_TICK_INTERVAL_SECONDS'])


@bp.app_context_processor
def scheduler_banner():
    """``scheduler_warning`` for the layout: said to admins on every page while the scheduler
    is stopped (it is the admins who can restart it)."""
    user = g.get('user')
    if user is None or not user.is_admin:
        return {}
    try:
        _age, stale, message = staleness(utc_now())
    except Exception:  # pages must render while a database is away; /healthz says why
        db.session.rollback()
        current_app.logger.warning('Scheduler health could not be read', exc_info=True)
        return {}
    return {'scheduler_warning': message if stale else None}
