"""The flow list and one flow's page."""
from __future__ import annotations

from flask import abort, render_template, request

from ..browse import flows as flow_queries
from ..browse import responses as queries
from ..browse.daily import CHART_DAYS, daily_series
from ..browse.filters import ResponseFilter, parse_flow_filter
from ..clock import utc_today
from ..datasets import FLOW_CODE_PATTERN
from ..models import FLOW_TYPES
from ..params import BadValue, parse_page
from ..saved_views.opening import page_redirect
from . import bp
from .helpers import load_data_url

LATEST_RESPONSES = 20


@bp.route('/flows')
def flows():
    view_redirect = page_redirect('flows')
    if view_redirect is not None:
        return view_redirect
    parsed = parse_flow_filter(request.args)
    try:
        page = parse_page(request.args)
    except BadValue as problem:
        page, parsed.errors['page'] = 1, str(problem)
    context = dict(flt=parsed.filter, errors=parsed.errors, flow_types=FLOW_TYPES,
                   choices=flow_queries.filter_choices(), page=page,
                   per_page=flow_queries.FLOWS_PER_PAGE, load_data_url=load_data_url(),
                   rate_days=flow_queries.RATE_DAYS)
    if not parsed.ok:
        return render_template('main/flows.html', rows=[], total=0, **context), 400
    total = flow_queries.count_flows(parsed.filter)
    rows = flow_queries.list_flows(parsed.filter, utc_today(),
                                   offset=(page - 1) * flow_queries.FLOWS_PER_PAGE)
    return render_template('main/flows.html', rows=rows, total=total, **context)


@bp.route('/flows/<flow_code>')
def flow_detail(flow_code: str):
    code = flow_code.strip().upper()
    if not FLOW_CODE_PATTERN.match(code):
        abort(404, description=f'"{flow_code}" is not a flow code.')
    days = request.args.get('days', type=int, default=CHART_DAYS[0])
    if days not in CHART_DAYS:
        abort(400, description=f'The chart shows {" or ".join(map(str, CHART_DAYS))} days.')
    today = utc_today()
    summary = flow_queries.flow_summary(code, today)
    if summary is None:
        abort(404, description=f'There is no flow {code}. Find flows on the Flows page.')
    latest = queries.fetch_page(ResponseFilter(flows=(code,), size=LATEST_RESPONSES), None)
    return render_template('main/flow.html', summary=summary, flow=summary.flow,
                           latest=latest.rows, series=daily_series(today, days, code),
                           days=days, chart_days=CHART_DAYS, rate_days=flow_queries.RATE_DAYS)
