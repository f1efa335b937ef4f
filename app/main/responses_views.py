"""The response list (filters in the URL, keyset pages), one response, and exports of the
current filter."""
from __future__ import annotations

import itertools

from flask import Response as HttpResponse
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
)

from ..browse import responses as queries
from ..browse.filters import ID_MAX, PAGE_SIZES, RANGE_LABELS, SORTS
from ..browse.trace import trace
from ..clock import utc_now
from ..database import dialect_name
from ..exports import EXPORT_COLUMNS, export_filename, select_columns, time_formatter
from ..exports.columns import parse_columns
from ..exports.csv_export import csv_chunks
from ..exports.xlsx_export import write_xlsx
from ..models import STATUSES
from ..request_args import read_response_filter
from ..saved_views.opening import page_redirect
from . import bp
from .helpers import load_data_url, url_with_args

EXPORT_CHUNK_ROWS = 10_000


def _form_context(parsed):
    return dict(flt=parsed.filter, errors=parsed.errors, statuses=STATUSES, sorts=SORTS,
                range_labels=RANGE_LABELS, page_sizes=PAGE_SIZES, export_columns=EXPORT_COLUMNS,
                id_max=ID_MAX)


@bp.route('/responses')
def responses():
    view_redirect = page_redirect('responses')
    if view_redirect is not None:
        return view_redirect
    parsed, cursor = read_response_filter()
    context = _form_context(parsed)
    if not parsed.ok:
        return render_template('main/responses.html', page=None, count=None, names={},
                               **context), 400
    flt = parsed.filter
    page = queries.fetch_page(flt, cursor)
    count = queries.count_with_page(flt, page, first_page=cursor is None)
    names = queries.flow_names(row.flow_code for row in page.rows)
    empty_database = not page.rows and not flt.is_filtered and queries.total_responses() == 0
    return render_template('main/responses.html', page=page, count=count, names=names,
                           empty_database=empty_database, load_data_url=load_data_url(),
                           **context)


@bp.route('/responses/<int:response_id>')
def response_detail(response_id: int):
    row = queries.get_response(response_id)
    if row is None:
        abort(404, description=f'There is no response {response_id}. It may have been removed '
                               'by a load; search for it on the Responses page.')
    traced = trace(row.correlation_id)
    names = queries.flow_names([row.flow_code] + [other.flow_code for other in traced.rows])
    return render_template('main/response.html', row=row, flow_name=names.get(row.flow_code),
                           names=names, trace=traced)


def _export_filter():
    """The filter to export, or a redirect to the list showing what is wrong."""
    parsed, _cursor = read_response_filter(listing=False)
    column_error = parse_columns(request.args)[1]
    if column_error:
        parsed.errors['columns'] = column_error
    if not parsed.ok:
        for message in parsed.errors.values():
            flash(message, 'error')
        return None, redirect(url_with_args('main.responses', parsed.filter.query_args()))
    return parsed.filter, None


@bp.route('/responses/export.csv')
def export_csv():
    flt, refusal = _export_filter()
    if refusal:
        return refusal
    chunks = queries.iter_chunks(flt, columns=select_columns(dialect_name()),
                                 chunk=EXPORT_CHUNK_ROWS)
    # The first query runs before the answer starts, so a database that is down gets the 503
    # page rather than a download cut off after its header line.
    first = next(chunks, None)
    chunks = itertools.chain(() if first is None else (first,), chunks)
    chunks = csv_chunks(chunks, time_formatter(current_app.config['DISPLAY_TIMEZONE'] or 'UTC'),
                        columns=parse_columns(request.args)[0])
    response = HttpResponse(stream_with_context(chunks), mimetype='text/csv')
    response.headers['Content-Type'] = 'text/csv; charset=utf-8'
    response.headers['Content-Disposition'] = \
        f'attachment; filename="{export_filename("csv", utc_now())}"'
    response.headers['Cache-Control'] = 'no-store'
    return response


@bp.route('/responses/export.xlsx')
def export_xlsx():
    flt, refusal = _export_filter()
    if refusal:
        return refusal
    limit = current_app.config['EXPORT_XLSX_MAX_ROWS']
    if queries.count_up_to(flt, limit) > limit:
        flash(f'This filter matches more than {limit:,} responses, the most an Excel export '
              'holds (setting EXPORT_XLSX_MAX_ROWS). Narrow the filter, or export CSV, which '
              'has no limit.', 'warning')
        return redirect(url_with_args('main.responses', flt.query_args()))
    chunks = queries.iter_chunks(flt, columns=select_columns(dialect_name()),
                                 chunk=EXPORT_CHUNK_ROWS)
    output = write_xlsx((row for chunk in chunks for row in chunk),
                        time_formatter(current_app.config['DISPLAY_TIMEZONE'] or 'UTC'),
                        columns=parse_columns(request.args)[0])
    return send_file(output, as_attachment=True, download_name=export_filename('xlsx', utc_now()),
                     mimetype='application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
                     max_age=0)
