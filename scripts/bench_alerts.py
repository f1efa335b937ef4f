"""Benchmark of alert evaluation and delivery on the demo data.

Seeds the demo data (default 40 flows, 50,000 responses; ``--responses 2000000`` for the big
set) into a temporary SQLite instance, defines ``--rules`` rules (a mix of error rate,
consecutive errors and silence over all flows, a team, a flow type), and times:

- one evaluation of every rule (what the ``alerts`` job does each tick, and — without
  silence — what runs after each load);
- a second evaluation, where every incident already exists and is only updated;
- draining the outbox to a local aiosmtpd server (one digest per recipient).

    .venv/bin/python scripts/bench_alerts.py
    .venv/bin/python scripts/bench_alerts.py --responses 2000000 --rules 50
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RULES = [
    dict(condition='error_rate', threshold_percent=20, window_minutes=60, min_responses=3),
    dict(condition='error_rate', threshold_percent=5, window_minutes=24 * 60, min_responses=10),
    dict(condition='consecutive', consecutive_errors=2),
    dict(condition='consecutive', consecutive_errors=5),
    dict(condition='silence', window_minutes=120),
    dict(condition='silence', window_minutes=60, use_schedule=True),
]
SCOPES = [('all', None), ('flow_type', 'API'), ('flow_type', 'BATCH'), ('flow_type', 'FILE')]


def timed(label: str, function):
    started = time.perf_counter()
    result = function()
    print(f'{label:<44} {(time.perf_counter() - started) * 1000:9.1f} ms   {result}')
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--responses', type=int, default=50_000)
    parser.add_argument('--flows', type=int, default=40)
    parser.add_argument('--rules', type=int, default=10)
    args = parser.parse_args()
    from aiosmtpd.controller import Controller

    from app import create_app
    from app.alerts.delivery import drain
    from app.alerts.evaluation import evaluate
    from app.clock import utc_now
    from app.extensions import db
    from app.models import AlertRule
    from app.seeding import seed_demo
    from tests.functional.delivery_servers import MailCollector, free_port

    instance = Path(tempfile.mkdtemp(prefix='flowdesk-bench-alerts-'))
    port = free_port()
    collector = MailCollector()
    smtp = Controller(collector, hostname='127.0.0.1', port=port)
    smtp.start()
    try:
        app = create_app('development', environ={
            'FLOWDESK_INSTANCE_PATH': str(instance), 'LOG_LEVEL': 'ERROR',
            'MAIL_SERVER': '127.0.0.1', 'MAIL_PORT': str(port)})
        with app.app_context():
            db.create_all()
            timed(f'seed {args.flows} flows, {args.responses:,} responses',
                  lambda: seed_demo(flows=args.flows, responses=args.responses, force=True) and '')
            now = utc_now()
            for number in range(args.rules):
                scope, value = SCOPES[number % len(SCOPES)]
                db.session.add(AlertRule(
                    name=f'Rule {number}', scope=scope, scope_value=value, severity='warning',
                    active=True, created_at=now, updated_at=now,
                    recipients=f'team{number % 3}@corp.example',
                    **{'use_schedule': False, **RULES[number % len(RULES)]}))
            db.session.commit()
            timed('evaluation after a load (no silence)',
                  lambda: evaluate(now, include_silence=False).summary())
            timed(f'alerts tick: {args.rules} rules (first)', lambda: evaluate(now).summary())
            timed(f'alerts tick: {args.rules} rules (all updated)', lambda: evaluate(now).summary())
            timed('delivery: drain the outbox over SMTP', lambda: drain(now).summary())
            print(f'SMTP server received {len(collector.take())} messages')
    finally:
        smtp.stop()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == '__main__':
    main()
