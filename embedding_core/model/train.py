"""Train a DeepFM on a frame and return a ``TrainedRun``.

The steps: ``validate_roles`` (bad roles raise ``DataError``), a seeded
train/validation split of the rows (stratified for classification), encoders fitted
on the training split only, a DeepFM fitted with ``LazyAdam`` (Adam
that moves only the embedding rows a batch used; see ``deepfm.LazyAdam``), early
stopping on the validation loss with the best epoch's weights restored, then (with
``config.refit``, the default) the model trained again from its initial weights on all
rows, validation rows included, for the best epoch count: on high-cardinality data the
20% of rows held out for early stopping are worth having in the final model.

On small data the batch size shrinks so that an epoch has at least
``MIN_STEPS_PER_EPOCH`` steps (``effective_batch_size``; the size used is
``metrics["batch_size"]``): with 800 rows and batches of 1024, 20 epochs would be 20
optimiser steps and the model would barely move.

Reproducibility: ``keras.utils.set_random_seed(config.seed)`` is called once, here,
right before the model is built; it seeds Python, NumPy and TensorFlow (weight
initialisation, dropout); the batch order comes from the seed too
(``batches.array_batches``). With the same data, config and seed on the
same CPU machine the embeddings and metrics come out identical. Results may still
differ across machines or thread counts (oneDNN picks kernels by CPU), and
``train_seconds``/``rows_per_second`` of course vary.

TensorFlow is imported on the first call of ``train``, not when this module is imported.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from embedding_core.data.roles import Roles
from embedding_core.errors import TrainingCancelled
from embedding_core.model.config import TrainConfig
from embedding_core.model.frequency import set_bands_of
from embedding_core.model.graph_passes import lean_graph_passes
from embedding_core.model.networks import check_network_size

if TYPE_CHECKING:
    from embedding_core.model.features import FeatureEncoder
    from embedding_core.model.init import InitPlan
    from embedding_core.model.prepare import PreparedTraining
    from embedding_core.model.run import TrainedRun

__all__ = [
    "Progress",
    "ProgressCallback",
    "train",
    "set_up",
    "TrainingSetUp",
    "effective_batch_size",
    "MAX_BATCH_EVENTS",
    "MIN_STEPS_PER_EPOCH",
    "MIN_BATCH_SIZE",
]

#: At most this many "batch" progress events are sent per epoch (plus the last batch).
MAX_BATCH_EVENTS = 20
#: Upper bound of batches run per call into TensorFlow (``steps_per_execution``)...
STEPS_PER_EXECUTION = 8
#: ...keeping at least this many progress/cancel points per epoch.
MIN_BATCH_EVENTS = 4
#: Small data: batches shrink so an epoch has at least this many steps...
MIN_STEPS_PER_EPOCH = 20
#: ...but never below this many rows.
MIN_BATCH_SIZE = 16


@dataclass(frozen=True)
class Progress:
    """One progress report from ``train``.

    Attributes
    ----------
    kind : {"start", "batch", "epoch", "refit", "end"}
        ``"start"`` once before the first batch (after data preparation), ``"batch"``
        up to ~20 times per epoch, ``"epoch"`` after each finished epoch (with
        validation figures), ``"refit"`` up to ~20 times per epoch of the final fit on
        all rows (``config.refit``; no validation figures), ``"end"`` once with the
        final metrics.
    epoch : int
        1-based epoch being run (0 at ``"start"``; epochs run at ``"end"``).
    epochs : int
        Maximum number of epochs (early stopping may end sooner); for ``"refit"``
        events, the epochs of the final fit.
    batch : int
        1-based batch within the epoch (``"batch"`` events), else 0.
    batches : int
        Batches per epoch.
    logs : dict of str to float
        ``loss`` (training, running mean over the epoch); after an epoch also
        ``val_loss`` and the task's validation figures (``val_auc``, ``val_logloss``;
        ``val_rmse``, ``val_mae``, ``val_r2``; ``val_accuracy``). At ``"end"``, the
        final metrics (``valid_*``...).
    rows : int
        Rows done so far in the epoch (``"batch"`` and ``"refit"`` events), else 0.
    final_fit : {"refit", "holdout"} or None
        ``"refit"`` events: which final step runs (``TrainConfig.final_fit``); else None.
    """

    kind: Literal["start", "batch", "epoch", "refit", "end"]
    epoch: int
    epochs: int
    batch: int = 0
    batches: int = 0
    logs: dict[str, float] = field(default_factory=dict)
    rows: int = 0
    final_fit: str | None = None

    @property
    def fraction(self) -> float:
        """Share of the maximum training work done, in [0, 1] (for a progress bar);
        for ``"refit"`` events, the share of the final fit."""
        if self.kind == "end":
            return 1.0
        if self.kind in ("batch", "refit") and self.batches:
            return min(1.0, ((self.epoch - 1) + self.batch / self.batches) / self.epochs)
        return min(1.0, self.epoch / self.epochs) if self.epochs else 0.0


#: Receives each ``Progress``; returning ``False`` asks training to stop.
ProgressCallback = Callable[[Progress], "bool | None"]


def effective_batch_size(batch_size: int, n_train: int) -> int:
    """The batch size used: ``batch_size``, reduced on small data to give an epoch
    at least ``MIN_STEPS_PER_EPOCH`` steps (but never below ``MIN_BATCH_SIZE``).

    With 800 training rows and batch 1024 an epoch would be a single Adam step and
    20 epochs would barely move the weights; 40 rows per batch train properly.
    """
    wanted = max(MIN_BATCH_SIZE, n_train // MIN_STEPS_PER_EPOCH)
    return int(max(1, min(batch_size, wanted)))


def _steps_per_execution(batches: int) -> int:
    """Run several batches per call into TensorFlow (less Python and fewer function
    calls per step; 5-10% less CPU per epoch at batch 1024), but keep at least
    ``MIN_BATCH_EVENTS`` callback points per epoch for progress/cancel."""
    return int(max(1, min(STEPS_PER_EXECUTION, batches // MIN_BATCH_EVENTS)))


def _prior_bias(task: str, y: np.ndarray, n_classes: int) -> np.ndarray | None:
    if task == "binary":
        p = float(np.clip(np.mean(y), 1e-4, 1 - 1e-4))
        return np.array([math.log(p / (1 - p))])
    if task == "multiclass":
        shares = np.bincount(y.astype(np.int64), minlength=n_classes) / len(y)
        return np.log(np.clip(shares, 1e-4, None))
    return None


def _subset(inputs: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: np.ascontiguousarray(v[rows]) for k, v in inputs.items()}


def _set_seed(seed: int) -> None:
    """The one place where randomness is seeded."""
    import keras

    keras.utils.set_random_seed(seed)


def train(
    frame: pd.DataFrame,
    roles: Roles,
    config: TrainConfig | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    prepared: PreparedTraining | None = None,
) -> TrainedRun:
    """Train a DeepFM and return the run (model, encoders, metrics, embeddings).

    Parameters
    ----------
    frame : pandas.DataFrame
        The data (e.g. from ``read_csv``); only the columns named in ``roles`` are used.
    roles : Roles
        Categorical fields, optional numeric inputs, the target and the task
        (``None`` = inferred).
    config : TrainConfig, optional
        Hyperparameters; ``TrainConfig()`` when omitted.
    on_progress : callable, optional
        Called with a ``Progress`` at start, during epochs (throttled to
        ~``MAX_BATCH_EVENTS`` per epoch), after each epoch and at the end. Returning
        ``False`` stops training: if an epoch has finished, the run is returned with
        the best epoch's weights and ``metrics["stopped_by_user"] = True``;
        otherwise ``TrainingCancelled`` is raised.
    prepared : PreparedTraining, optional
        Made ahead by ``prepare.prepare_training``; used (once) if it was made for this
        frame, roles and config, which saves the set-up and the tracing of the first
        epoch. The run is the same either way (``metrics["prepared_ahead"]`` says which).

    Returns
    -------
    TrainedRun

    Raises
    ------
    DataError
        The roles do not fit the data (see ``validate_roles``).
    TrainingCancelled
        ``on_progress`` returned ``False`` before the first epoch finished. Returning
        ``False`` during the final fit on all rows keeps the early-stopped model
        (``metrics["refit"] = False``, ``metrics["stopped_by_user"] = True``).

    Notes
    -----
    ``metrics`` holds ``task``, ``n_train``, ``n_valid``, ``epochs_run``, ``best_epoch``,
    ``refit`` (whether the kept model is the final fit on all rows), ``refit_epochs``,
    ``refit_rows`` and ``refit_seconds``, ``train_seconds`` (wall time of the fit loops,
    validation and final fit included), ``rows_per_second`` (rows x epochs of both fits
    / ``train_seconds``), ``steady_rows_per_second`` (epochs of the first fit after the
    first epoch, which pays for graph tracing),
    ``time_to_first_epoch_seconds`` (from the call to the end of epoch 1: the time to
    first usable embeddings), ``stopped_by_user``, the validation figures of the best
    weights (``valid_auc``/``valid_logloss``; ``valid_rmse``/``valid_mae``/``valid_r2``;
    ``valid_accuracy``/``valid_logloss``; measured before the final fit, which has
    seen the validation rows) and the same figures of a trivial predictor
    (``baseline_*``: training prior or mean). ``count`` and target statistics in the
    embedding tables are over the rows the kept model was fitted on. Also ``model``
    (``config.model``) and, with ``config.init_embeddings``, ``init_embeddings`` (the
    source), ``init_fields`` (fields started from it), ``init_matched`` (field -> share
    of its categories found there by name) and ``frozen_fields``.
    """
    t_call = time.perf_counter()
    config = config or TrainConfig()
    setup = prepared.take(frame, roles, config) if prepared is not None else None
    prepared_ahead = setup is not None
    setup = setup or set_up(frame, roles, config)
    with lean_graph_passes():  # TensorFlow is loaded by now, not before the set-up
        return _fit(setup, config, on_progress, t_call, prepared_ahead=prepared_ahead)


def _fit(
    setup: TrainingSetUp,
    config: TrainConfig,
    on_progress: ProgressCallback | None,
    t_call: float,
    *,
    prepared_ahead: bool,
) -> TrainedRun:
    """``train`` from its set-up on: the early-stopped fit, the final fit and the run."""
    from embedding_core.model.batches import array_batches
    from embedding_core.model.deepfm import predict_raw
    from embedding_core.model.embeddings import field_statistics
    from embedding_core.model.features import NUMERIC_ENCODED_INPUT
    from embedding_core.model.final_fit import resolve_patience
    from embedding_core.model.metrics import baseline_metrics
    from embedding_core.model.stopping import early_stopper

    roles, task, features = setup.roles, setup.task, setup.features
    model, plan, final_fit = setup.model, setup.plan, setup.final_fit
    x_train, x_valid, y_train, y_valid = setup.x_train, setup.x_valid, setup.y_train, setup.y_valid
    y_train_user, y_valid_user = setup.y_train_user, setup.y_valid_user
    n_train, n_valid, n_classes = setup.n_train, setup.n_valid, setup.n_classes
    batch_size, batches = setup.batch_size, setup.batches
    initial_weights, warnings = setup.initial_weights, setup.warnings
    del setup  # the arrays go with the names above (the refit replaces x_train)

    def score(x: dict[str, np.ndarray]) -> np.ndarray:
        return _user_prediction(features, predict_raw(model, x, traced=True))

    def validation_logs() -> dict[str, float]:
        pred = score(x_valid)
        return validation_figures(task, features, y_valid_user, y_valid, pred)

    reporter = _make_reporter(
        on_progress, config.epochs, batches, validation_logs, t_call, batch_size=batch_size
    )
    stopper = early_stopper(resolve_patience(config, n_train), config.epoch_tolerance, task)
    averaging = _averaging_callbacks(config, batches)
    if not reporter.send(Progress("start", 0, config.epochs, 0, batches)):
        raise TrainingCancelled("Training was cancelled before it started; no model was kept.")

    t_fit = time.perf_counter()
    model.fit(
        array_batches(x_train, y_train, batch_size, seed=config.seed)[0],
        steps_per_epoch=batches,
        epochs=config.epochs,
        shuffle=False,  # the pipeline shuffles
        verbose=0,
        callbacks=[*averaging, reporter, stopper],  # the averager first: it swaps weights
    )
    train_seconds = time.perf_counter() - t_fit
    epochs_run = len(reporter.history)
    if epochs_run == 0:
        raise TrainingCancelled(
            "Training was cancelled before the first epoch finished; no model was kept."
        )

    # EarlyStopping put the best epoch's weights back; they were scored after that epoch.
    best = [h for h in reporter.history if h["epoch"] == stopper.best_epoch + 1]
    final = {k: v for k, v in best[0].items() if k.startswith("val_")} if best else None
    final = final or validation_logs()
    metrics: dict[str, Any] = {
        "task": task,
        "n_train": n_train,
        "n_valid": n_valid,
        "epochs_run": epochs_run,
        "batch_size": batch_size,
        "best_epoch": int(stopper.best_epoch) + 1,
        "stopped_early": bool(stopper.stopped_epoch > 0),
        "stopped_by_user": reporter.stopped_by_user,
        "train_seconds": round(train_seconds, 3),
        "rows_per_second": round(n_train * epochs_run / train_seconds, 1),
        "steady_rows_per_second": None,
        "time_to_first_epoch_seconds": round(reporter.first_epoch_at - t_call, 3),
        "refit": False,
        "final_fit": None,
        "refit_epochs": 0,
        "refit_rows": 0,
        "refit_seconds": 0.0,
        "prepared_ahead": prepared_ahead,
        **_model_metrics(config, plan, model),
    }
    later = reporter.epoch_seconds[1:]
    if later:
        metrics["steady_rows_per_second"] = round(n_train / float(np.mean(later)), 1)
    metrics.update({f"valid_{k[4:]}": v for k, v in final.items() if k != "val_loss"})
    baseline = baseline_metrics(
        task, _baseline_target(task, y_train, y_train_user), y_valid_user, n_classes=n_classes
    )
    metrics.update({f"baseline_{k}": v for k, v in baseline.items()})

    early_weights = None
    if final_fit is not None and not reporter.stopped_by_user:
        early_weights = _early_weights(model, config, final_fit)
        x_all = {k: np.concatenate([x_train[k], x_valid[k]]) for k in x_train}
        y_all = np.concatenate([y_train, y_valid])
        t_refit = time.perf_counter()
        # "refit": all rows from the initial weights; "holdout": one pass over the held-out rows
        x_fit, y_fit = (x_valid, y_valid) if final_fit == "holdout" else (x_all, y_all)
        fit_batches, n_fit_batches = array_batches(x_fit, y_fit, batch_size, seed=config.seed)
        refit_epochs = 1 if final_fit == "holdout" else metrics["best_epoch"]
        refitted = _refit(
            model,
            initial_weights,
            {"x": fit_batches, "steps_per_epoch": n_fit_batches, "shuffle": False},
            n_fit_batches,
            refit_epochs,
            reporter.send,
            batch_size=batch_size,
            averaging=averaging,
        )
        refit_seconds = time.perf_counter() - t_refit
        if not refitted:
            metrics["stopped_by_user"] = True
            early_weights = None  # the early-stopped model is the kept one
        else:
            x_train, y_train = x_all, y_all
            y_train_user = np.concatenate([y_train_user, y_valid_user])
            metrics.update(
                _refit_metrics(
                    n_train,
                    epochs_run,
                    train_seconds,
                    len(y_all),
                    refit_epochs,
                    refit_seconds,
                    final_fit=final_fit,
                    fitted_rows=len(y_fit),
                )
            )
        del x_all, fit_batches
    y_stats = y_train_user if task != "multiclass" else y_train
    stats = field_statistics(features, x_train["categorical"], y_stats)
    bin_stats = None
    encoder = features.numeric_encoder_
    if encoder is not None and encoder.as_index:  # numeric bins, explorable like categories
        from embedding_core.model.bin_tables import bin_statistics

        slots = x_train[NUMERIC_ENCODED_INPUT]
        bin_stats = bin_statistics(encoder, slots, y_stats, multiclass=task == "multiclass")
    return _finish_run(
        model,
        features,
        roles,
        config,
        metrics,
        reporter,
        stats,
        warnings,
        batches,
        bin_stats=bin_stats,
        early_weights=early_weights,
    )


def _early_weights(model: Any, config: TrainConfig, final_fit: str) -> list[np.ndarray] | None:
    """A copy of the early-stopped weights when ``predict`` will average that model with
    the refit one (``config.average_early`` and a ``"refit"`` final fit), else None."""
    if not config.average_early or final_fit != "refit":
        return None
    return [np.array(w, copy=True) for w in model.get_weights()]


@dataclass(eq=False)
class TrainingSetUp:
    """Everything ``train`` does before its first epoch: the checked roles, the split,
    the fitted encoders and encoded arrays, and the compiled network with its initial
    weights (``set_up``; ``prepare.prepare_training`` makes one ahead of a click)."""

    roles: Roles
    task: str
    features: FeatureEncoder
    x_train: dict[str, np.ndarray]
    x_valid: dict[str, np.ndarray]
    y_train: np.ndarray
    y_valid: np.ndarray
    y_train_user: np.ndarray
    y_valid_user: np.ndarray
    n_classes: int
    batch_size: int
    batches: int
    model: Any
    plan: InitPlan | None
    final_fit: str | None
    initial_weights: list[np.ndarray] | None
    warnings: list[str]

    @property
    def n_train(self) -> int:
        return int(len(self.y_train))

    @property
    def n_valid(self) -> int:
        return int(len(self.y_valid))


def set_up(frame: pd.DataFrame, roles: Roles, config: TrainConfig) -> TrainingSetUp:
    """Check the roles, split the rows, fit the encoders on the training rows, encode
    every row and build and compile the network (seeded): ``train`` up to its first epoch.

    Raises ``DataError`` if the roles do not fit the data.
    """
    from embedding_core.data.split import train_valid_split
    from embedding_core.data.validation import validate_roles
    from embedding_core.model.features import FeatureEncoder
    from embedding_core.model.final_fit import resolve_final_fit

    validated = validate_roles(frame, roles)
    data, roles = validated.frame, validated.roles
    task = roles.task
    assert task is not None

    labels = None
    if task != "regression":
        from embedding_core.model.features import target_text

        labels = target_text(data[roles.target])
    train_idx, valid_idx = train_valid_split(
        len(data),
        valid_fraction=config.valid_fraction,
        seed=config.seed,
        stratify=None if labels is None else labels.to_numpy(dtype=str),
    )
    numeric_bins, bins_note = _numeric_bins(config, len(data), len(roles.numeric))
    features = FeatureEncoder()
    inputs = features.fit_transform(  # learnt on the training rows, every row encoded
        data,
        roles,
        rows=train_idx,
        min_count=config.min_count,
        max_vocabulary=config.max_vocabulary,
        numeric_encoding=config.numeric_encoding,
        numeric_bins=numeric_bins,
    )
    set_bands_of(features, config)
    check_network_size(features, config)

    y_all = features.encode_target(data[roles.target] if labels is None else labels)
    if config.crosses == "auto" and config.model == "deepfm" and task != "multiclass":
        from embedding_core.model.crosses import choose_crosses

        features.set_crosses(
            choose_crosses(
                features, data, inputs, y_all[train_idx], train_idx, numeric_bins, config.seed
            )
        )
    y_user = features.user_target(y_all)
    x_train, x_valid = _subset(inputs, train_idx), _subset(inputs, valid_idx)
    y_train, y_valid = y_all[train_idx], y_all[valid_idx]
    y_train_user, y_valid_user = y_user[train_idx], y_user[valid_idx]
    warnings = [*validated.warnings, *([bins_note] if bins_note else [])]
    # Only the encoded arrays are needed from here: free the frames before fitting.
    del inputs, y_all, y_user, labels, data, validated
    n_classes = features.n_outputs if task == "multiclass" else 1

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    batch_size = effective_batch_size(config.batch_size, len(train_idx))
    batches = max(1, math.ceil(len(train_idx) / batch_size))
    model, plan = _compiled_network(features, config, task, n_classes, y_train, batches)
    final_fit = resolve_final_fit(config, len(train_idx), task)
    initial_weights = model.get_weights() if final_fit == "refit" else None
    return TrainingSetUp(
        roles=roles,
        task=task,
        features=features,
        x_train=x_train,
        x_valid=x_valid,
        y_train=y_train,
        y_valid=y_valid,
        y_train_user=y_train_user,
        y_valid_user=y_valid_user,
        n_classes=n_classes,
        batch_size=batch_size,
        batches=batches,
        model=model,
        plan=plan,
        final_fit=final_fit,
        initial_weights=initial_weights,
        warnings=warnings,
    )


def validation_figures(
    task: str,
    features: FeatureEncoder,
    y_scored: np.ndarray,
    y_model: np.ndarray,
    pred: np.ndarray,
) -> dict[str, float]:
    """Validation metrics (``val_<name>``) and ``val_loss``, the early-stopping monitor.

    ``y_scored`` is the target as the metrics read it, ``y_model`` as the network was
    trained on it; the regression loss is the mean squared error on the standardised scale.
    """
    from embedding_core.model.metrics import task_metrics

    figures = task_metrics(task, y_scored, pred)
    if task == "regression":
        z = (pred - features.target_mean_) / features.target_std_
        val_loss = float(np.mean((z - y_model) ** 2))
    else:
        val_loss = figures["logloss"]
    return {"val_loss": val_loss, **{f"val_{k}": v for k, v in figures.items()}}


def _finish_run(
    model: Any,
    features: FeatureEncoder,
    roles: Roles,
    config: TrainConfig,
    metrics: dict[str, Any],
    reporter: Any,
    stats: Any,
    warnings: list[str],
    batches: int,
    *,
    bin_stats: dict[str, dict[str, np.ndarray]] | None = None,
    early_weights: list[np.ndarray] | None = None,
) -> TrainedRun:
    """Pull the tables out of a trained network, wrap the run and send the "end" event.

    ``bin_stats`` (``bin_tables.bin_statistics``) adds the tables of the numeric bins.
    With ``config.fm_field_weights`` the run keeps the FM pair weights too, and with
    ``early_weights`` (``_early_weights``) the early-stopped model for ``predict``.
    """
    from embedding_core.model.embeddings import build_tables
    from embedding_core.model.networks import network_field_tables
    from embedding_core.model.run import TrainedRun

    tables = build_tables(features, network_field_tables(model, features), stats)
    pair_weights = None
    if config.model == "deepfm":
        from embedding_core.model.deepfm import fm_pair_weights

        pair_weights = fm_pair_weights(model, features)
    bin_tables = None
    if bin_stats is not None and features.numeric_encoder_ is not None:
        from embedding_core.model.bin_tables import bin_weights, build_bin_tables

        encoder = features.numeric_encoder_
        bin_tables = build_bin_tables(encoder, bin_weights(model, encoder), bin_stats)
    run = TrainedRun(
        model=model,
        features=features,
        roles=roles,
        config=config,
        metrics=metrics,
        history=reporter.history,
        tables=tables,
        warnings=warnings,
        bin_tables=bin_tables,
        pair_weights=pair_weights,
        early_weights=early_weights,
    )
    numbers = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
    reporter.send(Progress("end", metrics["epochs_run"], config.epochs, 0, batches, numbers))
    return run


def _compiled_network(
    features: Any,
    config: TrainConfig,
    task: str,
    n_classes: int,
    y_train: np.ndarray,
    batches: int,
    *,
    build_slots: bool = True,
) -> tuple[Any, InitPlan | None]:
    """The compiled network that in-memory and streamed training fit, and its init plan.

    Seeds, plans the initial embeddings (``config.init_embeddings``), builds the network
    (its MLP in the precision ``mlp.resolve_precision`` picks for these rows) with the
    prior as output bias and compiles it with ``LazyAdam``. ``build_slots``
    creates the optimiser's slots now: created inside the first traced step, they make
    TensorFlow trace the whole training step a second time (about a second per run).
    ``config.row_bias_correction`` compiles with ``rare_rows.RowAdam`` instead; both
    step the category tables with ``config.embedding_lr_factor`` times the learning rate.
    """
    from embedding_core.model.deepfm import LazyAdam
    from embedding_core.model.mlp import resolve_precision
    from embedding_core.model.networks import build_network

    plan = None
    if config.init_embeddings is not None:
        from embedding_core.model.init import plan_init

        plan = plan_init(features, config.init_embeddings, freeze=config.freeze_embeddings)
    _set_seed(config.seed)
    precision = resolve_precision(config.deep_precision, len(y_train))
    model = build_network(
        features,
        config.replace(deep_precision=precision),
        task,
        n_classes,
        output_bias=_prior_bias(task, y_train, n_classes),
        plan=plan,
    )
    optimizer = LazyAdam(config.learning_rate, config.embedding_lr_factor)
    if config.row_bias_correction:
        from embedding_core.model.rare_rows import RowAdam

        optimizer = RowAdam(config.learning_rate, config.embedding_lr_factor)
    model.compile(
        optimizer=optimizer,
        loss=_loss(task),
        steps_per_execution=_steps_per_execution(batches),
    )
    if build_slots:
        model.optimizer.build(model.trainable_variables)
    return model, plan


def _refit_metrics(
    train_rows: int,
    epochs_run: int,
    train_seconds: float,
    all_rows: int,
    refit_epochs: int,
    refit_seconds: float,
    *,
    final_fit: str = "refit",
    fitted_rows: int | None = None,
) -> dict[str, Any]:
    """The metrics a finished final fit sets: ``refit*``, ``final_fit``, and both fits'
    time and rows/s. ``refit_rows`` is every row the kept model has trained on;
    ``fitted_rows`` the rows of one epoch of the final fit (``all_rows`` by default)."""
    seconds = train_seconds + refit_seconds
    passed = train_rows * epochs_run + (fitted_rows or all_rows) * refit_epochs
    return {
        "refit": True,
        "final_fit": final_fit,
        "refit_epochs": refit_epochs,
        "refit_rows": int(all_rows),
        "refit_seconds": round(refit_seconds, 3),
        "train_seconds": round(seconds, 3),
        "rows_per_second": round(passed / seconds, 1),
    }


def _numeric_bins(config: TrainConfig, n_rows: int, n_numeric: int) -> tuple[int, str | None]:
    """The bins per numeric column this table affords (``numeric.bins_within_budget``),
    and the warning when that is fewer than ``config.numeric_bins``. Only PLE's input is
    dense; ``"bins"`` enters as one slot index per column and row, at any bin count."""
    from embedding_core.model.numeric import MAX_INPUT_BYTES, bins_within_budget

    if config.numeric_encoding != "ple" or not n_numeric:
        return config.numeric_bins, None
    bins = bins_within_budget(config.numeric_bins, n_rows, n_numeric)
    if bins == config.numeric_bins:
        return bins, None
    return bins, (
        f"Numeric columns get {bins} bins each instead of {config.numeric_bins}, to keep "
        f"their piecewise-linear input ({n_rows:,} rows x {n_numeric} columns) under "
        f"{MAX_INPUT_BYTES / 2**30:g} GiB of memory; choose fewer numeric columns for more "
        "bins."
    )


def _averaging_callbacks(config: TrainConfig, batches: int) -> list[Any]:
    """The weight averager (``config.ema_epochs`` > 0) as a callback list, else none."""
    if not config.ema_epochs:
        return []
    from embedding_core.model.averaging import weight_averager

    return [weight_averager(config.ema_epochs, batches)]


def _model_metrics(config: TrainConfig, plan: InitPlan | None, model: Any) -> dict[str, Any]:
    """``model``, the precision its MLP ran in and, when the tables started from an
    earlier run, where from."""
    precision = str(model.get_layer("deep_0").compute_dtype)
    metrics: dict[str, Any] = {"model": config.model, "deep_precision": precision}
    if plan:
        metrics.update(
            init_embeddings=plan.source,
            init_fields=list(plan.tables),
            init_matched=dict(plan.matched),
            frozen_fields=list(plan.frozen),
        )
    return metrics


def _refit(
    model: Any,
    initial_weights: list[np.ndarray] | None,
    fit_data: dict[str, Any],
    batches: int,
    epochs: int,
    send: Callable[[Progress], bool],
    *,
    batch_size: int,
    averaging: Sequence[Any] = (),
) -> bool:
    """Train ``model`` again from its initial weights on all rows for the best epoch
    count; ``False`` (with the early-stopped weights put back) if cancelled. With
    ``initial_weights=None``, continue the early-stopped model (weights and optimiser
    state as they are) instead: ``final_fit="holdout"``.

    ``fit_data`` is what ``model.fit`` gets for the data (``x``/``y``/``batch_size``
    arrays, or ``x`` a ``tf.data`` pipeline of ``batches`` batches per epoch).

    Same initial weights, vocabulary, batch size and a reset optimiser: the final fit
    repeats the early-stopped recipe with the validation rows added (``averaging``:
    the weight averager of the first fit, which averages this fit afresh and leaves
    its average in the model; see ``model.averaging``). Reusing the
    compiled model skips building and tracing a second one (1-2 s on small data).
    """
    import keras

    early_stopped = model.get_weights()
    if initial_weights is not None:
        model.set_weights(initial_weights)
        model.optimizer.reset()
    throttle = _BatchThrottle(batches)

    class RefitReporter(keras.callbacks.Callback):
        cancelled = False
        epoch = 0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch
            throttle.start_epoch()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            done = batch + 1  # Keras passes the 0-based index of the last batch run
            if not throttle.due(done):
                return
            floats = {k: float(v) for k, v in (logs or {}).items()}
            epoch = self.epoch + 1
            rows = done * batch_size
            mode = "refit" if initial_weights is not None else "holdout"
            if not send(Progress("refit", epoch, epochs, done, batches, floats, rows, mode)):
                self.cancelled = True
                self.model.stop_training = True

    reporter = RefitReporter()
    model.fit(**fit_data, epochs=epochs, verbose=0, callbacks=[*averaging, reporter])
    if reporter.cancelled:
        model.set_weights(early_stopped)
    return not reporter.cancelled


class _BatchThrottle:
    """Which batch ends report progress: about ``MAX_BATCH_EVENTS`` per epoch, and the last.

    With ``steps_per_execution`` > 1 Keras calls batch hooks only every few batches, so
    the test is "at or past the next due batch", not a fixed stride.
    """

    def __init__(self, batches: int) -> None:
        self.batches = batches
        self.every = max(1, math.ceil(batches / MAX_BATCH_EVENTS))
        self.next = self.every

    def start_epoch(self) -> None:
        self.next = self.every

    def due(self, done: int) -> bool:
        """``done`` batches have run in this epoch: report now?"""
        if done < self.next and done != self.batches:
            return False
        self.next = done + self.every
        return True


def _loss(task: str) -> str:
    return {
        "binary": "binary_crossentropy",
        "regression": "mean_squared_error",
        "multiclass": "sparse_categorical_crossentropy",
    }[task]


def _baseline_target(task: str, y_model: np.ndarray, y_user: np.ndarray) -> np.ndarray:
    return y_model if task == "multiclass" else y_user


def _user_prediction(features: Any, raw: np.ndarray) -> np.ndarray:
    """Model output -> user scale: (n,) for binary/regression, (n, C) for multiclass."""
    raw = np.asarray(raw, dtype=np.float64)
    if features.task == "multiclass":
        return raw
    return features.decode_target(raw[:, 0])


def _make_reporter(
    on_progress: ProgressCallback | None,
    epochs: int,
    batches: int,
    validation_logs: Callable[[], dict[str, float]],
    t_call: float,
    *,
    batch_size: int = 0,
) -> Any:
    """Keras callback: validation figures, history, timing, progress and cancellation.

    The class is defined here so that importing this module does not import Keras.
    """
    import keras

    class Reporter(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.throttle = _BatchThrottle(batches)
            self.history: list[dict[str, float]] = []
            self.epoch_seconds: list[float] = []
            self.first_epoch_at = float("nan")
            self.stopped_by_user = False
            self._stop_in_epoch = False
            self._t_epoch = 0.0

        def send(self, progress: Progress) -> bool:
            return on_progress is None or on_progress(progress) is not False

        def _user_stop(self) -> None:
            self.stopped_by_user = True
            self.model.stop_training = True

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._t_epoch = time.perf_counter()
            self.throttle.start_epoch()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            done = batch + 1  # Keras passes the 0-based index of the last batch run
            if not self.throttle.due(done):
                return
            floats = {k: float(v) for k, v in (logs or {}).items()}
            epoch = len(self.history) + 1
            progress = Progress("batch", epoch, epochs, done, batches, floats, done * batch_size)
            if not self.send(progress):
                self._stop_in_epoch = True
                self._user_stop()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs if logs is not None else {}
            if self._stop_in_epoch:
                # An interrupted epoch is not a candidate for the best weights.
                logs["val_loss"] = float("inf")
                return
            logs.update(validation_logs())
            now = time.perf_counter()
            self.epoch_seconds.append(now - self._t_epoch)
            if not self.history:
                self.first_epoch_at = now
            entry = {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}}
            entry["seconds"] = round(now - self._t_epoch, 3)
            self.history.append(entry)
            if not self.send(Progress("epoch", epoch + 1, epochs, 0, batches, entry)):
                self._user_stop()

    return Reporter()
