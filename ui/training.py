"""Training in a background thread, so the page stays live and a rerun never retrains.

The Train button creates a ``TrainingJob`` and stores it in the session; the job's thread
imports TensorFlow (lazily: ``embedding_core.train`` is imported inside the thread) and
calls ``embedding_core.train.train`` with a progress callback that only appends to plain
Python lists. The worker never calls Streamlit; the page polls the job from a fragment.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from embedding_core.config import TrainConfig
from embedding_core.errors import EmbeddingCoreError, TrainingCancelled
from embedding_core.roles import Roles

if TYPE_CHECKING:  # pragma: no cover
    from embedding_core.run import TrainedRun
    from embedding_core.train import Progress

__all__ = ["TrainingJob", "warm_up_tensorflow"]

_log = logging.getLogger(__name__)

# Process-wide, not per-user: TensorFlow is loaded once per server process, so one flag
# (under a lock) says whether a warm-up import has been started.
_WARMUP_LOCK = threading.Lock()
_warmup_started = False


def warm_up_tensorflow() -> bool:
    """Start importing TensorFlow/Keras in a daemon thread, once per process.

    Called when the Train page shows its Train button: loading TensorFlow takes 6-10 s,
    and doing it while the user looks at the page takes it off the click-to-result path.
    The app never imports TensorFlow at start-up. Returns True if a thread was started.
    """
    global _warmup_started
    if "keras" in sys.modules:
        return False
    with _WARMUP_LOCK:
        if _warmup_started:
            return False
        _warmup_started = True
    threading.Thread(target=_import_tensorflow, name="tensorflow-warm-up", daemon=True).start()
    return True


def _import_tensorflow() -> None:
    try:
        import embedding_core.deepfm  # noqa: F401  - imports keras and the FM layer
        from ui import keras_guard

        keras_guard.install()
    except Exception:  # noqa: BLE001 - a failed warm-up only means the click will load it
        _log.exception("warming up TensorFlow failed")


@dataclass(eq=False)
class TrainingJob:
    """One training run in a worker thread.

    Attributes are written by the worker and read by the page; each is a single
    assignment or list append, which is safe under the GIL.
    """

    frame: pd.DataFrame
    roles: Roles
    config: TrainConfig
    dataset_label: str = ""
    dataset_key: str = ""
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    stop_event: threading.Event = field(default_factory=threading.Event)
    epochs: list[dict[str, float]] = field(default_factory=list)
    last: Progress | None = None
    result: TrainedRun | None = None
    error: str | None = None
    cancelled: bool = False
    adopted: bool = False
    clicked_at: float = field(default_factory=time.perf_counter)
    train_started_at: float | None = None
    finished_at: float | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ control
    def start(self) -> TrainingJob:
        """Start the worker thread (once) and return self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._work, name=f"train-{self.job_id[:8]}", daemon=True
            )
            self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask training to stop after the current batch; best weights are kept."""
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

    @property
    def n_rows(self) -> int:
        """Rows handed to training."""
        return len(self.frame)

    @property
    def train_seconds(self) -> float:
        """Seconds spent in ``train`` (TensorFlow import excluded)."""
        if self.train_started_at is None:
            return 0.0
        end = self.finished_at if self.finished_at is not None else time.perf_counter()
        return end - self.train_started_at

    @property
    def total_seconds(self) -> float:
        """Seconds from the click to now or to the end."""
        end = self.finished_at if self.finished_at is not None else time.perf_counter()
        return end - self.clicked_at

    def fraction_done(self) -> float:
        """Progress in [0, 1] from the latest epoch/batch report."""
        p = self.last
        if p is None or not p.epochs:
            return 0.0
        batches = max(int(p.batches or 0), 1)
        epoch_done = max(int(p.epoch or 1) - 1, 0)
        batch = int(p.batch or 0)
        if p.kind in ("epoch", "end"):
            epoch_done, batch = int(p.epoch or 0), 0
        frac = (epoch_done + min(batch, batches) / batches) / max(int(p.epochs), 1)
        return float(min(max(frac, 0.0), 1.0))

    def status_text(self) -> str:
        """One line for the progress bar."""
        p = self.last
        if self.stop_event.is_set() and not self.done:
            return "Stopping after the current batch..."
        if p is None:
            return "Loading TensorFlow and preparing the data (a few seconds the first time)..."
        if p.kind == "start":
            return "Building the model (the first epoch includes a few seconds of set-up)..."
        text = f"Epoch {p.epoch}/{p.epochs}"
        if p.kind == "batch" and p.batches:
            text += f" - batch {p.batch}/{p.batches}"
        return text

    # ------------------------------------------------------------------ worker
    def _on_progress(self, progress: Progress) -> bool:
        if progress.kind == "start" and self.train_started_at is None:
            self.train_started_at = time.perf_counter()
        if progress.kind == "epoch":
            logs: dict[str, Any] = dict(progress.logs or {})
            self.epochs = [*self.epochs, {"epoch": progress.epoch, **logs}]
        self.last = progress
        return not self.stop_event.is_set()

    def _work(self) -> None:
        try:
            import keras  # noqa: F401  - lazy: imports TensorFlow (seconds, in this thread)

            from embedding_core.train import train
            from ui import keras_guard

            keras_guard.install()
            if self.train_started_at is None:
                self.train_started_at = time.perf_counter()
            self.result = train(self.frame, self.roles, self.config, on_progress=self._on_progress)
        except TrainingCancelled:
            self.cancelled = True
            self.error = (
                "Training was stopped before the first epoch finished, so there is no "
                "model to keep. Press Train again and let at least one epoch finish."
            )
        except EmbeddingCoreError as exc:
            self.error = str(exc)
        except MemoryError:
            self.error = (
                "Training ran out of memory. Use fewer rows, fewer or smaller categorical "
                "columns, a smaller embedding dimension or a smaller batch size."
            )
        except Exception as exc:  # noqa: BLE001 - a worker error must reach the page as text
            _log.exception("training failed")
            self.error = (
                f"Training failed unexpectedly ({type(exc).__name__}: {exc}). "
                "Try other settings or columns; the previous run, if any, is kept."
            )
        finally:
            self.finished_at = time.perf_counter()
