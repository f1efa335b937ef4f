"""The OpenAPI 3 description of /api/v1, built from the same constants the views validate with
(statuses, ranges, sorts, page sizes), so the document cannot drift from the parameters; the API
tests check every documented parameter and route against the app."""
from __future__ import annotations

from flask import current_app, request

from .. import __version__
from ..browse.filters import API_MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, ID_MAX, RANGE_LABELS, SORTS
from ..browse.trace import TRACE_LIMIT
from ..datasets import FLOW_CODE_PATTERN
from ..models import FLOW_TYPES, STATUSES

DESCRIPTION = (
    'Read-only access to Flowdesk flows and responses. Authentication is the same as for the '
    'pages: Windows Authentication in IIS (REMOTE_USER); requests without an identity get 401. '
    'Lists are paged with opaque cursors: pass `page.next_cursor` (or `prev_cursor`) back as '
    '`cursor` with the same filters. Times are ISO 8601 in UTC; `from`/`to` without an offset '
    'are read in the display time zone.')

#: FLOW_CODE_PATTERN, which the API applies after upper-casing the code, anchored the way
#: JSON Schema (ECMA-262) patterns are.
FLOW_CODE_ANY_CASE = ('^' + FLOW_CODE_PATTERN.pattern.removesuffix(r'\Z').replace('A-Z', 'A-Za-z')
                      + '$')


def _param(name, description, schema, repeated=False):
    if repeated:
        schema = {'type': 'array', 'items': schema}
    param = {'name': name, 'in': 'query', 'required': False, 'description': description,
             'schema': schema}
    if repeated:
        param.update(style='form', explode=True)
    return param


RESPONSE_PARAMETERS = [
    _param('q', 'Text contained in the error reason, flow code or flow name (3–200 characters).',
           {'type': 'string', 'minLength': 3, 'maxLength': 200}),
    _param('id', 'A message id or correlation id, matched exactly: the responses carrying it '
                 'as either, e.g. every run of one message across flows.',
           {'type': 'string', 'maxLength': ID_MAX}),
    _param('flow', 'Flow code; repeat or separate with commas for several.',
           {'type': 'string'}, repeated=True),
    _param('status', 'Status; repeat or separate with commas for several.',
           {'type': 'string', 'enum': list(STATUSES)}, repeated=True),
    _param('range', 'Time range preset, or `custom` with from/to.',
           {'type': 'string', 'enum': list(RANGE_LABELS), 'default': 'all'}),
    _param('from', 'Start (inclusive): YYYY-MM-DD or ISO 8601 date-time.', {'type': 'string'}),
    _param('to', 'End (exclusive; a bare date includes that whole day).', {'type': 'string'}),
    _param('result_code', 'Result code (HTTP status or exit code).',
           {'type': 'integer', 'format': 'int32'}),
    _param('sort', 'Order of the rows.', {'type': 'string', 'enum': list(SORTS),
                                          'default': 'newest'}),
    _param('size', 'Rows per page.', {'type': 'integer', 'minimum': 1,
                                      'maximum': API_MAX_PAGE_SIZE,
                                      'default': DEFAULT_PAGE_SIZE}),
    _param('cursor', 'Opaque cursor from a previous page.', {'type': 'string'}),
]
FLOW_PARAMETERS = [
    _param('q', 'Text contained in the flow code or name.', {'type': 'string', 'maxLength': 200}),
    _param('type', 'Flow type.', {'type': 'string', 'enum': list(FLOW_TYPES)}),
    _param('team', 'Owner team (exact).', {'type': 'string'}),
    _param('system', 'Source or target system (exact).', {'type': 'string'}),
    _param('size', 'Flows per page.', {'type': 'integer', 'minimum': 1,
                                       'maximum': API_MAX_PAGE_SIZE, 'default': 100}),
    _param('cursor', 'Opaque cursor from a previous page.', {'type': 'string'}),
]
DAILY_PARAMETERS = [
    _param('from', 'First UTC day (default: 29 days before `to`).',
           {'type': 'string', 'format': 'date'}),
    _param('to', 'Last UTC day (default: today).', {'type': 'string', 'format': 'date'}),
    _param('flow', 'Flow code; repeat for several (default: all flows).', {'type': 'string'},
           repeated=True),
    _param('status', 'Status; repeat for several.', {'type': 'string', 'enum': list(STATUSES)},
           repeated=True),
]

