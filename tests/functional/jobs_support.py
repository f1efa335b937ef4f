"""Shared by the scheduled-jobs and inbox suites: running ``flask jobs`` in-process and as real
subprocesses against the test class's databases, inbox definitions and small data files."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Flow, Inbox, JobRun

ROOT = Path(__file__).resolve().parents[2]
FLOWS_CSV = ('flow_code,name,flow_type,source_system,target_system\r\n'
             'ORD-SAP,Orders to SAP,API,Shop,SAP\r\n'
             'INV-DWH,Invoices to the warehouse,BATCH,SAP,DWH\r\n')
RESPONSES_HEADER = ('response_id,flow_code,responded_at,status,result_code,duration_ms,'
                    'error_reason,payload_bytes\r\n')


def response_lines(count: int, first_id: int = 1) -> str:
    start = datetime(2026, 3, 1)
    lines = []
    for number in range(first_id, first_id + count):
        moment = start + timedelta(seconds=number * 7)
        lines.append(f'{number},{"ORD-SAP" if number % 3 else "INV-DWH"},'
                     f'{moment:%Y-%m-%d %H:%M:%S},OK,200,{number % 997},,{number * 3}\r\n')
    return ''.join(lines)


def write_responses(path: Path, count: int, first_id: int = 1) -> Path:
    path.write_text(RESPONSES_HEADER + response_lines(count, first_id), encoding='utf-8',
                    newline='')
    return path


def add_flows() -> None:
    db.session.add_all([
        Flow(flow_code='ORD-SAP', name='Orders to SAP', flow_type='API', source_system='Shop',
             target_system='SAP', active=True),
        Flow(flow_code='INV-DWH', name='Invoices', flow_type='BATCH', source_system='SAP',
             target_system='DWH', active=True)])
    db.session.commit()


def add_inbox(name: str, folder: Path, dataset: str = 'responses', mode: str = 'append',
              pattern: str = '*.csv', active: bool = True) -> Inbox:
    inbox = Inbox(name=name, folder=str(folder), dataset=dataset, mode=mode, pattern=pattern,
                  active=active)
    db.session.add(inbox)
    db.session.commit()
    return inbox


def runs(job: str | None = None) -> list:
    query = select(JobRun).order_by(JobRun.id)
    if job:
        query = query.where(JobRun.job == job)
    db.session.expire_all()
    return list(db.session.scalars(query))


class SubprocessMixin:
    """Real ``flask`` processes pointed at this class's databases."""

    def environ(self, **extra) -> dict[str, str]:
        environ = {key: value for key, value in os.environ.items()
                   if not key.startswith(('FLASK_', 'FLOWDESK_', 'DATABASE_URL', 'OPS_',
                                          'APP_SCHEMA', 'INBOX_', 'JOBS_'))}
        environ.update(self.databases.settings, FLASK_APP='flasky', FLASK_CONFIG='testing',
                       LOG_LEVEL='ERROR', PYTHONPATH=str(ROOT), **extra)
        return environ

    def start_flask(self, *args, **extra) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, '-m', 'flask', *args], cwd=ROOT,
                                env=self.environ(**extra), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, encoding='utf-8')
