"""The shapes of generated data: ``demo`` (the quick start: 40 flows, 60 days, about 30
distinct error reasons) and ``realistic`` (the shape production data has: 500 flows, a year,
20 % WARN/ERROR, and error reasons that carry ids, numbers, paths and times, so most of them
are distinct). ``flask seed-demo --shape`` and the benchmarks' ``--shape`` pick one.
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

from .demo_data import DemoFlow, make_flows

DEMO = 'demo'
REALISTIC = 'realistic'


def realistic_reason(reason: str, rng: random.Random) -> str:
    """A reason as real systems write it: the message plus the ids, paths, numbers and times
    of this occurrence. About one in five stays the bare message (repeated reasons exist)."""
    roll = rng.random()
    if roll < 0.2:
        return reason
    ticket = rng.getrandbits(48)
    if roll < 0.45:
        return f'{reason} (correlation id {ticket:012x})'
    if roll < 0.7:
        return (f'{reason}; record {rng.randrange(1, 10_000_000)} at '
                f'/data/interfaces/batch_{rng.randrange(100_000):05d}/part-{rng.randrange(64)}.dat')
    if roll < 0.85:
        return (f'{reason} after {rng.randrange(1, 120_000):,} ms, attempt {rng.randrange(1, 6)} '
                f'of 5, at {rng.randrange(24):02d}:{rng.randrange(60):02d}:'
                f'{rng.randrange(60):02d}.{rng.randrange(1000):03d}')
    return f'[job {ticket % 10_000_000}] {reason} (order {rng.randrange(4_000_000_000)})'


@dataclass(frozen=True)
class Shape:
    """How many flows and days a shape spans by default, and how its rows are drawn."""
    name: str
    flows: int
    days: int
    #: share of responses that are WARN (ERROR comes from each flow's error rate)
    warn_rate: float
    #: mean ERROR share the flows are scaled to (None: each flow's demo error rate)
    error_rate: float | None = None
    realistic_reasons: bool = False

    def make_flows(self, count: int | None = None, seed: int = 7) -> list[DemoFlow]:
        flows = make_flows(count or self.flows, seed)
        if self.error_rate is None:
            return flows
        mean = sum(flow.error_rate for flow in flows) / len(flows)
        scale = self.error_rate / mean
        return [dataclasses.replace(flow, error_rate=min(0.6, flow.error_rate * scale))
                for flow in flows]

    def response_options(self) -> dict:
        """Keyword arguments of app.demo_data.iter_responses for this shape."""
        return {'days': self.days, 'warn_rate': self.warn_rate,
                'vary': realistic_reason if self.realistic_reasons else None}


SHAPES = {
    DEMO: Shape(DEMO, flows=40, days=60, warn_rate=0.03),
    # 0.17 ERROR (a little more during incidents) + 0.03 WARN: about 20 % of the rows.
    REALISTIC: Shape(REALISTIC, flows=500, days=365, warn_rate=0.03, error_rate=0.165,
                     realistic_reasons=True),
}
