"""The URLs scripts/bench_browse.py measures, per page type (each type cycles through its
variants), found in the seeded data: deep pages, ids spread over the table, a common and a rare
word for text search with the flows and statuses that go with them.
"""
from __future__ import annotations

#: A word in more than 10 % of the error reasons (a rare one is found in the data).
COMMON_WORD = 'timeout'


def page_cases(app) -> dict[str, list[str]]:
    """URLs per page type; each type cycles through its variants."""
    from sqlalchemy import func, select

    from app.browse.keyset import Cursor
    from app.extensions import db
    from app.models import Flow, Response
    with app.app_context():
        flows = list(db.session.scalars(select(Flow.flow_code).order_by(Flow.flow_code)))
        total = db.session.scalar(select(func.count()).select_from(Response))
        deep = []
        for share in (0.3, 0.5, 0.9):
            row = db.session.execute(
                select(Response.responded_at, Response.response_id)
                .order_by(Response.responded_at.desc(), Response.response_id.desc())
                .offset(int(total * share)).limit(1)).first()
            page = int(total * share) // 50 + 1
            deep.append(Cursor('n', 'newest', 0, row.responded_at, row.response_id, page).encode())
        codes = db.session.execute(
            select(Response.result_code).where(Response.status == 'ERROR')
            .group_by(Response.result_code).limit(5)).scalars().all()
        lookups = id_lookups(db.session, total)
        words = search_words(db.session)
        db.session.remove()
    busy, quiet = flows[0], flows[len(flows) // 2]
    return {
        'dashboard': ['/', '/?days=90'],
        'list page 1': ['/responses', '/responses?sort=oldest', '/responses?size=200'],
        'filtered list': ['/responses?status=ERROR&range=7d', f'/responses?flow={busy}',
                          f'/responses?flow={quiet}&status=ERROR',
                          f'/responses?result_code={codes[0]}',
                          '/responses?status=WARN&status=ERROR&range=24h'],
        # ix_responses_duration in order (no filter, a busy time range), or the matches of
        # other filters sorted (at most SORT_CAP; more asks for narrower filters).
        'duration sort': ['/responses?sort=slowest&range=24h',
                          '/responses?status=ERROR&range=7d&sort=slowest',
                          f'/responses?flow={quiet}&range=30d&sort=fastest',
                          '/responses?sort=slowest', '/api/v1/responses?sort=fastest&range=7d',
                          f'/responses?flow={busy}&range=30d&sort=fastest'],
        'deep page': [f'/responses?cursor={token}' for token in deep],
        'text search': ['/responses?q=timeout', '/responses?q=deadlock+victim',
                        '/responses?q=Orders', '/responses?q=NullReference&range=30d',
                        '/responses?q=checksum&status=ERROR'],
        # Exact message or correlation id (the "id" box, the API's id=) and a response's page
        # with its trace: two index seeks each, whatever the table's size.
        'id lookup': lookups,
        **search_cases(words),
        'flow list': ['/flows', '/flows?type=API', '/flows?q=sap'],
        'flow page': [f'/flows/{busy}', f'/flows/{quiet}?days=90'],
        'API': ['/api/v1/responses', '/api/v1/responses?status=ERROR&range=24h&size=100',
                f'/api/v1/flows/{busy}', '/api/v1/flows', '/api/v1/stats/daily'],
    }


def id_lookups(session, total: int) -> list[str]:
    """URLs looking up ids spread over the data: message ids, correlation ids shared by
    several flows (and the pages of such responses, with their trace), an unknown id."""
    from sqlalchemy import select

    from app.models import Response
    urls = []
    for share in (0.2, 0.5, 0.8):
        row = session.execute(
            select(Response.response_id, Response.message_id, Response.correlation_id)
            .where(Response.response_id >= int(total * share), Response.correlation_id.is_not(None),
                   Response.message_id.is_not(None))
            .order_by(Response.response_id).limit(1)).first()
        if row is None:
            continue
        urls += [f'/responses?id={row.message_id}', f'/responses?id={row.correlation_id}',
                 f'/api/v1/responses?id={row.correlation_id}', f'/responses/{row.response_id}']
    return urls + ['/responses?id=00000000-0000-4000-8000-000000000000']


def search_words(session) -> dict:
    """The rare word (a correlation id found in one reason), its flow and status, and the flow
    of the newest response whose reason holds the common word. The demo shape has neither
    (about 30 reasons, no ids): then the rare word matches nothing and both flows are the
    first flow, so every URL still names a flow that exists."""
    import re

    from sqlalchemy import select

    from app.models import ErrorReason, Flow, Response
    first_flow = session.scalar(select(Flow.flow_code).order_by(Flow.flow_code).limit(1))
    reason = session.scalar(select(ErrorReason.error_reason).where(
        ErrorReason.error_reason.like('%correlation id %')).limit(1))
    rare = re.search(r'correlation id ([0-9a-f]{12})', reason).group(1) if reason else 'zzqq'
    rare_row = session.execute(select(Response.flow_code, Response.status).where(
        Response.error_reason.like(f'%{rare}%')).limit(1)).first()
    common_flow = session.scalar(select(Response.flow_code).where(
        Response.error_reason.like(f'%{COMMON_WORD}%'))
        .order_by(Response.responded_at.desc()).limit(1))
    return {'rare': rare, 'rare_flow': rare_row.flow_code if rare_row else first_flow,
            'rare_status': rare_row.status if rare_row else 'ERROR',
            'common_flow': common_flow or first_flow}


def search_cases(words: dict) -> dict[str, list[str]]:
    """Text search per kind of word (``search_words``), alone and with a status or a flow."""
    common, rare = COMMON_WORD, words['rare']
    return {
        'search common': [f'/responses?q={common}', f'/responses?q={common.upper()}'],
        'search rare': [f'/responses?q={rare}'],
        'common+status': [f'/responses?q={common}&status=ERROR'],
        'common+flow': [f'/responses?q={common}&flow={words["common_flow"]}'],
        'rare+status': [f'/responses?q={rare}&status={words["rare_status"]}'],
        'rare+flow': [f'/responses?q={rare}&flow={words["rare_flow"]}'],
    }
