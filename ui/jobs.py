"""Long work in a background thread, so the page stays live and a rerun never restarts it.

``WorkerJob`` is what every job shares: the thread, a stop flag, error text and timing,
and a place in the server-wide queue (``ui.job_slots``) that caps concurrent jobs.
``ui.training.TrainingJob`` trains a model, ``ui.lift_job.LiftJob`` runs a lift
comparison; ``ui.job_progress.live_progress`` polls either from a page.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import ClassVar, Self

from embedding_core.errors import EmbeddingCoreError, TrainingCancelled
from ui.job_slots import slots

__all__ = ["WorkerJob"]

_log = logging.getLogger(__name__)


@dataclass(eq=False, kw_only=True)
class WorkerJob:
    """What every background job shares: a worker thread, a stop flag, error text, timing.

    Subclasses implement ``_run`` (the work itself, in the worker thread) and set the
    messages shown when it is cancelled, runs out of memory or fails. Attributes are
    written by the worker and read by the page; each write is a single assignment, which
    is safe under the GIL.
    """

    job_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    stop_event: threading.Event = field(default_factory=threading.Event)
    error: str | None = None
    cancelled: bool = False
    adopted: bool = False
    clicked_at: float = field(default_factory=time.perf_counter)
    finished_at: float | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    _kind: ClassVar[str] = "job"  # thread name prefix and log text
    _cancelled_message: ClassVar[str] = "Stopped before anything was ready."
    _memory_message: ClassVar[str] = "The job ran out of memory."
    _failed_message: ClassVar[str] = "The job failed unexpectedly ({error})."

    # ------------------------------------------------------------------ control
    def start(self) -> Self:
        """Start the worker thread (once) and return self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._work, name=f"{self._kind}-{self.job_id[:8]}", daemon=True
            )
            self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the work to stop at its next check."""
        self.stop_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker ends (for scripts and tests); True if it ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.done

    # ------------------------------------------------------------------ status
    @property
    def done(self) -> bool:
        """True once the worker has finished, successfully or not."""
        return self.finished_at is not None

    @property
    def running(self) -> bool:
        """True while the worker is alive and has not finished."""
        return self._thread is not None and not self.done

    def queue_text(self) -> str | None:
        """While the job waits for a free slot: what it waits for; else None."""
        ahead = slots().waiting_for(self.job_id)
        if ahead is None or self.done:
            return None
        if ahead == 0:
            return "Starting..."
        other = "other training" if ahead == 1 else "other trainings"
        return (
            f"Waiting for {ahead} {other} to finish: the server runs "
            f"{slots().capacity} at a time. It starts by itself; Stop leaves the queue."
        )

    @property
    def total_seconds(self) -> float:
        """Seconds from the click to now or to the end."""
        end = self.finished_at if self.finished_at is not None else time.perf_counter()
        return end - self.clicked_at

    # ------------------------------------------------------------------ worker
    def _run(self) -> None:
        raise NotImplementedError

    def _work(self) -> None:
        queue = slots()
        try:
            if not queue.acquire(self.job_id, self.stop_event):
                raise TrainingCancelled("stopped while waiting for a free slot")
            self._run()
        except TrainingCancelled:
            self.cancelled = True
            self.error = self._cancelled_message
        except EmbeddingCoreError as exc:
            self.error = str(exc)
        except MemoryError:
            self.error = self._memory_message
        except Exception as exc:  # noqa: BLE001 - a worker error must reach the page as text
            _log.exception("%s failed", self._kind)
            self.error = self._failed_message.format(error=f"{type(exc).__name__}: {exc}")
        finally:
            queue.release(self.job_id)
            self.finished_at = time.perf_counter()

    # ------------------------------------------------------- shown while running
    def fraction_done(self) -> float:
        """Progress in [0, 1]."""
        raise NotImplementedError

    def status_text(self) -> str:
        """One line for the progress bar."""
        raise NotImplementedError

    def nearly_done(self) -> bool:
        """Whether the work is in its last moments (``live_progress`` then waits for the
        end instead of showing it at its next poll, up to a second later)."""
        return False
