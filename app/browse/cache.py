"""A small per-process cache for figures that are expensive to compute and change only when
data is loaded: entries are keyed by the ops data version (the newest load batch and when it
finished) and expire after a short time, so a load, an undo or a seed shows at once and
time-window figures ("last 24 h") are never older than the time-to-live.

Every IIS worker process keeps its own copy; nothing here is needed by another process."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

from sqlalchemy import func, select

from ..database import ops_session_execute
from ..models import LoadBatch


def data_version() -> tuple:
    """Changes whenever a load, undo or seed starts or finishes."""
    return tuple(ops_session_execute(
        select(func.max(LoadBatch.id), func.max(LoadBatch.finished_at),
               func.count(LoadBatch.id)))[0])


class FiguresCache:
    def __init__(self, ttl_seconds: float = 60.0, max_entries: int = 64):
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], object]):
        """The cached value for ``key`` (which should include ``data_version()``), computing
        it when missing or expired."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < self.ttl:
                return entry[1]
        value = compute()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
