"""``run_lift``: every split, every encoding, every model; then the summary.

For each split (one holdout split or k folds): train DeepFM on the training rows only
(when the ``embedding`` encoding is asked for), build each encoding's blocks once,
fit every model on them and keep its predictions for the held-out rows. The scores,
error bars, lifts and verdicts are computed afterwards from those predictions
(``summary.summarise``).
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from embedding_core.analysis.lift.progress import LiftProgress, Stage
from embedding_core.analysis.lift.result import LiftResult
from embedding_core.analysis.lift.scoring import TASK_METRICS, score
from embedding_core.analysis.lift.splits import (
    check_class_counts,
    deepfm_predictions,
    encode_target,
    label_strata,
    lift_splits,
)
from embedding_core.analysis.lift.summary import summarise
from embedding_core.analysis.lift.verdict import notes
from embedding_core.analysis.lift.zoo import (
    DENSE_MODELS,
    ENCODING_LABELS,
    ENCODINGS,
    MAX_TRAIN_ROWS,
    MODEL_LABELS,
    MODELS,
    baseline_blocks,
    categorical_block,
    embedding_blocks,
    hstack,
    make_model,
    numeric_blocks,
    predict,
    sklearn_threads,
)
from embedding_core.data.roles import Roles
from embedding_core.errors import DataError, TrainingCancelled
from embedding_core.model.config import TrainConfig

if TYPE_CHECKING:  # pragma: no cover - typing only
    from embedding_core.model.run import TrainedRun

__all__ = ["run_lift", "BOOTSTRAP_RESAMPLES"]

#: Bootstrap resamples of the holdout rows for the error bars in holdout mode.
BOOTSTRAP_RESAMPLES = 200

Cell = tuple[str, str]


class _Stop(Exception):
    """Internal: the caller asked to stop."""


class _Reporter:
    """Counts finished steps, reports them to ``on_progress`` and remembers a stop request."""

    def __init__(
        self, on_progress: Callable[[LiftProgress], bool | None] | None, steps: int, folds: int
    ) -> None:
        self.on_progress = on_progress
        self.steps = steps
        self.folds = folds
        self.step = 0
        self.stopped = False
        # DeepFM may train in a second thread: one report at a time, in order
        self._lock = threading.RLock()

    @property
    def listening(self) -> bool:
        return self.on_progress is not None

    def advance(self) -> None:
        """Count one finished step."""
        with self._lock:
            self.step += 1

    def emit(self, stage: Stage, fold: int, message: str, **detail: Any) -> None:
        """Report one step; raises ``_Stop`` when the caller returns ``False``."""
        with self._lock:
            self._emit(stage, fold, message, **detail)

    def _emit(self, stage: Stage, fold: int, message: str, **detail: Any) -> None:
        if self.on_progress is not None and not self.stopped:
            progress = LiftProgress(
                stage=stage,
                step=self.step,
                steps=self.steps,
                fold=fold,
                folds=self.folds,
                message=message,
                **detail,
            )
            if self.on_progress(progress) is False:
                self.stopped = True
        if self.stopped:
            raise _Stop


@dataclass(frozen=True)
class _Plan:
    """What to compare, fixed for the whole run."""

    roles: Roles
    task: str
    classes: list[str]
    models: tuple[str, ...]
    encodings: tuple[str, ...]
    metric: str
    caps: Mapping[str, int | None]
    config: TrainConfig
    seed: int
    cv: bool
    parallel: bool
    train: Callable[..., TrainedRun] | None = None


@dataclass
class _Cells:
    """What the splits produced, per (model, encoding) cell."""

    predictions: list[dict[Cell, np.ndarray]] = field(default_factory=list)
    fit_seconds: dict[Cell, list[float]] = field(default_factory=dict)
    n_fit: dict[Cell, int] = field(default_factory=dict)
    deepfm_seconds: list[float] = field(default_factory=list)
    subsample: dict[str, int] = field(default_factory=dict)

    def add(self, cell: Cell, pred: np.ndarray, seconds: float, n_fit: int) -> None:
        self.predictions[-1][cell] = pred
        self.fit_seconds.setdefault(cell, []).append(seconds)
        self.n_fit[cell] = n_fit


def _check_arguments(
    models: Sequence[str],
    encodings: Sequence[str],
    folds: int | None,
    holdout_fraction: float,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The models (deduplicated, in the given order) and encodings (in ``ENCODINGS`` order)."""
    models = tuple(dict.fromkeys(models))
    bad_models = [m for m in models if m not in MODELS]
    bad_enc = [e for e in dict.fromkeys(encodings) if e not in ENCODINGS]
    chosen = tuple(e for e in ENCODINGS if e in set(encodings))
    if bad_models or not models:
        raise DataError(f"Unknown or missing models {bad_models}; choose from {', '.join(MODELS)}.")
    if bad_enc or not chosen:
        raise DataError(f"Unknown encodings {bad_enc}; choose from {', '.join(ENCODINGS)}.")
    if folds is not None and (int(folds) != folds or folds < 2):
        raise DataError(f"The number of folds must be a whole number of at least 2, not {folds}.")
    if folds is None and not 0.05 <= holdout_fraction <= 0.5:
        raise DataError(
            f"The holdout fraction must be between 0.05 and 0.5, not {holdout_fraction}."
        )
    return models, chosen


