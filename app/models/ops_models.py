"""Ops-bind models: the integration flows, their responses and the load batches that wrote them.

Business keys are the primary keys (``flow_code``, ``response_id``) and are never generated
by the database: ``autoincrement=False`` keeps SQL Server from making them IDENTITY columns.
Every loaded row carries ``batch_id``, the load batch that last wrote it.
"""
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Unicode,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from config import OPS_SCHEMA_KEY

from ..clock import utc_now
from ..extensions import db
from ..reason_text_index import create_text_index, drop_text_index
from .types import BigId, Day, UtcDateTime, table_args

FLOW_TYPES = ('API', 'FILE', 'QUEUE', 'BATCH', 'DB')
STATUSES = ('OK', 'WARN', 'ERROR')
#: Longest message id and correlation id a response keeps (NVARCHAR lengths).
MESSAGE_ID_LENGTH = 100
CORRELATION_ID_LENGTH = 200

#: What became of a load batch (LoadBatch.status). A dry run that found no problem is
#: "validated"; a batch whose process died before it finished is "interrupted".
BATCH_RUNNING = 'running'
BATCH_SUCCEEDED = 'succeeded'
BATCH_FAILED = 'failed'
BATCH_VALIDATED = 'validated'
BATCH_INTERRUPTED = 'interrupted'
BATCH_UNDONE = 'undone'
BATCH_STATUSES = (BATCH_RUNNING, BATCH_SUCCEEDED, BATCH_FAILED, BATCH_VALIDATED,
                  BATCH_INTERRUPTED, BATCH_UNDONE)


class Flow(db.Model):
    __bind_key__ = 'ops'
    __tablename__ = 'flows'
    __table_args__ = table_args(
        OPS_SCHEMA_KEY,
        Index('ix_flows_owner_team', 'owner_team'),
        Index('ix_flows_source_system', 'source_system'),
    )

    flow_code: Mapped[str] = mapped_column(Unicode(32), primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Unicode(200), nullable=False)
    flow_type: Mapped[str] = mapped_column(Unicode(8), nullable=False)
    source_system: Mapped[str] = mapped_column(Unicode(100), nullable=False)
    target_system: Mapped[str] = mapped_column(Unicode(100), nullable=False)
    owner_team: Mapped[str | None] = mapped_column(Unicode(100))
    owner_email: Mapped[str | None] = mapped_column(Unicode(254))
    schedule: Mapped[str | None] = mapped_column(Unicode(100))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    description: Mapped[str | None] = mapped_column(Unicode(4000))
    batch_id: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f'<Flow {self.flow_code}>'


