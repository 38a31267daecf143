"""The read cache shared by all sessions: a memory budget and an expiry, not only a count.

Two sessions that upload the same file share one parsed frame. The cache holds at most
``Limits.cache_mb`` of frames (measured with ``memory_usage(deep=True)``), drops the
least recently used first, and forgets a file nobody used for ``cache_ttl_seconds``.
A frame bigger than the whole budget is returned but not kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import pandas as pd

__all__ = ["FrameCache"]


class FrameCache:
    """A thread-safe LRU cache of frames with a byte budget and a time-to-live.

    Parameters
    ----------
    max_bytes : int
        Memory budget of all kept frames together.
    ttl_seconds : float
        An entry not read for this long is dropped.
    clock : callable, default=time.monotonic
    """

    def __init__(
        self, max_bytes: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[pd.DataFrame, int, float]] = OrderedDict()

    @property
    def size_bytes(self) -> int:
        """Bytes held now."""
        with self._lock:
            return sum(size for _, size, _ in self._entries.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get_or_compute(self, key: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """The frame for ``key``, computed (outside the lock) when it is not kept.

        Returns a shallow copy: with pandas' copy-on-write, a caller's changes never
        reach the cached frame or other sessions.
        """
        now = self._clock()
        with self._lock:
            self._expire(now)
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = (entry[0], entry[1], now)
                self._entries.move_to_end(key)
                return entry[0].copy(deep=False)
        frame = compute()
        size = int(frame.memory_usage(deep=True, index=True).sum())
        with self._lock:
            if size <= self.max_bytes:
                self._entries[key] = (frame, size, self._clock())
                self._entries.move_to_end(key)
                total = sum(s for _, s, _ in self._entries.values())
                while total > self.max_bytes:
                    _, (_, dropped, _) = self._entries.popitem(last=False)
                    total -= dropped
        return frame.copy(deep=False)

    def _expire(self, now: float) -> None:
        stale = [k for k, (_, _, used) in self._entries.items() if now - used > self.ttl_seconds]
        for k in stale:
            del self._entries[k]
