"""What every benchmark script shares: memory and CPU time of a process, percentiles of timings,
settling a database after seeding it, and running a measurement in a child process of its own
(with the ``--child`` entry point that child runs).

Memory and CPU time come from Linux's /proc and POSIX ``resource``: the benchmarks are run on
Linux (the app itself does not use either).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

try:
    import resource
except ImportError:  # Windows: the load test runs there; the rusage figures do not
    resource = None

ROOT = Path(__file__).resolve().parent.parent


# -- memory and CPU time ----------------------------------------------------------------------
def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux /proc; elsewhere its peak RSS)."""
    statm = Path('/proc/self/statm')
    if statm.exists():
        pages = int(statm.read_text(encoding='ascii').split()[1])
        return pages * os.sysconf('SC_PAGE_SIZE') / 1e6
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """This process's own peak RSS. Linux's VmHWM starts afresh at exec; ``ru_maxrss`` does
    not: it keeps the high-water mark of the parent image the child was forked from, so a
    child started by a parent that had grown (after generating a file, or running another
    contender) would report the parent's size, not its own."""
    status = Path('/proc/self/status')
    if status.exists():
        for line in status.read_text(encoding='ascii').splitlines():
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds(who: int) -> float:
    """User + system CPU time (of this process and its threads, or of its finished children)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# -- timings ----------------------------------------------------------------------------------
def percentile(values, share: float) -> float:
    """The nearest-rank percentile of ``values`` (which need not be sorted) at ``share`` (0.95
    for p95): the smallest value that at least that share of the values is at or below, i.e.
    the ceil(share * n)-th in order; always a measured value, never interpolated. NaN when
    there are no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(share * len(ordered) - 1e-9) - 1)]


def best(runs: list[dict]) -> dict:
    """The fastest of repeated runs (each a dict with ``seconds``)."""
    return min(runs, key=lambda run: run['seconds'])


def spread(runs: list[dict]) -> str:
    """'  (best of N; fastest–slowest s)' for repeated runs, '' for a single one."""
    if len(runs) < 2:
        return ''
    times = sorted(run['seconds'] for run in runs)
    return f'  (best of {len(runs)}; {times[0]:.1f}–{times[-1]:.1f} s)'


# -- databases --------------------------------------------------------------------------------
def settle(engine) -> None:
    """After seeding: statistics fresh, and on SQLite the WAL folded into the database file
    (so that a file copy is complete and the first measured reads do not replay it)."""
    if engine.dialect.name == 'postgresql':
        with engine.connect().execution_options(isolation_level='AUTOCOMMIT') as connection:
            connection.exec_driver_sql('VACUUM ANALYZE')
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql('ANALYZE')
            connection.commit()
            connection.exec_driver_sql('PRAGMA wal_checkpoint(TRUNCATE)')


# -- measurements in child processes ----------------------------------------------------------
def run_child(script: str, kind: str, backend: str, target, argument) -> dict:
    """Run ``script --child KIND BACKEND TARGET ARGUMENT`` in a process of its own; the dict
    it printed as its last line (see ``child_main``). A failed child stops the benchmark."""
    result = subprocess.run([sys.executable, script, '--child', kind, backend, str(target),
                             str(argument)], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f'{kind} on {backend} failed:\n{result.stderr[-3000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


def child_main(children: dict[str, Callable[[str, str, str], dict]]) -> int:
    """The child's side of ``run_child``: run ``children[KIND](BACKEND, TARGET, ARGUMENT)`` and
    print its dict as JSON, with the process's peak RSS (``max_rss_mb``) and its CPU time
    (``cpu_seconds``), which includes that of the processes it started and waited for
    (``child_cpu_seconds``: a large load checks its rows in a second process)."""
    kind, backend, target, argument = sys.argv[2:6]
    outcome = children[kind](backend, target, argument)
    outcome['max_rss_mb'] = peak_rss_mb()
    outcome['child_cpu_seconds'] = cpu_seconds(resource.RUSAGE_CHILDREN)
    outcome['cpu_seconds'] = cpu_seconds(resource.RUSAGE_SELF) + outcome['child_cpu_seconds']
    print(json.dumps(outcome))
    return 0


def main_or_child(main: Callable[[], int], children: dict) -> int:
    """A benchmark script's entry point: ``child_main`` when started by ``run_child`` (its first
    argument is ``--child``), else ``main()``; the exit code."""
    if len(sys.argv) > 1 and sys.argv[1] == '--child':
        return child_main(children)
    return main()
