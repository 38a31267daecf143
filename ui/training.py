"""Training jobs (``ui.jobs.WorkerJob``) and the TensorFlow warm-up.

``TrainingJob``
    The Train button's job: ``embedding_core.model.train.train`` in the server's training
    process (``ui.trainer``; TensorFlow is imported there as the server starts), or in
    this process when that one is busy or the data is big or streamed (TensorFlow
    imported lazily, in the thread).
``StabilityJob``
    Trains the same data with several seeds and saves each run in the run store; each
    seed, like the Train button's run, in the training process when it is free.

Each page stores its job in the session (``state.set_job``) and polls it with
``ui.job_progress.live_progress``. Progress callbacks only assign plain Python objects;
the worker never calls Streamlit. The Lift page's job is ``ui.lift_job.LiftJob``; it
trains its DeepFM with ``train_anywhere`` too.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from embedding_core.data.roles import Roles
from embedding_core.errors import EmbeddingCoreError
from embedding_core.model.config import TrainConfig
from embedding_core.model.train_worker import TrainerBusy, TrainerProcess
from ui import keras_guard
from ui.job_slots import wait_until_quiet
from ui.jobs import WorkerJob
from ui.trainer import free_trainer, prepare_in_trainer, trainer_has_trained, trainer_started

if TYPE_CHECKING:  # pragma: no cover
    from embedding_core.model.run import TrainedRun
    from embedding_core.model.store import RunRecord
    from embedding_core.model.train import Progress

__all__ = ["TrainingJob", "StabilityJob", "save_to_store", "train_anywhere", "warm_up_tensorflow"]

_log = logging.getLogger(__name__)

# Process-wide, not per-user: TensorFlow is loaded once per server process, so one flag
# (under a lock) says whether a warm-up import has been started.
_WARMUP_LOCK = threading.Lock()
_warmup_started = False
#: With a training process, this process imports TensorFlow (for predictions: What-if,
#: Lift, a saved model) only once that process has trained (or ``_IDLE_S`` seconds have
#: passed without a training) and no job has run for ``_QUIET_S`` seconds, so the import
#: never competes for the CPU with the first training or the pages opened right after it;
#: at the latest after ``_QUIET_DEADLINE_S`` seconds.
_QUIET_S = 3.0
_IDLE_S = 30.0
_QUIET_DEADLINE_S = 120.0


def warm_up_tensorflow() -> bool:
    """Start importing TensorFlow/Keras in this process, in a daemon thread, once.

    Called by ``app.py`` after a session's first page has been drawn: predictions (the
    What-if page, Lift's models, a loaded run's model) and trainings that do not go to the
    training process need it here. With a training process started, the thread first
    waits (see ``_QUIET_S``). No page waits for it. Returns True if a thread was started.
    """
    global _warmup_started
    if "keras" in sys.modules:
        return False
    with _WARMUP_LOCK:
        if _warmup_started:
            return False
        _warmup_started = True
    threading.Thread(target=_warm_up, name="tensorflow-warm-up", daemon=True).start()
    return True


def prepare_training_ahead() -> bool:
    """Have the training process set up the training a Train click would start now: the
    session's data, roles and settings (``ui.trainer.prepare_in_trainer``).

    Called by ``app.py`` after each page is drawn, so a click, even right after the app
    opens, starts at the first epoch. Not for a table streamed from the server (it
    trains in this process). Returns True if a request was sent.
    """
    from ui import state

    dataset, roles = state.get_dataset(), state.get_roles()
    if dataset is None or roles is None or dataset.path is not None:
        return False
    return prepare_in_trainer(dataset.frame, roles, state.get_config(), owner=state.session_key())


def _warm_up() -> None:
    if trainer_started():
        start = time.monotonic()

        def first_training_to_come() -> bool:
            return not trainer_has_trained() and time.monotonic() - start < _IDLE_S

        wait_until_quiet(_QUIET_S, _QUIET_DEADLINE_S, busy=first_training_to_come)
    _import_tensorflow()


def _import_tensorflow() -> None:
    try:
        import embedding_core.model.deepfm  # noqa: F401  - imports keras and the FM layer

        keras_guard.install()
    except Exception:  # noqa: BLE001 - a failed warm-up only means the click will load it
        _log.exception("warming up TensorFlow failed")


def train_anywhere(
    frame: pd.DataFrame,
    roles: Roles,
    config: TrainConfig,
    *,
    on_progress: Callable[[Progress], bool],
) -> TrainedRun:
    """``embedding_core.model.train.train`` in the server's training process when it can
    take this training, else in this thread (TensorFlow imported here first).

    For the jobs that train besides the Train button: the stability check's seeds and
    the Lift page's DeepFM (``run_lift(train=...)``).
    """
    run = _train_in_trainer(frame, roles, config, on_progress)
    if run is not None:
        return run
    import keras  # noqa: F401  - lazy: imports TensorFlow (seconds, in this thread)

    from embedding_core.model.train import train

    keras_guard.install()
    return train(frame, roles, config, on_progress=on_progress)


def _train_in_trainer(
    frame: pd.DataFrame,
    roles: Roles,
    config: TrainConfig,
    on_progress: Callable[[Progress], bool],
) -> TrainedRun | None:
    """The run from the server's training process; None when it cannot take this
    training (``ui.trainer.free_trainer``, or another session's training took it first)."""
    trainer = free_trainer(frame, config)
    if trainer is None:
        return None
    try:
        return _train_in(trainer, frame, roles, config, on_progress)
    except TrainerBusy:
        return None


def _train_in(
    trainer: TrainerProcess,
    frame: pd.DataFrame,
    roles: Roles,
    config: TrainConfig,
    on_progress: Callable[[Progress], bool],
) -> TrainedRun:
    """Train in the training process; the run's files stay in a temporary folder as long
    as the run object lives (its model is read from there when first needed)."""
    folder = tempfile.mkdtemp(prefix="embedding_run_")
    try:
        run = trainer.train(frame, roles, config, Path(folder) / "run", on_progress=on_progress)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    weakref.finalize(run, shutil.rmtree, folder, True)
    return run


@dataclass(eq=False)
class TrainingJob(WorkerJob):
    """One training run in a worker thread (the Train page's Train button).

    ``request_stop`` stops training after the current batch; the best weights are kept.
    """

    frame: pd.DataFrame
    roles: Roles
    config: TrainConfig
    dataset_label: str = ""
    dataset_key: str = ""
    path: str | None = None  # a table on the server: stream every row from it
    data_status: str = ""  # the latest line about a streamed table's data passes
    epochs: list[dict[str, float]] = field(default_factory=list)
    last: Progress | None = None
    result: TrainedRun | None = None
    train_started_at: float | None = None
    store_root: str | None = None  # save the run there when training ends (None: don't)
    store_data: bool = True  # ... with the training frame
    record: RunRecord | None = None
    save_error: str = ""

    _kind: ClassVar[str] = "training"
    _cancelled_message: ClassVar[str] = (
        "Training was stopped before the first epoch finished, so there is no "
        "model to keep. Press Train again and let at least one epoch finish."
    )
    _memory_message: ClassVar[str] = (
        "Training ran out of memory. Use fewer rows, fewer or smaller categorical "
        "columns, a smaller embedding dimension or a smaller batch size."
    )
    _failed_message: ClassVar[str] = (
        "Training failed unexpectedly ({error}). "
        "Try other settings or columns; the previous run, if any, is kept."
    )

    # ------------------------------------------------------------------ status
    @property
    def n_rows(self) -> int:
        """Rows handed to training (every row of a streamed table, once counted)."""
        if self.path is not None and self.result is not None:
            return int(self.result.metrics["n_train"] + self.result.metrics["n_valid"])
        return len(self.frame)

    @property
    def train_seconds(self) -> float:
        """Seconds from the model's first step on (the TensorFlow import and the data
        preparation excluded; a streamed table's data passes included)."""
        if self.train_started_at is None:
            return 0.0
        end = self.finished_at if self.finished_at is not None else time.perf_counter()
        return end - self.train_started_at

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
        if p is None and self.data_status:
            return f"Reading every row of the table: {self.data_status}"
        if p is None:
            return "Loading TensorFlow and preparing the data (a few seconds the first time)..."
        if p.kind == "start":
            return "Building the model (the first epoch includes a few seconds of set-up)..."
        if p.kind == "refit" and p.final_fit == "holdout":
            return (
                "Step 2 of 2, final fit: one pass over the validation rows - "
                f"batch {p.batch}/{p.batches}"
            )
        if p.kind == "refit":
            return (
                f"Step 2 of 2, final fit on all rows for the best epoch count: epoch "
                f"{p.epoch}/{p.epochs} - batch {p.batch}/{p.batches}"
            )
        text = "Step 1 of 2, early stopping: " if self.config.refit else ""
        text += f"epoch {p.epoch}/{p.epochs}" if text else f"Epoch {p.epoch}/{p.epochs}"
        if p.kind == "batch" and p.batches:
            text += f" - batch {p.batch}/{p.batches}"
        return text

    def nearly_done(self) -> bool:
        """In the second half of the last epoch of the final fit, or past the training
        (saving the run)."""
        p = self.last
        if p is None:
            return False
        last_epoch_half = p.epoch >= p.epochs and 2 * p.batch >= max(p.batches, 1)
        return p.kind == "end" or (p.kind == "refit" and last_epoch_half)

    # ------------------------------------------------------------------ worker
    def _on_progress(self, progress: Progress) -> bool:
        if progress.kind == "start":
            keras_guard.install()  # the warm-up thread installed it; this covers a failed one
            if self.train_started_at is None:
                self.train_started_at = time.perf_counter()
        if progress.kind == "epoch":
            logs: dict[str, Any] = dict(progress.logs or {})
            self.epochs = [*self.epochs, {"epoch": progress.epoch, **logs}]
        self.last = progress
        return not self.stop_event.is_set()

    def _on_data_status(self, line: str) -> None:
        self.data_status = line

    def _run(self) -> None:
        run = None
        if self.path is None:  # a streamed table trains here
            run = _train_in_trainer(self.frame, self.roles, self.config, self._on_progress)
        if run is None:
            run = self._train_here()
        if self.store_root is not None:
            self.record, self.save_error = save_to_store(
                run,
                self.store_root,
                # a streamed table's frame is only a sample of it: not the run's data
                frame=self.frame if self.store_data and self.path is None else None,
                dataset=self.dataset_label,
                dataset_key=self.dataset_key,
            )
        self.result = run

    def _train_here(self) -> TrainedRun:
        """Train in this process: a streamed table, or what the training process cannot take."""
        if self.path is not None:  # a table on the server: stream every row from disk
            import keras  # noqa: F401  - first, as before (seconds, in this thread)

            from embedding_core.model.streaming import train_streaming

            keras_guard.install()
            self.train_started_at = time.perf_counter()
            return train_streaming(
                self.path,
                self.roles,
                self.config,
                on_progress=self._on_progress,
                on_status=self._on_data_status,
                should_stop=self.stop_event.is_set,  # Stop works during the data passes too
            )
        from embedding_core.model.train import train  # TensorFlow-free until the model

        # TensorFlow loads in the warm-up thread (started now if no page has started it),
        # while ``train`` checks and encodes the data in this thread: a click made while
        # the import runs waits only for what is left of it, once, when the model is built.
        warm_up_tensorflow()
        return train(self.frame, self.roles, self.config, on_progress=self._on_progress)


def save_to_store(
    run: TrainedRun,
    root: str,
    *,
    frame: pd.DataFrame | None,
    dataset: str,
    dataset_key: str,
    extra: dict[str, Any] | None = None,
) -> tuple[RunRecord | None, str]:
    """Save a finished run in the run store: (record, "") or (None, why it failed).

    A failed save (full disk, no permission) never loses the run: it stays the
    session's current run and the page says it was not saved.
    """
    from embedding_core.model.store import RunStore

    name = f"{dataset or 'run'}, {time.strftime('%Y-%m-%d %H:%M')}"
    if extra and extra.get("sibling_of"):
        name = f"{dataset or 'run'}, seed {run.config.seed}"
    try:
        record = RunStore(root).save(
            run,
            name=name,
            data=frame,
            dataset=dataset,
            dataset_key=dataset_key,
            rows=len(frame) if frame is not None else None,
            extra=extra,
        )
    except (OSError, EmbeddingCoreError) as exc:
        _log.warning("saving the run failed: %s", exc)
        return None, f"The run could not be saved to the run store ({exc})."
    return record, ""


@dataclass(eq=False)
class StabilityJob(WorkerJob):
    """Train the run's settings with more seeds and keep them as sibling runs.

    The Neighbours page's "check stability" action. Each sibling is saved to the run
    store as soon as it is trained (``sibling_of`` = the primary's id), and the
    primary's ``run.json`` lists them, so a reopened run still has its siblings.
    """

    primary_id: str
    store_root: str
    frame: pd.DataFrame
    roles: Roles
    config: TrainConfig
    seeds: tuple[int, ...]
    dataset_label: str = ""
    dataset_key: str = ""
    done_seeds: list[int] = field(default_factory=list)
    sibling_ids: list[str] = field(default_factory=list)
    current: Progress | None = None

    _kind: ClassVar[str] = "stability"
    _cancelled_message: ClassVar[str] = "Stopped; the seeds trained so far are kept."
    _memory_message: ClassVar[str] = "Training the other seeds ran out of memory."
    _failed_message: ClassVar[str] = "Training the other seeds failed ({error})."

    def status_text(self) -> str:
        """One line for the progress bar."""
        n = len(self.done_seeds) + 1
        epoch = f", epoch {self.current.epoch}" if self.current and self.current.epoch else ""
        return f"Training seed {n} of {len(self.seeds)} more{epoch}..."

    def fraction_done(self) -> float:
        """Share of the seeds finished."""
        return len(self.done_seeds) / max(len(self.seeds), 1)

    def _on_progress(self, progress: Progress) -> bool:
        self.current = progress
        return not self.stop_event.is_set()

    def _run(self) -> None:
        from embedding_core.model.store import RunStore

        store = RunStore(self.store_root)
        for seed in self.seeds:
            config = self.config.replace(seed=seed)
            run = train_anywhere(self.frame, self.roles, config, on_progress=self._on_progress)
            record, error = save_to_store(
                run,
                self.store_root,
                frame=None,
                dataset=self.dataset_label,
                dataset_key=self.dataset_key,
                extra={"sibling_of": self.primary_id},
            )
            if record is None:
                raise EmbeddingCoreError(error)
            self.sibling_ids = [*self.sibling_ids, record.id]
            store.update(self.primary_id, siblings=self.sibling_ids)
            self.done_seeds = [*self.done_seeds, seed]
