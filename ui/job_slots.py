"""A server-wide cap on concurrent trainings, with a first-come, first-served queue.

Every background job (training, stability, lift) takes a slot before it starts its
work and gives it back when it ends. With all slots taken, a job waits in line and its
progress bar says so ("Waiting for 1 other training to finish"); Stop leaves the queue
at once. The number of slots is ``Limits.trainings`` (default: the number of CPU cores).
One queue per server process: module-level state, under one lock, like the TensorFlow
warm-up flag in ``ui.training``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["SlotQueue", "slots", "wait_until_quiet"]


class SlotQueue:
    """At most ``capacity`` holders at once; the rest wait in arrival order.

    Parameters
    ----------
    capacity : int
        Slots available (at least 1).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(int(capacity), 1)
        self._cond = threading.Condition()
        self._waiting: list[str] = []
        self._holders: set[str] = set()

    def acquire(self, key: str, stop: threading.Event, poll: float = 0.25) -> bool:
        """Wait for a slot; False if ``stop`` is set first (the key leaves the queue)."""
        with self._cond:
            self._waiting.append(key)
            try:
                while not (self._waiting[0] == key and len(self._holders) < self.capacity):
                    if stop.is_set():
                        return False
                    self._cond.wait(poll)
                self._holders.add(key)
                return True
            finally:
                self._waiting.remove(key)
                self._cond.notify_all()

    def release(self, key: str) -> None:
        """Give the slot of ``key`` back (no-op if it holds none)."""
        with self._cond:
            self._holders.discard(key)
            self._cond.notify_all()

    def waiting_for(self, key: str) -> int | None:
        """How many jobs must finish or start before ``key`` runs; None if not waiting."""
        with self._cond:
            if key not in self._waiting:
                return None
            free = self.capacity - len(self._holders)
            return max(self._waiting.index(key) + 1 - free, 0)

    @property
    def running(self) -> int:
        """Slots held now."""
        with self._cond:
            return len(self._holders)


_LOCK = threading.Lock()
_queue: SlotQueue | None = None


def slots() -> SlotQueue:
    """The server's queue, sized from ``ui.limits`` on first use."""
    global _queue
    with _LOCK:
        if _queue is None:
            from ui.limits import limits

            _queue = SlotQueue(limits().trainings)
        return _queue


def wait_until_quiet(
    quiet_s: float,
    deadline_s: float,
    *,
    busy: Callable[[], bool] | None = None,
    poll_s: float = 0.5,
) -> None:
    """Return once no job (nor anything ``busy`` reports) has run for ``quiet_s`` seconds,
    or after ``deadline_s`` seconds at the latest: background warm-ups wait for this, so
    they do not compete for the CPU with a training or the pages opened right after one."""
    start = time.monotonic()
    quiet_since: float | None = None  # when the current quiet spell was first seen
    while (now := time.monotonic()) - start < deadline_s:
        if slots().running > 0 or (busy is not None and busy()):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= quiet_s:
            return
        time.sleep(poll_s)