#: path (Flask rule under /api/v1) -> (operation id, summary, query parameters, schema name)
OPERATIONS = {
    '/responses': ('listResponses', 'Responses matching the filters, one page',
                   RESPONSE_PARAMETERS, 'ResponsePage'),
    '/responses/{response_id}': ('getResponse', 'One response, with the responses that share '
                                 'its correlation id', [], 'ResponseDetail'),
    '/flows': ('listFlows', 'Flows with their last response and 7-day error rate',
               FLOW_PARAMETERS, 'FlowPage'),
    '/flows/{flow_code}': ('getFlow', 'One flow', [], 'Flow'),
    '/stats/daily': ('dailyStats', 'Responses per UTC day and status (daily summary)',
                     DAILY_PARAMETERS, 'DailyStats'),
    '/openapi.json': ('openapi', 'This description', [], None),
}
PATH_PARAMETERS = {
    '/responses/{response_id}': [{'name': 'response_id', 'in': 'path', 'required': True,
                                  'schema': {'type': 'integer', 'format': 'int64'}}],
    '/flows/{flow_code}': [{'name': 'flow_code', 'in': 'path', 'required': True,
                            'description': 'Flow code (letters in either case).',
                            'schema': {'type': 'string', 'pattern': FLOW_CODE_ANY_CASE}}],
}

_nullable_int = {'type': 'integer', 'nullable': True}
_nullable_text = {'type': 'string', 'nullable': True}
SCHEMAS = {
    'Error': {'type': 'object', 'properties': {'error': {'type': 'object', 'properties': {
        'status': {'type': 'integer'}, 'title': {'type': 'string'},
        'message': {'type': 'string'},
        'fields': {'type': 'object', 'additionalProperties': {'type': 'string'},
                   'description': 'Parameter name -> what is wrong with it (400 only).'}}}}},
    'Response': {'type': 'object', 'properties': {
        'response_id': {'type': 'integer', 'format': 'int64'},
        'flow_code': {'type': 'string'},
        'responded_at': {'type': 'string', 'format': 'date-time'},
        'status': {'type': 'string', 'enum': list(STATUSES)},
        'result_code': _nullable_int, 'duration_ms': _nullable_int,
        'error_reason': _nullable_text, 'payload_bytes': _nullable_int,
        'message_id': _nullable_text, 'correlation_id': _nullable_text}},
    'ResponsePage': {'type': 'object', 'properties': {
        'items': {'type': 'array', 'items': {'$ref': '#/components/schemas/Response'}},
        'page': {'type': 'object', 'properties': {
            'number': {'type': 'integer'}, 'size': {'type': 'integer'},
            'next_cursor': _nullable_text, 'prev_cursor': _nullable_text}},
        'count': {'type': 'object', 'properties': {
            'value': {'type': 'integer'},
            'capped': {'type': 'boolean', 'description':
                       'true: at least `value` rows match (counting stops there)'}}}}},
    'Flow': {'type': 'object', 'properties': {
        'flow_code': {'type': 'string'}, 'name': {'type': 'string'},
        'flow_type': {'type': 'string', 'enum': list(FLOW_TYPES)},
        'source_system': {'type': 'string'}, 'target_system': {'type': 'string'},
        'owner_team': _nullable_text, 'owner_email': _nullable_text, 'schedule': _nullable_text,
        'active': {'type': 'boolean'}, 'description': _nullable_text,
        'last_response_at': {'type': 'string', 'format': 'date-time', 'nullable': True},
        'last_status': _nullable_text, 'responses_7d': {'type': 'integer'},
        'errors_7d': {'type': 'integer'},
        'error_rate_7d': {'type': 'number', 'nullable': True}}},
    'FlowPage': {'type': 'object', 'properties': {
        'items': {'type': 'array', 'items': {'$ref': '#/components/schemas/Flow'}},
        'page': {'type': 'object', 'properties': {'size': {'type': 'integer'},
                                                  'next_cursor': _nullable_text}},
        'count': {'type': 'integer'}}},
    'DailyStats': {'type': 'object', 'properties': {
        'from': {'type': 'string', 'format': 'date'}, 'to': {'type': 'string', 'format': 'date'},
        'time_zone': {'type': 'string'},
        'items': {'type': 'array', 'items': {'type': 'object', 'properties': {
            'day': {'type': 'string', 'format': 'date'},
            'status': {'type': 'string', 'enum': list(STATUSES)},
            'responses': {'type': 'integer'}, 'duration_ms_sum': _nullable_int}}}}},
}

