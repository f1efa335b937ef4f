"""API views. Every bad parameter is a 400 JSON error naming the parameter; nothing here
writes, so no CSRF token is involved."""
from __future__ import annotations

import base64
import binascii
from datetime import date, timedelta

from flask import abort, jsonify, request

from ..browse import flows as flow_queries
from ..browse import responses as queries
from ..browse.daily import daily_rows
from ..browse.filters import (
    FilterContext,
    parse_flow_filter,
    parse_flows,
    parse_size,
    parse_statuses,
)
from ..browse.trace import trace
from ..clock import utc_now, utc_today
from ..datasets import FLOW_CODE_PATTERN
from ..params import BadValue, check_day
from ..request_args import read_response_filter
from ..saved_views.opening import api_args
from ..templating import display_zone
from . import bp
from .openapi import openapi_document
from .saved_views import view_note
from .serialise import flow_item, response_item, trace_item

FLOWS_DEFAULT_SIZE = 100
DAILY_DEFAULT_DAYS = 30
DAILY_MAX_DAYS = 366


def _api_context() -> FilterContext:
    return FilterContext(utc_now(), display_zone(), api=True)


def bad_request(errors: dict[str, str]):
    body = {'error': {'status': 400, 'title': 'Bad request',
                      'message': ' '.join(errors.values()), 'fields': errors}}
    return jsonify(body), 400


@bp.route('/responses')
def responses():
    args, view, dropped, view_errors = api_args('responses')
    if view_errors:
        return bad_request(view_errors)
    parsed, cursor = read_response_filter(args, api=True)
    if not parsed.ok:
        return bad_request(parsed.errors)
    flt = parsed.filter
    page = queries.fetch_page(flt, cursor)
    count = queries.count_with_page(flt, page, first_page=cursor is None)
    return jsonify({
        'items': [response_item(row) for row in page.rows],
        'page': {'number': page.page, 'size': flt.size, 'next_cursor': page.next_cursor,
                 'prev_cursor': page.prev_cursor},
        'count': {'value': count.value, 'capped': count.capped},
        **view_note(view, dropped),
    })


@bp.route('/responses/<int:response_id>')
def response(response_id: int):
    row = queries.get_response(response_id)
    if row is None:
        abort(404, description=f'There is no response {response_id}.')
    traced = trace(row.correlation_id)
    return jsonify({**response_item(row), 'trace': [trace_item(other) for other in traced.rows],
                    'trace_capped': traced.capped})


def _flow_cursor(token: str) -> str:
    try:
        code = base64.urlsafe_b64decode((token + '=' * (-len(token) % 4)).encode('ascii')) \
            .decode('utf-8')
    except (ValueError, binascii.Error, UnicodeError):
        code = ''
    if not FLOW_CODE_PATTERN.match(code):
        raise ValueError('The cursor is damaged or out of date: start again without it.')
    return code


@bp.route('/flows')
def flows():
    args, view, dropped, view_errors = api_args('flows')
    parsed = parse_flow_filter(args)
    sized = parse_size(args, _api_context())
    errors = {**parsed.errors, **sized.errors, **view_errors}
    size = sized.values.get('size', FLOWS_DEFAULT_SIZE)
    after = None
    token = args.get('cursor', '').strip()
    if token:
        try:
            after = _flow_cursor(token)
        except ValueError as problem:
            errors['cursor'] = str(problem)
    if errors:
        return bad_request(errors)
    rows = flow_queries.list_flows(parsed.filter, utc_today(), limit=size + 1, after=after)
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if more and rows:
        next_cursor = base64.urlsafe_b64encode(rows[-1].flow.flow_code.encode('utf-8')) \
            .decode('ascii').rstrip('=')
    return jsonify({'items': [flow_item(row) for row in rows],
                    'page': {'size': size, 'next_cursor': next_cursor},
                    'count': flow_queries.count_flows(parsed.filter),
                    **view_note(view, dropped)})


@bp.route('/flows/<flow_code>')
def flow(flow_code: str):
    code = flow_code.strip().upper()
    summary = flow_queries.flow_summary(code, utc_today()) if FLOW_CODE_PATTERN.match(code) \
        else None
    if summary is None:
        abort(404, description=f'There is no flow {flow_code}.')
    return jsonify(flow_item(summary))


def _day(raw: str, name: str, errors: dict) -> date | None:
    try:
        return check_day(date.fromisoformat(raw))
    except BadValue as problem:
        errors[name] = f'{name}="{raw}" is out of range. {problem}'
    except ValueError:
        errors[name] = f'{name}="{raw}" is not a date: use YYYY-MM-DD.'
    return None


@bp.route('/stats/daily')
def daily():
    """Responses per UTC day and status (from the daily summary), summed over the chosen
    flows."""
    errors: dict[str, str] = {}
    last = _day(request.args['to'], 'to', errors) if request.args.get('to') else utc_today()
    first = _day(request.args['from'], 'from', errors) if request.args.get('from') else None
    flows, statuses = parse_flows(request.args), parse_statuses(request.args)
    errors.update(flows.errors)
    errors.update(statuses.errors)
    if last and first is None and 'from' not in errors:
        first = last - timedelta(days=DAILY_DEFAULT_DAYS - 1)
    if first and last:
        if first > last:
            errors['to'] = 'to must not be earlier than from.'
        elif (last - first).days + 1 > DAILY_MAX_DAYS:
            errors['from'] = f'Ask for at most {DAILY_MAX_DAYS} days at a time.'
    if errors:
        return bad_request(errors)
    rows = daily_rows(first, last, flow_codes=flows.values['flows'] or None,
                      statuses=statuses.values['statuses'] or None)
    return jsonify({
        'from': first.isoformat(), 'to': last.isoformat(), 'time_zone': 'UTC',
        'items': [{'day': day.isoformat(), 'status': status, 'responses': responses,
                   'duration_ms_sum': duration} for day, status, responses, duration in rows],
    })


@bp.route('/openapi.json')
def openapi():
    return jsonify(openapi_document())