def _validate(frame: pd.DataFrame, roles: Roles) -> tuple[pd.DataFrame, Roles, list[str]]:
    from embedding_core.data.validation import validate_roles

    validated = validate_roles(frame, roles)
    return validated.frame.reset_index(drop=True), validated.roles, list(validated.warnings)


def _check_deepfm_rows(
    n_rows: int, n_train: int, folds: int | None, holdout_fraction: float
) -> None:
    """Refuse splits that leave DeepFM fewer training rows than training needs."""
    from embedding_core.data.validation import MIN_ROWS

    if n_train >= MIN_ROWS:
        return
    if folds is None:
        split = f"holding out {holdout_fraction:.0%} to score on leaves {n_train:,}"
        fix = "use a larger file"
    else:
        split = f"with {folds} folds, the smallest fold leaves {n_train:,}"
        fix = "use more folds or a larger file"
    raise DataError(
        f"The data has {n_rows:,} rows with a target value; {split} to train DeepFM on, "
        f"but it needs at least {MIN_ROWS:,}: {fix}."
    )


def run_lift(
    frame: pd.DataFrame,
    roles: Roles,
    *,
    folds: int | None = None,
    models: Sequence[str] = MODELS,
    encodings: Sequence[str] = ENCODINGS,
    config: TrainConfig | None = None,
    holdout_fraction: float = 0.2,
    seed: int = 0,
    on_progress: Callable[[LiftProgress], bool | None] | None = None,
    max_train_rows: Mapping[str, int | None] | None = None,
    bootstrap_resamples: int = BOOTSTRAP_RESAMPLES,
    deepfm_refit: bool | None = None,
    parallel: bool = True,
    train: Callable[..., TrainedRun] | None = None,
) -> LiftResult:
    """Compare downstream models fed with one-hot, ordinal, target and embedding encodings.

    Parameters
    ----------
    frame : DataFrame
        The data; validated with ``validate_roles`` (rows with a missing target dropped).
    roles : Roles
        Categorical columns, numeric columns and the target.
    folds : int or None, default=None
        ``None``: fast holdout mode. ``k >= 2``: k-fold CV, DeepFM retrained per fold.
    models : sequence of {"logistic", "hgb", "knn", "rf"}
    encodings : sequence of {"onehot", "ordinal", "target", "embedding"}
        Without ``"embedding"`` no DeepFM is trained and there is no lift.
    config : TrainConfig, optional
        DeepFM settings for the embedding encoding (default ``TrainConfig()``). Its seed
        is replaced by ``seed``.
    holdout_fraction : float, default=0.2
        Share of rows held out in holdout mode.
    seed : int, default=0
        Seeds splits, subsamples, models, DeepFM and the bootstrap.
    on_progress : callable, optional
        Called with a ``LiftProgress`` after every step (and per DeepFM epoch/batch).
        Returning ``False`` stops the run (see the package docstring).
    max_train_rows : mapping, optional
        Per-model cap on training rows (defaults: ``MAX_TRAIN_ROWS``; ``None`` = all).
    bootstrap_resamples : int, default=200
        Resamples of the holdout rows for the error bars in holdout mode.
    deepfm_refit : bool or None, default=None
        Refit DeepFM on all of the split's training rows after early stopping.
        ``None``: not in holdout mode (the early-stopped model is kept; the rows that
        chose its epoch are training rows of the split, never held-out ones), as
        ``config.refit`` says in k-fold mode. The choice is in ``config["refit"]`` of
        the result.
    parallel : bool, default=True
        Train DeepFM in a second thread while the models on the other encodings fit.
        The scores do not depend on it; on two cores it saves about a third of the
        wall time (``benchmarks/lift_speed.py``).
    train : callable, optional
        Trains DeepFM: called as ``train(frame, roles, config, on_progress=...)`` like
        (and by default) ``embedding_core.model.train.train``, returning a
        ``TrainedRun``. The app passes one that trains in its training process.

    Returns
    -------
    LiftResult

    Raises
    ------
    DataError
        Bad roles or data, unknown model/encoding names, bad ``folds``.
    TrainingCancelled
        Stopped before any result was complete.
    """
    started = time.perf_counter()
    models, encodings = _check_arguments(models, encodings, folds, holdout_fraction)
    data, roles, warned = _validate(frame, roles)
    task = str(roles.task)
    y, classes = encode_target(data[roles.target], task)
    metrics = TASK_METRICS[task]
    cfg = (config or TrainConfig()).replace(seed=seed)
    refit_note = []
    if deepfm_refit is None:
        deepfm_refit = cfg.refit and folds is not None
        if cfg.refit and not deepfm_refit and "embedding" in encodings:
            refit_note = [
                "Fast mode keeps the DeepFM that early stopping chose (trained on 80% of the "
                "training rows, the other 20% picked its epoch) instead of training it again "
                "on all of them; thorough mode refits."
            ]
    cfg = cfg.replace(refit=bool(deepfm_refit))
    plan = _Plan(
        roles=roles,
        task=task,
        classes=classes,
        models=models,
        encodings=encodings,
        metric=metrics[0],
        caps={**MAX_TRAIN_ROWS, **(dict(max_train_rows) if max_train_rows else {})},
        config=cfg,
        seed=seed,
        cv=folds is not None,
        parallel=parallel,
        train=train,
    )
    if task == "regression":
        strata = y
    else:
        check_class_counts(data[roles.target], roles.target, folds, holdout_fraction)
        strata = label_strata(data[roles.target])
    splits = lift_splits(strata, task, folds=folds, holdout_fraction=holdout_fraction, seed=seed)
    if folds is not None and any(len(te) < 5 for _, te in splits):
        raise DataError(f"Too few rows for {folds} folds; use fewer folds or more data.")
    if "embedding" in encodings:
        _check_deepfm_rows(len(data), min(len(tr) for tr, _ in splits), folds, holdout_fraction)
    steps_per_split = int("embedding" in encodings) + len(models) * len(encodings)
    reporter = _Reporter(on_progress, steps_per_split * len(splits), len(splits))
    cells = _Cells()
    split_label = "fold" if plan.cv else "holdout split"
    try:
        reporter.emit("start", 1, f"Preparing {len(splits)} {split_label}(s).")
        for fold, (train_idx, test_idx) in enumerate(splits, start=1):
            _run_split(plan, data, y, train_idx, test_idx, fold, reporter, cells)
    except _Stop:
        pass
    except TrainingCancelled:
        reporter.stopped = True

    complete = not reporter.stopped
    if not [c for c in cells.fit_seconds if c[0] != "deepfm"]:
        raise TrainingCancelled("The lift run was stopped before any result was ready.")
    mode = "cv" if plan.cv else "holdout"
    results, lift, reference = summarise(
        preds=cells.predictions,
        splits=splits,
        y=y,
        task=task,
        metrics=metrics,
        fit_secs=cells.fit_seconds,
        n_fit=cells.n_fit,
        models=models,
        encodings=encodings,
        mode=mode,
        seed=seed,
        resamples=bootstrap_resamples,
    )
    train0, test0 = splits[0]
    return LiftResult(
        task=task,
        mode=mode,
        metric=plan.metric,
        secondary_metrics=metrics[1:],
        results=results,
        lift=lift,
        reference=reference,
        verdicts=[r["verdict"] for r in lift],
        notes=warned
        + notes(models, encodings, cells.subsample, len(roles.categorical), complete, task)
        + refit_note,
        complete=complete,
        folds=None if folds is None else int(folds),
        holdout_fraction=None if plan.cv else holdout_fraction,
        n_rows=len(data),
        n_train=len(train0),
        n_test=len(test0),
        seed=seed,
        subsample=cells.subsample,
        bootstrap_resamples=None if plan.cv else bootstrap_resamples,
        deepfm_train_seconds=float(np.mean(cells.deepfm_seconds)) if cells.deepfm_seconds else None,
        config=cfg.to_dict(),
        roles=roles.to_dict(),
        created_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        total_seconds=time.perf_counter() - started,
        predictions=cells.predictions,
    )