SCHEMAS['ResponseDetail'] = {'allOf': [{'$ref': '#/components/schemas/Response'}, {
    'type': 'object', 'properties': {
        'trace': {'type': 'array', 'description': 'Every response with the same correlation id '
                  f'(this one included), across flows, oldest first; at most {TRACE_LIMIT}. '
                  'Empty without a correlation id.',
                  'items': {'type': 'object', 'properties': {
                      'response_id': {'type': 'integer', 'format': 'int64'},
                      'flow_code': {'type': 'string'},
                      'responded_at': {'type': 'string', 'format': 'date-time'},
                      'status': {'type': 'string', 'enum': list(STATUSES)},
                      'message_id': _nullable_text}}},
        'trace_capped': {'type': 'boolean', 'description': f'true: more than {TRACE_LIMIT} '
                         'responses share the correlation id; the oldest are listed'}}}]}

# Saved views (app/saved_views): listed and read here; ``view`` opens one on the lists.
VIEW_PARAMETER = _param('view', 'A saved view\'s id: its filters replace the filter '
                        'parameters (see `/views`).', {'type': 'integer', 'minimum': 0})
RESPONSE_PARAMETERS.append(VIEW_PARAMETER)
FLOW_PARAMETERS.append(VIEW_PARAMETER)
OPERATIONS['/views'] = ('listViews', 'Saved views you can open: yours, shared, team defaults',
                        [_param('page', 'Only views of this page.',
                                {'type': 'string', 'enum': ['responses', 'flows']})],
                        'SavedViewList')
OPERATIONS['/views/{view_id}'] = ('getView', 'One saved view and the parameters it opens today',
                                  [], 'SavedView')
PATH_PARAMETERS['/views/{view_id}'] = [{'name': 'view_id', 'in': 'path', 'required': True,
                                        'schema': {'type': 'integer'}}]
SCHEMAS['SavedView'] = {'type': 'object', 'properties': {
    'id': {'type': 'integer'}, 'name': {'type': 'string'},
    'page': {'type': 'string', 'enum': ['responses', 'flows']}, 'owner': {'type': 'string'},
    'mine': {'type': 'boolean'}, 'shared': {'type': 'boolean'}, 'team_default': _nullable_text,
    'my_default': {'type': 'boolean'}, 'query': {'type': 'string'},
    'query_version': {'type': 'integer'},
    'updated_at': {'type': 'string', 'format': 'date-time'},
    'links': {'type': 'object', 'properties': {'page': {'type': 'string'},
                                               'rows': {'type': 'string'}}},
    'opens': {'type': 'object', 'description': 'One view only: what it opens today.',
              'properties': {
                  'parameters': {'type': 'array', 'items': {
                      'type': 'array', 'items': {'type': 'string'}}},
                  'not_kept': {'type': 'array', 'items': {'type': 'string'}}}}}}
SCHEMAS['SavedViewList'] = {'type': 'object', 'properties': {
    'items': {'type': 'array', 'items': {'$ref': '#/components/schemas/SavedView'}}}}
_VIEW_NOTE = {'type': 'object', 'description': 'Only with `view`: the view opened and what of '
              'it could not be kept.', 'properties': {
                  'id': {'type': 'integer'}, 'name': {'type': 'string'},
                  'not_kept': {'type': 'array', 'items': {'type': 'string'}}}}
