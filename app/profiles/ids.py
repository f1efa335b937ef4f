"""Whole-number keys for sources whose ids are text (GUIDs, run names), and flow codes for
flow names a profile's lookup does not list.

**Derived response ids** (``hash_id``): the first 8 bytes of SHA-256 over the UTF-8 text
``<id_namespace>:<source id>`` (the source id trimmed, case kept: CPI's MessageGuid is
case-sensitive), read as a big-endian unsigned number and shifted right by one bit, so the id
is the hash's first 63 bits: 1 to 2^63−1, a valid BIGINT on every database. The one value in
2^63 that gives 0 becomes 1. The same namespace and source id always give the same id, on every
server and in every year, so a re-export loads as unchanged and an undo finds its rows. The
namespace is part of the profile and travels with its JSON export: keep it when a profile
moves from UAT to production.

**Derived flow codes** (a lookup with ``"unknown": "derive"``): the name upper-cased, each run
of characters other than A-Z, 0-9, ``_`` and ``-`` replaced by one ``-``, leading and trailing
``-`` removed, cut to 32 characters. ``Order sync (EU)`` becomes ``ORDER-SYNC-EU``. The flow must
still exist in Flowdesk, as for any load of responses.
"""
from __future__ import annotations

import re
from hashlib import sha256

NOT_CODE = re.compile(r'[^A-Z0-9_-]+')


def id_prefix(namespace: str) -> bytes:
    return f'{namespace}:'.encode()


def derive_id(namespace: str, source_id: str) -> int:
    digest = sha256(id_prefix(namespace) + source_id.encode()).digest()
    return (int.from_bytes(digest[:8], 'big') >> 1) or 1


def derive_flow_code(name: str) -> str:
    return NOT_CODE.sub('-', name.strip().upper()).strip('-')[:32]
