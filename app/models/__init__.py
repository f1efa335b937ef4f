"""Models of both binds. App bind (default): users and audit log. Ops bind: flows, responses,
load batches. Models name only the symbolic schemas ``app`` and ``ops``; config translates them."""
from .app_models import AuditEvent, User, ROLE_ADMIN, ROLE_VIEWER, ROLES
from .ops_models import (FLOW_TYPES, STATUSES, ErrorReason, Flow, LoadBatch, LoadError, Response,
                         ResponseDaily)
from .load_models import FlowVersion, ResponseVersion
from .view_models import VIEW_PAGES, SavedView
from .job_models import JobRun, SchedulerTick
from .inbox_models import Inbox, InboxSighting
from .alert_models import AlertRule, Incident, IncidentEvent
from .notice_models import Notice, Profile, Subscription

__all__ = ['AuditEvent', 'User', 'ROLE_ADMIN', 'ROLE_VIEWER', 'ROLES',
           'FLOW_TYPES', 'STATUSES', 'ErrorReason', 'Flow', 'LoadBatch', 'LoadError', 'Response',
           'ResponseDaily', 'FlowVersion', 'ResponseVersion', 'SavedView', 'VIEW_PAGES',
           'JobRun', 'SchedulerTick', 'Inbox', 'InboxSighting', 'AlertRule', 'Incident',
           'IncidentEvent', 'Notice', 'Profile', 'Subscription']