def _run_split(
    plan: _Plan,
    data: pd.DataFrame,
    y: np.ndarray,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    fold: int,
    reporter: _Reporter,
    cells: _Cells,
) -> None:
    """One split: DeepFM (if asked for) and every (encoding, model) cell.

    The cells of the other encodings do not need DeepFM: with ``plan.parallel`` they fit
    in this thread while DeepFM trains in a second one; the embedding cells follow.
    """
    where = f" (fold {fold}/{reporter.folds})" if plan.cv else ""
    cells.predictions.append({})
    split = _Split(plan, data, y, train_idx, test_idx, fold, where, reporter, cells)
    baselines = [e for e in plan.encodings if e != "embedding"]
    if "embedding" not in plan.encodings:
        split.fit(baselines)
        return
    reporter.emit("deepfm", fold, f"Training DeepFM on {len(train_idx):,} rows{where}.")
    if plan.parallel:
        with ThreadPoolExecutor(1, thread_name_prefix="lift-deepfm") as pool:
            training = pool.submit(split.train_deepfm)
            try:
                split.fit(baselines)
            except BaseException:
                reporter.stopped = True  # DeepFM stops at its next batch
                raise
            run, seconds = training.result()
    else:
        run, seconds = split.train_deepfm()
    cells.deepfm_seconds.append(seconds)
    if reporter.stopped:
        raise _Stop
    pred = deepfm_predictions(run, split.test, plan.task, plan.classes)
    cells.add(("deepfm", "embedding"), pred, seconds, len(train_idx))
    reporter.advance()
    if not plan.parallel:
        split.fit(baselines)
    split.fit(["embedding"], run)