class Response(db.Model):
    __bind_key__ = 'ops'
    __tablename__ = 'responses'
    __table_args__ = table_args(
        OPS_SCHEMA_KEY,
        # Keyset pagination by time needs a unique, stable order: (responded_at, response_id).
        Index('ix_responses_responded_at', 'responded_at', 'response_id'),
        Index('ix_responses_flow_time', 'flow_code', 'responded_at', 'response_id'),
        Index('ix_responses_status_time', 'status', 'responded_at', 'response_id'),
        Index('ix_responses_batch_id', 'batch_id'),
        # The response list: result-code filter, flow + status filter, with keyset order
        # (migration 0003_browse; measured in scripts/bench_browse.py).
        Index('ix_responses_result_code_time', 'result_code', 'responded_at', 'response_id'),
        Index('ix_responses_flow_status_time', 'flow_code', 'status', 'responded_at',
              'response_id'),
        # Sorting by duration (slowest/fastest first): keyset order (duration_ms, response_id),
        # NULLs together; responded_at rides along for time ranges (migration 0012_duration_sort;
        # its cost to loads and its gain are measured in docs/architecture.md §6).
        Index('ix_responses_duration', 'duration_ms', 'response_id', 'responded_at'),
        # Text search: responses whose reason is one of the matching dictionary entries, in
        # time order. Partial (filtered on SQL Server): rows without a reason cost nothing.
        # PostgreSQL and SQL Server carry the flow and status too (migration
        # 0015_reason_filters), so a search with those filters counts from the index alone.
        Index('ix_responses_reason_time', 'reason_hash', 'responded_at', 'response_id',
              sqlite_where=text('reason_hash IS NOT NULL'),
              postgresql_where=text('reason_hash IS NOT NULL'),
              mssql_where=text('reason_hash IS NOT NULL'),
              postgresql_include=['flow_code', 'status'], mssql_include=['flow_code', 'status']),
        # Trace: exact search by the source's message id or correlation id, in time order
        # (migration 0010_message_ids). Partial (filtered): rows without the id cost nothing.
        Index('ix_responses_message_time', 'message_id', 'responded_at', 'response_id',
              sqlite_where=text('message_id IS NOT NULL'),
              postgresql_where=text('message_id IS NOT NULL'),
              mssql_where=text('message_id IS NOT NULL')),
        Index('ix_responses_correlation_time', 'correlation_id', 'responded_at', 'response_id',
              sqlite_where=text('correlation_id IS NOT NULL'),
              postgresql_where=text('correlation_id IS NOT NULL'),
              mssql_where=text('correlation_id IS NOT NULL')),
    )

    #: BIGINT, except on SQLite, where ``INTEGER PRIMARY KEY`` makes the id the table's own
    #: rowid (migration 0014_load_speed): one B-tree fewer for every load, purge and lookup.
    #: Still never generated (no IDENTITY on SQL Server, and every load supplies it).
    response_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    flow_code: Mapped[str] = mapped_column(
        Unicode(32), ForeignKey(f'{OPS_SCHEMA_KEY}.flows.flow_code'), nullable=False)
    responded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    status: Mapped[str] = mapped_column(Unicode(8), nullable=False)
    result_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error_reason: Mapped[str | None] = mapped_column(Unicode(4000))
    payload_bytes: Mapped[int | None] = mapped_column(BigInteger)
    #: The source's own id of this run (a GUID, a message number), and the id that ties the
    #: runs of one business message together across flows (trace).
    message_id: Mapped[str | None] = mapped_column(Unicode(MESSAGE_ID_LENGTH))
    correlation_id: Mapped[str | None] = mapped_column(Unicode(CORRELATION_ID_LENGTH))
    batch_id: Mapped[int | None] = mapped_column(Integer)
    #: ``app.error_reasons.reason_hash(error_reason)``: the reason's entry in ErrorReason.
    #: Derived by every writer, never uploaded or exported.
    reason_hash: Mapped[int | None] = mapped_column(BigInteger)

    flow = relationship(Flow, lazy='joined', viewonly=True)

    def __repr__(self) -> str:
        return f'<Response {self.response_id} {self.flow_code} {self.status}>'


class ErrorReason(db.Model):
    """Every distinct error reason once, keyed by its hash (``responses.reason_hash``).

    Text search looks rare words up here, through the dictionary's text index
    (app/reason_text_index.py), and reads the matching responses through
    ``ix_responses_reason_time``; a load pays one index entry per row with a reason plus the
    trigrams of the reasons it adds, instead of a full-text index over every row. Entries are
    added by every writer in the same transaction as the rows; a purge removes those no stored
    response names any more (app/retention/reasons.py), and undo adds back the entries of the
    rows it restores."""
    __bind_key__ = 'ops'
    __tablename__ = 'error_reasons'
    __table_args__ = table_args(OPS_SCHEMA_KEY)

    reason_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    error_reason: Mapped[str] = mapped_column(Unicode(4000), nullable=False)

    def __repr__(self) -> str:
        return f'<ErrorReason {self.reason_hash}>'


# The dictionary's text index (app/reason_text_index.py) comes and goes with the table when
# tables are made from the models (tests, create_all); migration 0013 builds it for databases.
event.listen(ErrorReason.__table__, 'after_create',
             lambda _table, connection, **_kw: create_text_index(connection))
event.listen(ErrorReason.__table__, 'before_drop',
             lambda _table, connection, **_kw: drop_text_index(connection))


