"""Shared by the source-profile suites: the fixture exports, the flows they name, what each
documented row must become, and a small custom profile."""
from __future__ import annotations

import json
from datetime import datetime

from app.extensions import db
from app.models import Flow, Response, SourceProfile
from app.profiles.builtins import LOGIC_APPS, SAP_CPI
from app.profiles.ids import derive_id
from tests.base import ASSETS

PROFILES = ASSETS / 'profiles'
CPI_FILE = PROFILES / 'sap_cpi_mpl.csv'
LOGIC_APPS_FILE = PROFILES / 'logic_apps_runs.csv'
#: The flow codes the built-in profiles derive from the fixtures' flow names.
FLOW_CODES = ('SALESORDERREPLICATION', 'INVOICEREPLICATION', 'BUSINESSPARTNERSYNC',
              'ORDER-INTAKE', 'INVOICE-EXPORT')

#: CPI fixture: MessageGuid -> (flow, LogEnd in UTC, status, duration_ms); PROCESSING skipped.
CPI_ROWS = {
    'AGWx3kV0n6h1sQ8R2mZp7YtLcUa9': ('SALESORDERREPLICATION', datetime(2026, 3, 2, 8, 15, 1, 870000),
                                     'OK', 1750),
    'AGWx3kZ4d8Jq2Lw5Tn1Xv6Rb0Ycm': ('BUSINESSPARTNERSYNC', datetime(2026, 3, 2, 8, 15, 4, 500000),
                                     'ERROR', 2500),
    'AGWx3l1Hq7Wm3Ke9Pz2Nc5Vd8Tfa': ('INVOICEREPLICATION', datetime(2026, 3, 2, 9, 0, 30), 'WARN',
                                     30000),
    'AGWx3l5Jr2Xn6Mf0Qa3Od8We1Ugb': ('INVOICEREPLICATION', datetime(2026, 3, 2, 9, 6, 0, 250000),
                                     'ERROR', 60250),
    'AGWx3mDLt8Zp2Oh6Sc9Qf4Yg7Wid': ('SALESORDERREPLICATION', datetime(2026, 3, 2, 10, 1, 0, 4000),
                                     'WARN', 4),
    'AGWx3mHMu1aq5Pi9Td2Rg7Zh0Xje': ('BUSINESSPARTNERSYNC', datetime(2026, 3, 2, 11, 30, 9, 999000),
                                     'OK', 9999),
    'AGWx3mLNv4br8Qj2Ue5Sh0ai3Ykf': ('BUSINESSPARTNERSYNC', datetime(2026, 3, 2, 11, 31, 45),
                                     'ERROR', 45000),
}
#: Logic Apps fixture: RunId -> (flow, EndTime in UTC, status, duration_ms, error_reason).
LOGIC_APPS_ROWS = {
    '08584712345678901234567890123CU01': ('ORDER-INTAKE', datetime(2026, 3, 3, 7, 0, 2, 623456),
                                          'OK', 2500, None),
    '08584712345678901234567890124CU02': ('INVOICE-EXPORT', datetime(2026, 3, 3, 7, 5, 9, 500000),
                                          'ERROR', 9500,
                                          'ActionFailed: An action failed. No dependent actions '
                                          'succeeded.'),
    '08584712345678901234567890125CU03': ('INVOICE-EXPORT', datetime(2026, 3, 3, 7, 9, 59), 'WARN',
                                          59000, 'Cancelled: The run was cancelled.'),
    '08584712345678901234567890126CU04': ('ORDER-INTAKE', datetime(2026, 3, 3, 7, 20), 'ERROR',
                                          600000, 'Timeout: The run timed out.'),
}
NAMESPACES = {SAP_CPI: 'sap-cpi-mpl', LOGIC_APPS: 'azure-logic-apps'}
#: CorrelationId / ClientTrackingId of the fixtures' final rows, by their id.
CORRELATION = {
    'AGWx3kV0n6h1sQ8R2mZp7YtLcUa9': 'AGWx3kUqF0cW9s1ZkP4r2JdT8nEb',
    'AGWx3kZ4d8Jq2Lw5Tn1Xv6Rb0Ycm': 'AGWx3kUqF0cW9s1ZkP4r2JdT8nEb',
    'AGWx3l1Hq7Wm3Ke9Pz2Nc5Vd8Tfa': 'AGWx3l1Hq7Wm3Ke9Pz2Nc5Vd8Tfa',
    'AGWx3l5Jr2Xn6Mf0Qa3Od8We1Ugb': 'AGWx3l5Jr2Xn6Mf0Qa3Od8We1Ugb',
    'AGWx3mDLt8Zp2Oh6Sc9Qf4Yg7Wid': 'AGWx3mDLt8Zp2Oh6Sc9Qf4Yg7Wid',
    'AGWx3mHMu1aq5Pi9Td2Rg7Zh0Xje': 'AGWx3mHMu1aq5Pi9Td2Rg7Zh0Xje',
    'AGWx3mLNv4br8Qj2Ue5Sh0ai3Ykf': 'AGWx3mLNv4br8Qj2Ue5Sh0ai3Ykf',
    '08584712345678901234567890123CU01': 'ORDER-4711',
    '08584712345678901234567890124CU02': 'INV-45678',
    '08584712345678901234567890125CU03': 'INV-45679',
    '08584712345678901234567890126CU04': 'ORDER-4712',
}

#: A profile of a made-up platform: German dates in Berlin time, a flow lookup that rejects
#: unknown names, a constant, integer ids.
CUSTOM = {
    'format': 1, 'dataset': 'responses', 'description': 'Test platform',
    'signature': ['Lauf', 'Schnittstelle'],
    'timestamps': {'format': 'pattern', 'pattern': '%d.%m.%Y %H:%M:%S',
                   'timezone': 'Europe/Berlin'},
    'columns': {
        'response_id': {'source': 'Lauf'},
        'flow_code': {'lookup': 'Schnittstelle', 'unknown': 'reject',
                      'flows': {'Bestellungen an SAP': 'SALESORDERREPLICATION'}},
        'responded_at': {'source': 'Ende'},
        'status': {'source': 'Ergebnis', 'values': {'ok': 'OK', 'fehler': 'ERROR'}},
        'duration_ms': {'difference': {'start': 'Beginn', 'end': 'Ende'}},
        'result_code': {'constant': '200'},
    },
    'ignore': ['Bemerkung'],
}


def add_flows(codes=FLOW_CODES) -> None:
    db.session.add_all([Flow(flow_code=code, name=code.title(), flow_type='API',
                             source_system='Platform', target_system='ERP', active=True)
                        for code in codes])
    db.session.commit()


def add_profile(name: str, definition: dict, user: str = 'CORP\\admin') -> SourceProfile:
    row = SourceProfile(name=name, dataset=definition['dataset'],
                        definition=json.dumps(definition), updated_by=user)
    db.session.add(row)
    db.session.commit()
    return row


def stored_responses() -> dict[int, Response]:
    db.session.expire_all()
    return {row.response_id: row for row in db.session.scalars(db.select(Response))}


def expected_id(profile: str, source_id: str) -> int:
    return derive_id(NAMESPACES[profile], source_id)