class _Split:
    """One split's rows and the blocks every encoding shares (numeric, raw categorical)."""

    def __init__(
        self,
        plan: _Plan,
        data: pd.DataFrame,
        y: np.ndarray,
        train_idx: np.ndarray,
        test_idx: np.ndarray,
        fold: int,
        where: str,
        reporter: _Reporter,
        cells: _Cells,
    ) -> None:
        self.plan, self.fold, self.where = plan, fold, where
        self.reporter, self.cells = reporter, cells
        self.train, self.test = data.iloc[train_idx], data.iloc[test_idx]
        self.y_train, self.y_test = y[train_idx], y[test_idx]
        self._shared: tuple[Any, ...] | None = None

    def train_deepfm(self) -> tuple[TrainedRun, float]:
        """DeepFM on the training rows, and its wall time."""
        started = time.perf_counter()
        plan = self.plan
        run = _train_deepfm(
            self.train, plan.roles, plan.config, self.reporter, self.fold, self.where, plan.train
        )
        return run, time.perf_counter() - started

    def _blocks(self) -> tuple[Any, ...]:
        """Numeric blocks, their seconds, raw categorical blocks, subsamples (made once)."""
        if self._shared is None:
            plan = self.plan
            started = time.perf_counter()
            num_train, num_test = numeric_blocks(self.train, self.test, plan.roles.numeric)
            num_seconds = time.perf_counter() - started
            self._shared = (
                num_train,
                num_test,
                num_seconds,
                categorical_block(self.train, plan.roles.categorical),
                categorical_block(self.test, plan.roles.categorical),
                _subsamples(plan, len(self.train), self.fold, self.cells),
            )
        return self._shared

    def fit(self, encodings: Sequence[str], run: TrainedRun | None = None) -> None:
        """Fit every model on each encoding, reporting each finished cell."""
        plan, reporter = self.plan, self.reporter
        # scikit-learn's warnings (a class with fewer rows than the target encoder's inner
        # folds, categories first seen in the held-out rows) describe expected cases of
        # small data; the results stand, so they are not shown
        with sklearn_threads(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            num_train, num_test, num_seconds, cat_train, cat_test, rows_for = self._blocks()
            for enc in encodings:
                blocks: dict[bool, tuple[Any, Any, float]] = {}  # dense one-hot or not
                for m in plan.models:
                    dense = m in DENSE_MODELS and enc == "onehot"
                    if dense not in blocks:
                        started = time.perf_counter()
                        if enc == "embedding":
                            assert run is not None
                            c_train, c_test = embedding_blocks(
                                run, self.train, self.test, plan.roles
                            )
                        else:
                            c_train, c_test = baseline_blocks(
                                enc, cat_train, cat_test, self.y_train, plan.task, plan.seed, dense
                            )
                        blocks[dense] = (
                            hstack(c_train, num_train),
                            hstack(c_test, num_test),
                            time.perf_counter() - started + num_seconds,
                        )
                    X_train, X_test, enc_seconds = blocks[dense]
                    rows = rows_for[m]
                    X_fit, y_fit = (
                        (X_train, self.y_train)
                        if rows is None
                        else (X_train[rows], self.y_train[rows])
                    )
                    model = make_model(m, plan.task, plan.seed)
                    started = time.perf_counter()
                    model.fit(X_fit, y_fit)
                    seconds = time.perf_counter() - started + enc_seconds
                    pred = predict(model, X_test, plan.task, max(len(plan.classes), 1))
                    self.cells.add((m, enc), pred, seconds, len(y_fit))
                    reporter.advance()
                    # one cheap metric on the held-out rows, so a caller can show it at once
                    cell_score = (
                        float(score(plan.metric, self.y_test, pred)[0])
                        if reporter.listening
                        else None
                    )
                    reporter.emit(
                        "fit",
                        self.fold,
                        f"{MODEL_LABELS[m]} on {ENCODING_LABELS[enc]}{self.where}: done.",
                        model=m,
                        encoding=enc,
                        metric=plan.metric,
                        score=cell_score,
                        fit_seconds=seconds,
                    )


def _subsamples(
    plan: _Plan, n_train: int, fold: int, cells: _Cells
) -> dict[str, np.ndarray | None]:
    """Seeded training-row subsample per capped model (``None``: every row)."""
    rng = np.random.default_rng([plan.seed, fold])
    rows_for: dict[str, np.ndarray | None] = {}
    for m in plan.models:
        cap = plan.caps.get(m)
        if cap is not None and n_train > cap:
            rows_for[m] = np.sort(rng.choice(n_train, size=cap, replace=False))
            cells.subsample[m] = int(cap)
        else:
            rows_for[m] = None
    return rows_for


def _train_deepfm(
    train: pd.DataFrame,
    roles: Roles,
    cfg: TrainConfig,
    reporter: _Reporter,
    fold: int,
    where: str,
    trainer: Callable[..., TrainedRun] | None = None,
) -> TrainedRun:
    """Train DeepFM on the training rows only, forwarding progress and stop requests
    (with ``trainer``: ``run_lift``'s ``train``, when given)."""
    if trainer is None:
        from embedding_core.model.train import train as trainer

    def forward(p: Any) -> bool:
        # batches only check for a stop request; starts and epochs are reported
        kind = getattr(p, "kind", None)
        epochs = getattr(p, "epochs", None)
        try:
            if kind == "start":
                msg = f"Training DeepFM{where}: building the model (the first epoch is slower)."
                reporter.emit("deepfm", fold, msg, epoch=0, epochs=epochs)
            elif kind == "epoch":
                epoch = getattr(p, "epoch", None)
                msg = f"Training DeepFM{where}: epoch {epoch} done (at most {epochs})."
                reporter.emit("deepfm", fold, msg, epoch=epoch, epochs=epochs)
        except _Stop:
            pass
        return not reporter.stopped

    return trainer(train, roles, cfg, on_progress=forward)