class LoadBatch(db.Model):
    """One load (or dry run, or undo) of a dataset: the history admins browse.

    Batch ids are never reused, even after ``seed-demo`` deletes the history: version rows
    (for undo) name their batch by id. PostgreSQL sequences and SQL Server IDENTITY never hand
    out a number twice; SQLite needs AUTOINCREMENT for that."""
    __bind_key__ = 'ops'
    __tablename__ = 'load_batches'
    __table_args__ = table_args(
        OPS_SCHEMA_KEY,
        Index('ix_load_batches_dataset_started', 'dataset', 'started_at'),
        sqlite_autoincrement=True,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(Unicode(32), nullable=False)
    mode: Mapped[str] = mapped_column(Unicode(16), nullable=False)
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    file_name: Mapped[str | None] = mapped_column(Unicode(260))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(Unicode(64))
    loaded_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: one of BATCH_STATUSES
    status: Mapped[str] = mapped_column(Unicode(16), nullable=False, default=BATCH_RUNNING)
    rows_read: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    inserted: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    unchanged: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    deleted: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    error_count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    message: Mapped[str | None] = mapped_column(Unicode(4000))
    #: The report's warnings, one per line (they never block a load).
    warnings: Mapped[str | None] = mapped_column(Unicode(4000))
    #: How a CSV file was read: utf-8 or cp1252, and comma, semicolon or tab (None: xlsx).
    #: Loading the file after its dry run reads it the same way.
    encoding: Mapped[str | None] = mapped_column(Unicode(16))
    delimiter: Mapped[str | None] = mapped_column(Unicode(16))
    #: The source profile that mapped the file (None: Flowdesk's own columns); loading the
    #: file after its dry run maps it the same way.
    profile: Mapped[str | None] = mapped_column(Unicode(100))
    #: For an undo batch: the batch it undid.
    undo_of: Mapped[int | None] = mapped_column(Integer)
    undone_by: Mapped[int | None] = mapped_column(Integer)

    errors = relationship('LoadError', lazy='dynamic', order_by='LoadError.id',
                          cascade='all, delete-orphan')

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def __repr__(self) -> str:
        return f'<LoadBatch {self.id} {self.dataset} {self.mode} {self.status}>'


class LoadError(db.Model):
    """One problem found in a file: where (line, column), what (value) and why (message)."""
    __bind_key__ = 'ops'
    __tablename__ = 'load_errors'
    __table_args__ = table_args(
        OPS_SCHEMA_KEY,
        Index('ix_load_errors_batch_id', 'batch_id', 'id'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        Integer, ForeignKey(f'{OPS_SCHEMA_KEY}.load_batches.id', ondelete='CASCADE'),
        nullable=False)
    line: Mapped[int | None] = mapped_column(BigInteger)
    column: Mapped[str | None] = mapped_column(Unicode(128))
    value: Mapped[str | None] = mapped_column(Unicode(200))
    message: Mapped[str] = mapped_column(Unicode(1000), nullable=False)


class ResponseDaily(db.Model):
    """Responses per UTC day, flow and status: what the dashboard and flow charts read instead
    of scanning millions of responses. Kept in step by every load, undo and seed
    (``app.summary.refresh_daily``) inside the same transaction as the rows."""
    __bind_key__ = 'ops'
    __tablename__ = 'response_daily'
    __table_args__ = table_args(
        OPS_SCHEMA_KEY,
        Index('ix_response_daily_flow_day', 'flow_code', 'day'),
        # The dashboard's top failing flows: a week of ERROR rows, read from this index alone
        # (migration 0016_dashboard_totals).
        Index('ix_response_daily_status_day', 'status', 'day', 'flow_code', 'responses'),
    )

    day: Mapped[date] = mapped_column(Day, primary_key=True)
    flow_code: Mapped[str] = mapped_column(Unicode(32), primary_key=True)
    status: Mapped[str] = mapped_column(Unicode(8), primary_key=True)
    responses: Mapped[int] = mapped_column(BigInteger, nullable=False)
    duration_ms_sum: Mapped[int | None] = mapped_column(BigInteger)


class ResponseDayTotal(db.Model):
    """Responses per UTC day and status over all flows: the daily summary summed over its
    flows, a few rows a day, so the dashboard's total and chart and the API's daily figures
    read hundreds of rows instead of the summary's hundreds of thousands. Derived from
    ``response_daily`` in the same transaction (``app.summary.refresh_after_write``); like it,
    a purge leaves it alone."""
    __bind_key__ = 'ops'
    __tablename__ = 'response_day_totals'
    __table_args__ = table_args(OPS_SCHEMA_KEY)

    day: Mapped[date] = mapped_column(Day, primary_key=True)
    status: Mapped[str] = mapped_column(Unicode(8), primary_key=True)
    responses: Mapped[int] = mapped_column(BigInteger, nullable=False)
    duration_ms_sum: Mapped[int | None] = mapped_column(BigInteger)


class ResponseHourly(db.Model):
    """Responses per UTC hour (day and hour of day) and status over all flows: the dashboard's
    last 24 hours against the 24 before read whole hours here and only the two partial hours
    at each end from the responses. Kept by every load, undo and seed with the daily summary
    (``app.summary.refresh_after_write``); a purge leaves it alone."""
    __bind_key__ = 'ops'
    __tablename__ = 'response_hourly'
    __table_args__ = table_args(OPS_SCHEMA_KEY)

    day: Mapped[date] = mapped_column(Day, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(Unicode(8), primary_key=True)
    responses: Mapped[int] = mapped_column(BigInteger, nullable=False)
