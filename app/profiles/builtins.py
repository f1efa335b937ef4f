"""The two built-in source profiles, written from the platforms' public documentation (the
pages are cited in each description). They are read-only; *Copy* on the profiles page makes
an editable profile from one, for example to add a flow lookup.

Both declare ``message_id`` and ``correlation_id``: a dataset version without those columns
leaves those mappings out (``drop_unknown_columns``), one with them fills them.

Non-final states (CPI ``PROCESSING``; Logic Apps ``Running`` and ``Waiting``) are skipped with a
counted note: such a row says nothing yet about the outcome and has no end time, and the next
export carries the run's final state under the same derived id, which an upsert then inserts.
CPI ``RETRY`` is mapped to WARN (something went wrong and is being retried); a later
``COMPLETED`` export of the same message updates it to OK.
"""
from __future__ import annotations

SAP_CPI = 'SAP Integration Suite message processing logs'
LOGIC_APPS = 'Azure Logic Apps run history'

SAP_CPI_DEFINITION = {
    'format': 1,
    'dataset': 'responses',
    'description': (
        'SAP Integration Suite (Cloud Integration) message processing logs, one row per '
        'message, with the fields of the MessageProcessingLogs OData entity as column names. '
        'responded_at is LogEnd, duration_ms is LogEnd minus LogStart, the flow code is derived '
        'from IntegrationFlowName. Field names and statuses from: '
        'https://raw.githubusercontent.com/api-evangelist/sap-integration-suite/refs/heads/main/'
        'json-schema/sap-integration-suite-messageprocessinglog-schema.json ; '
        'https://raw.githubusercontent.com/api-evangelist/sap-integration-suite/refs/heads/main/'
        'examples/sap-integration-suite-list-message-processing-logs-example.json ; '
        'https://www.project-piper.io/steps/integrationArtifactGetMplStatus'),
    'signature': ['MessageGuid', 'IntegrationFlowName', 'Status', 'LogStart', 'LogEnd'],
    'id_namespace': 'sap-cpi-mpl',
    'timestamps': {'format': 'iso', 'timezone': 'UTC'},
    'columns': {
        'response_id': {'hash_id': 'MessageGuid'},
        'message_id': {'source': 'MessageGuid'},
        'correlation_id': {'source': 'CorrelationId'},
        'flow_code': {'lookup': 'IntegrationFlowName', 'flows': {}, 'unknown': 'derive'},
        'responded_at': {'source': 'LogEnd'},
        'status': {'source': 'Status',
                   'values': {'COMPLETED': 'OK', 'FAILED': 'ERROR', 'ESCALATED': 'ERROR',
                              'ABANDONED': 'ERROR', 'RETRY': 'WARN', 'DISCARDED': 'WARN'},
                   'skip': ['PROCESSING']},
        'duration_ms': {'difference': {'start': 'LogStart', 'end': 'LogEnd'}},
    },
    'ignore': ['ApplicationMessageId', 'ApplicationMessageType', 'Sender', 'Receiver',
               'LogLevel', 'CustomStatus', 'TransactionId', 'AlternateWebLink',
               'IntegrationArtifact', 'PreviousComponentName', 'LocalComponentName',
               'OriginComponentName'],
}

LOGIC_APPS_DEFINITION = {
    'format': 1,
    'dataset': 'responses',
    'description': (
        'Azure Logic Apps run history as exported (CSV) from a Log Analytics query of the '
        'LogicAppWorkflowRuntime table, run events only: LogicAppWorkflowRuntime | where '
        'OperationName in ("WorkflowRunStarted", "WorkflowRunCompleted"). The run id is '
        'RunId, the workflow WorkflowName, responded_at EndTime, duration_ms EndTime minus '
        'StartTime, error_reason the Code and Error of a run that has an Error. Columns from: '
        'https://learn.microsoft.com/azure/azure-monitor/reference/tables/logicappworkflowruntime'
        ' ; run statuses and the clientTrackingId from: '
        'https://learn.microsoft.com/en-us/rest/api/logic/workflowruns/list and '
        'https://learn.microsoft.com/en-us/rest/api/logic/workflowruns/get'),
    'signature': ['RunId', 'WorkflowName', 'Status', 'StartTime', 'EndTime'],
    'id_namespace': 'azure-logic-apps',
    'timestamps': {'format': 'iso', 'timezone': 'UTC'},
    'columns': {
        'response_id': {'hash_id': 'RunId'},
        'message_id': {'source': 'RunId'},
        'correlation_id': {'source': 'ClientTrackingId'},
        'flow_code': {'lookup': 'WorkflowName', 'flows': {}, 'unknown': 'derive'},
        'responded_at': {'source': 'EndTime'},
        'status': {'source': 'Status',
                   'values': {'Succeeded': 'OK', 'Failed': 'ERROR', 'TimedOut': 'ERROR',
                              'Aborted': 'ERROR', 'Cancelled': 'WARN'},
                   'skip': ['Running', 'Waiting']},
        'duration_ms': {'difference': {'start': 'StartTime', 'end': 'EndTime'}},
        'error_reason': {'join': ['Code', 'Error'], 'separator': ': ', 'when': 'Error'},
    },
    'ignore': ['TimeGenerated', 'OperationName', 'OriginRunId', 'Location', 'TenantId',
               'WorkflowId', 'TriggerName', 'ActionName', 'ActionTrackingId', 'ClientKeywords',
               'RetryHistory', 'TrackedProperties', 'Tags', 'SourceSystem', 'Type',
               '_ResourceId', '_SubscriptionId', '_BilledSize', '_IsBillable'],
}

BUILTINS = {SAP_CPI: SAP_CPI_DEFINITION, LOGIC_APPS: LOGIC_APPS_DEFINITION}