SCHEMAS['ResponsePage']['properties']['view'] = _VIEW_NOTE
SCHEMAS['FlowPage']['properties']['view'] = _VIEW_NOTE


# Incidents (app/api/incidents.py).
OPERATIONS['/incidents'] = ('listIncidents', 'Incidents, newest first (open ones by default)', [
    _param('status', 'Which incidents.', {'type': 'string', 'enum': ['open', 'resolved', 'all'],
                                          'default': 'open'}),
    _param('flow', "One flow's incidents (flow code).", {'type': 'string'}),
    _param('size', 'Incidents per page.', {'type': 'integer', 'minimum': 1, 'maximum': 500,
                                           'default': 100}),
    _param('before', 'Only incidents with a smaller id: `next_before` of the previous page.',
           {'type': 'integer', 'minimum': 1, 'maximum': 2**31 - 1}),
], 'IncidentPage')
OPERATIONS['/incidents/{incident_id}'] = ('getIncident', 'One incident with its timeline', [],
                                          'Incident')
PATH_PARAMETERS['/incidents/{incident_id}'] = [{'name': 'incident_id', 'in': 'path',
                                                'required': True, 'schema': {'type': 'integer'}}]
_time = {'type': 'string', 'format': 'date-time', 'nullable': True}
SCHEMAS['Incident'] = {'type': 'object', 'properties': {
    'id': {'type': 'integer'}, 'kind': {'type': 'string', 'enum': ['rule', 'stale']},
    'rule': _nullable_text, 'flow_code': _nullable_text, 'severity': {'type': 'string'},
    'title': {'type': 'string'}, 'detail': _nullable_text,
    'status': {'type': 'string', 'enum': ['open', 'acknowledged', 'resolved']},
    'opened_at': {'type': 'string', 'format': 'date-time'},
    'seen_at': {'type': 'string', 'format': 'date-time'}, 'acknowledged_at': _time,
    'acknowledged_by': _nullable_text, 'resolved_at': _time, 'resolved_by': _nullable_text,
    'timeline': {'type': 'array', 'description': 'One incident only.', 'items': {
        'type': 'object', 'properties': {
            'at': {'type': 'string', 'format': 'date-time'}, 'actor': {'type': 'string'},
            'kind': {'type': 'string'}, 'text': _nullable_text}}}}}
SCHEMAS['IncidentPage'] = {'type': 'object', 'properties': {
    'items': {'type': 'array', 'items': {'$ref': '#/components/schemas/Incident'}},
    'next_before': {'type': 'integer', 'nullable': True}}}


def _error(description):
    return {'description': description,
            'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}}


def openapi_document() -> dict:
    paths = {}
    for path, (operation_id, summary, parameters, schema) in OPERATIONS.items():
        ok_content = {'schema': {'$ref': f'#/components/schemas/{schema}'}} if schema \
            else {'schema': {'type': 'object'}}
        responses = {'200': {'description': 'OK', 'content': {'application/json': ok_content}},
                     '401': _error('No Windows identity (REMOTE_USER)'),
                     '403': _error('The account is deactivated')}
        if parameters:
            responses['400'] = _error('A parameter is invalid; `fields` names it')
        if path in PATH_PARAMETERS:
            responses['404'] = _error('Not found')
        elif VIEW_PARAMETER in parameters:
            responses['404'] = _error('No saved `view` with that id that you can open')
        paths[path] = {'get': {'operationId': operation_id, 'summary': summary,
                               'parameters': PATH_PARAMETERS.get(path, []) + parameters,
                               'responses': responses}}
    return {
        'openapi': '3.0.3',
        'info': {'title': 'Flowdesk API', 'version': __version__, 'description': DESCRIPTION},
        'servers': [{'url': request.script_root + '/api/v1'}],
        'paths': paths,
        'components': {'schemas': SCHEMAS},
        'x-display-time-zone': current_app.config.get('DISPLAY_TIMEZONE') or 'UTC',
    }
