"""Models of both binds. App bind (default): users and audit log. Ops bind: flows, responses,
load batches. Models name only the symbolic schemas ``app`` and ``ops``; config translates them."""
from .alert_models import AlertRule, Incident, IncidentEvent
from .app_models import ROLE_ADMIN, ROLE_VIEWER, ROLES, AuditEvent, User
from .inbox_models import Inbox, InboxSighting
from .job_models import JobRun, SchedulerTick
from .load_models import FlowVersion, ResponseVersion
from .notice_models import Notice, Profile, Subscription
from .ops_models import (
    BATCH_FAILED,
    BATCH_INTERRUPTED,
    BATCH_RUNNING,
    BATCH_STATUSES,
    BATCH_SUCCEEDED,
    BATCH_UNDONE,
    BATCH_VALIDATED,
    CORRELATION_ID_LENGTH,
    FLOW_TYPES,
    MESSAGE_ID_LENGTH,
    STATUSES,
    ErrorReason,
    Flow,
    LoadBatch,
    LoadError,
    Response,
    ResponseDaily,
    ResponseDayTotal,
    ResponseHourly,
)
from .profile_models import SourceProfile
from .view_models import VIEW_PAGES, SavedView

__all__ = ['AuditEvent', 'User', 'ROLE_ADMIN', 'ROLE_VIEWER', 'ROLES',
           'BATCH_FAILED', 'BATCH_INTERRUPTED', 'BATCH_RUNNING', 'BATCH_STATUSES',
           'BATCH_SUCCEEDED', 'BATCH_UNDONE', 'BATCH_VALIDATED', 'FLOW_TYPES', 'STATUSES',
           'MESSAGE_ID_LENGTH', 'CORRELATION_ID_LENGTH',
           'ErrorReason', 'Flow', 'LoadBatch', 'LoadError', 'Response', 'ResponseDaily',
           'ResponseDayTotal', 'ResponseHourly',
           'FlowVersion', 'ResponseVersion', 'SavedView', 'VIEW_PAGES',
           'JobRun', 'SchedulerTick', 'Inbox', 'InboxSighting', 'AlertRule', 'Incident',
           'IncidentEvent', 'Notice', 'Profile', 'SourceProfile', 'Subscription']
