"""Message ids and correlation ids for generated responses (app.demo_data), as integration
platforms write them: most flows' platforms give every run its own GUID, and a business message
(an order, an invoice) passes through two to four flows within minutes, each run carrying the
message's correlation id, so the trace on a response's page has something to show.

Deterministic like the rows themselves: the same seed and rows give the same ids.
"""
from __future__ import annotations

import random
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: Share of flows whose platform gives each run a message id (a GUID).
MESSAGE_ID_FLOW_SHARE = 0.75
#: Share of responses that start a message passing through several flows.
CHAIN_START_SHARE = 0.12
#: How many responses later (at most) the next flow of a message runs: a few minutes.
CHAIN_GAP = 6
#: The ways correlation ids look: a GUID, or the business document's number.
CORRELATION_PREFIXES = ('ORDER', 'INV', 'SHIP', 'PO')


@dataclass
class _Chain:
    correlation_id: str
    flows: set
    hops_left: int
    due: int      # the row index from which the next hop may join


def has_message_ids(flow_code: str) -> bool:
    """Whether a flow's platform gives message ids (fixed per flow, whatever the seed)."""
    return zlib.crc32(flow_code.encode('utf-8')) % 100 < MESSAGE_ID_FLOW_SHARE * 100


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def with_ids(rows: Iterable[tuple], seed: int = 7) -> Iterator[tuple]:
    """Each generated row (flow code second, in time order) with ``message_id`` and
    ``correlation_id`` appended (either may be None). A started message is joined by the
    next rows of 1–3 other flows, so its runs are in time order."""
    rng = random.Random(seed * 7919 + 17)
    random_ = rng.random
    flows_with_ids: dict[str, bool] = {}
    open_chains: list[_Chain] = []
    number = 0
    for index, row in enumerate(rows):
        flow_code = row[1]
        gives_ids = flows_with_ids.get(flow_code)
        if gives_ids is None:
            gives_ids = flows_with_ids[flow_code] = has_message_ids(flow_code)
        message_id = _guid(rng) if gives_ids else None
        correlation_id = None
        for chain in open_chains:
            if chain.due <= index and flow_code not in chain.flows:
                correlation_id = chain.correlation_id
                chain.flows.add(flow_code)
                chain.hops_left -= 1
                chain.due = index + 1 + int(random_() * CHAIN_GAP)
                break
        if correlation_id is None and random_() < CHAIN_START_SHARE:
            number += 1
            if random_() < 0.5:
                correlation_id = _guid(rng)
            else:
                prefix = CORRELATION_PREFIXES[number % len(CORRELATION_PREFIXES)]
                correlation_id = f'{prefix}-{seed:02d}{number:09d}'
            open_chains.append(_Chain(correlation_id, {flow_code}, 1 + int(random_() * 3),
                                      index + 1 + int(random_() * CHAIN_GAP)))
        open_chains = [chain for chain in open_chains if chain.hops_left > 0]
        yield (*row, message_id, correlation_id)
