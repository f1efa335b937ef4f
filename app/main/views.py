"""The dashboard and the identity check page."""
from datetime import timedelta

from flask import abort, current_app, render_template, request

from ..browse import dashboard
from ..browse.cache import FiguresCache, data_version
from ..browse.daily import CHART_DAYS, daily_series
from ..browse.responses import total_responses
from ..clock import utc_now
from . import bp
from .helpers import load_data_url


@bp.route('/')
def index():
    """Dashboard: the last 24 h against the 24 h before, flows failing now, responses per day,
    top failing flows and error reasons — each linking to the matching responses."""
    days = request.args.get('days', type=int, default=CHART_DAYS[0])
    if days not in CHART_DAYS:
        abort(400, description=f'The chart shows {" or ".join(map(str, CHART_DAYS))} days.')
    context = dict(days=days, chart_days=CHART_DAYS, load_data_url=load_data_url(),
                   failing_window_hours=int(dashboard.FAILING_WINDOW.total_seconds() // 3600),
                   failing_min=dashboard.FAILING_MIN_RESPONSES,
                   failing_share=dashboard.FAILING_ERROR_SHARE, top_days=dashboard.TOP_DAYS)
    context.update(cached_figures(days))
    return render_template('main/index.html', **context)


def dashboard_figures(days: int) -> dict:
    now = utc_now()
    today = now.date()
    figures = dict(total=total_responses(), as_of=now)
    if figures['total']:
        last, before = dashboard.periods((now - timedelta(hours=24), now),
                                         (now - timedelta(hours=48), now - timedelta(hours=24)))
        figures.update(
            last=last, before=before, failing=dashboard.failing_now(now),
            series=daily_series(today, days),
            top_flows=dashboard.top_failing_flows(today),
            top_reasons=dashboard.top_error_reasons(now),
        )
    return figures


def cached_figures(days: int) -> dict:
    """The dashboard's figures, reused for DASHBOARD_CACHE_SECONDS by this process until the
    next load, undo or seed (0: always computed)."""
    ttl = current_app.config['DASHBOARD_CACHE_SECONDS']
    if ttl <= 0:
        return dashboard_figures(days)
    cache = current_app.extensions.setdefault('flowdesk_dashboard_cache', FiguresCache(ttl))
    return cache.get((data_version(), days), lambda: dashboard_figures(days))


@bp.route('/whoami')
def whoami():
    """Who Flowdesk thinks you are: the first page to check after deploying to IIS."""
    return render_template('main/whoami.html')
