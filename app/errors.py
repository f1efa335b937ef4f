"""Error pages in the site layout (and JSON errors for the API). No traceback ever reaches a
user outside development: unexpected errors are logged and answered with the 500 page."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

#: code -> (title, what the person can do about it)
ERROR_TEXTS = {
    400: ('Bad request', 'The request could not be understood. If you submitted a form, '
                         'reload the page and try again.'),
    401: ('Sign-in needed', 'Flowdesk did not receive your Windows identity.'),
    403: ('Not allowed', 'You do not have access to this page.'),
    404: ('Not found', 'There is nothing at this address. Check the link, or start again '
                       'from the dashboard.'),
    405: ('Method not allowed', 'This address does not accept that kind of request.'),
    413: ('File too large', 'The upload is larger than Flowdesk accepts.'),
    500: ('Something went wrong', 'Flowdesk hit an unexpected error. It has been logged; '
                                  'please try again, and tell the Flowdesk team if it persists.'),
    503: ('Temporarily unavailable', 'A Flowdesk database is not answering right now. '
                                     'Please try again in a few minutes.'),
}


def wants_json() -> bool:
    if request.path.startswith('/api/'):
        return True
    best = request.accept_mimetypes.best_match(['application/json', 'text/html'])
    return best == 'application/json' and request.accept_mimetypes[best] > \
        request.accept_mimetypes['text/html']


def error_detail(error: HTTPException) -> str:
    """The specific message a view gave with abort(code, description=...), else the default."""
    default_description = type(error).description if hasattr(type(error), 'description') else None
    if error.description and error.description != default_description:
        return error.description
    return ERROR_TEXTS.get(error.code, (error.name, error.description))[1]


def render_error(error: HTTPException):
    code = error.code or 500
    title = ERROR_TEXTS.get(code, (error.name, ''))[0]
    detail = error_detail(error)
    if code == 413:
        limit_mb = (current_app.config.get('MAX_CONTENT_LENGTH') or 0) // (1024 * 1024)
        detail = (f'The upload is larger than the {limit_mb:,} MB Flowdesk accepts. Split the file, '
                  'or load it with the command line (flask load), which has no size limit.')
    if wants_json():
        response = jsonify(error={'status': code, 'title': title, 'message': detail})
    else:
        response = current_app.make_response(
            (render_template('errors/error.html', code=code, title=title, detail=detail), code))
    if code == 401:
        response.headers['WWW-Authenticate'] = 'Negotiate'
    if code == 405 and getattr(error, 'valid_methods', None):
        response.headers['Allow'] = ', '.join(error.valid_methods)
    if code == 503:
        response.headers['Retry-After'] = '60'
    return response, code


def handle_database_error(error: DBAPIError):
    current_app.logger.error('Database unavailable: %s', str(error).splitlines()[0][:300])
    from .extensions import db
    db.session.rollback()
    return render_error(ServiceUnavailable())


def handle_unexpected(error: Exception):
    current_app.logger.exception('Unhandled error on %s %s', request.method, request.path)
    return render_error(InternalServerError())


def register_error_handlers(app) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
