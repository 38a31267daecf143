"""Do the embeddings help? Downstream-model lift, measured without leakage.

``run_lift`` feeds four scikit-learn models (logistic/ridge regression, histogram
gradient boosting, k-nearest neighbours, random forest) with four encodings of the same
categorical columns, next to the same numeric columns:

``onehot``
    ``OneHotEncoder`` with ``min_frequency`` (rarer categories share an "infrequent"
    column, unseen ones map there too). Sparse and uncapped for logistic regression;
    gradient boosting (which needs dense input), kNN and the random forest (much slower
    on sparse input) get a dense version with at most ``ONEHOT_DENSE_WIDTH`` columns
    in all (``ONEHOT_DENSE_WIDTH // n_fields`` per field, between 4 and 32).
``ordinal``
    ``OrdinalEncoder`` (categories sorted as text, unseen -> -1), then standardised.
``target``
    scikit-learn's ``TargetEncoder``. Its ``fit_transform`` cross-fits on the training
    rows (5 folds), so a row's own target never leaks into its encoding.
``embedding``
    A DeepFM trained **only on the training rows** of the split (holdout or fold); each
    categorical column is replaced by its ``k`` vector components (``TrainedRun.embed``),
    then standardised.

Numeric columns are imputed (median, plus a missing flag) and standardised on the
training rows, identically for every encoding. DeepFM's own predictions are reported as
a reference (``LiftResult.reference``), outside the lift list.

Two modes:

* **holdout** (``folds=None``, the fast mode): one seeded split, ``holdout_fraction`` of
  the rows held out (stratified for classification). ``mean`` is the metric on the
  holdout rows; ``std`` is the standard deviation of that metric over
  ``BOOTSTRAP_RESAMPLES`` bootstrap resamples of the holdout rows (predictions fixed,
  same resamples for every cell). The lift's ``std`` is the bootstrap std of the paired
  difference. It measures the noise of the test set, not of the training.
* **cv** (``folds=k``): k-fold cross-validation (stratified for classification), DeepFM
  retrained in every fold. ``mean``/``std`` are across folds (``ddof=1``); the lift's
  ``std`` is the std of the per-fold differences.

To keep a run within a couple of minutes on a small machine, the slow models are fitted
on a seeded random subsample of the training rows (``MAX_TRAIN_ROWS``; the same subsample
for every encoding of a model). Every subsample is listed in ``LiftResult.notes`` and in
the JSON (``subsample``). Scoring always uses every held-out row.

Verdicts: one sentence per model. A lift within two standard deviations of zero is
reported as "about level ... within the noise"; otherwise as a gain or a loss.

Stopping: the progress callback may return ``False``. The run stops at the next step (a
DeepFM training stops within a batch). If at least one (model, encoding) result is
complete, a partial ``LiftResult`` with ``complete=False`` is returned; otherwise
``TrainingCancelled`` is raised.

Examples
--------
>>> result = run_lift(frame, roles)                       # doctest: +SKIP
>>> result.to_frame()                                     # doctest: +SKIP
>>> json.dumps(result.to_json_dict())                     # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from embedding_core.data.roles import Roles
from embedding_core.data.split import train_valid_split
from embedding_core.errors import DataError, TrainingCancelled
from embedding_core.model.config import TrainConfig

__all__ = [
    "MODELS",
    "ENCODINGS",
    "MODEL_LABELS",
    "ENCODING_LABELS",
    "MAX_TRAIN_ROWS",
    "BOOTSTRAP_RESAMPLES",
    "LiftProgress",
    "LiftResult",
    "run_lift",
    "lift_splits",
    "score",
]

MODELS: tuple[str, ...] = ("logistic", "hgb", "knn", "rf")
ENCODINGS: tuple[str, ...] = ("onehot", "ordinal", "target", "embedding")
BASELINE_ENCODINGS: tuple[str, ...] = ("onehot", "ordinal", "target")

MODEL_LABELS: dict[str, str] = {
    "logistic": "logistic regression",
    "hgb": "gradient boosting",
    "knn": "k-nearest neighbours",
    "rf": "random forest",
    "deepfm": "DeepFM (reference)",
}
ENCODING_LABELS: dict[str, str] = {
    "onehot": "one-hot encoding",
    "ordinal": "ordinal encoding",
    "target": "target encoding",
    "embedding": "DeepFM embeddings",
}

#: Training rows a model sees at most (seeded subsample; None = all rows).
MAX_TRAIN_ROWS: dict[str, int | None] = {
    "logistic": 50_000,
    "hgb": 50_000,
    "knn": 10_000,
    "rf": 15_000,
}
#: Bootstrap resamples of the holdout rows for the error bars in holdout mode.
BOOTSTRAP_RESAMPLES = 200
#: One-hot: categories seen fewer times than this share the "infrequent" column.
ONEHOT_MIN_FREQUENCY = 5
#: Dense one-hot (gradient boosting, kNN, random forest): about this many columns in all.
ONEHOT_DENSE_WIDTH = 256
#: OpenMP threads for scikit-learn (HistGradientBoosting). On a busy 2-core machine two
#: spinning OpenMP threads made a 50k-row fit 12x slower (49.8 s vs 4.0 s with one).
SKLEARN_THREADS = 1
KNN_NEIGHBOURS = 30
#: Models fed a dense, capped one-hot matrix: gradient boosting needs dense input; the
#: random forest fitted 4x slower, and kNN predicted ~10x slower, on the sparse one.
_DENSE_MODELS = ("hgb", "knn", "rf")
RF_TREES = 60

_MISSING = "__missing__"
_FORMAT = "embedding_core.lift/1"

Stage = Literal["start", "deepfm", "fit", "done"]


@dataclass(frozen=True)
class LiftProgress:
    """One step of a lift run, handed to ``on_progress``.

    Attributes
    ----------
    stage : {"start", "deepfm", "fit", "done"}
        ``deepfm``: DeepFM training for the split (``epoch``/``epochs`` filled);
        ``fit``: one (model, encoding) finished; ``done``: every step finished.
    step, steps : int
        Completed steps and total steps (one DeepFM training per split + one step per
        model and encoding per split).
    fold, folds : int
        1-based split number and number of splits (1 in holdout mode).
    model, encoding : str or None
        The cell just finished (``fit``).
    message : str
        A short, human-readable description of the step.
    epoch, epochs : int or None
        DeepFM epoch progress during ``deepfm``.
    metric, score, fit_seconds : str, float or None
        For ``fit``: the cell's primary metric (``"auc"``, ``"rmse"``, ...), its value on
        this split's held-out rows (no error bar yet) and the cell's fit time, so a caller
        can show results as they come. Filled only when there is a callback to read them.
    """

    stage: Stage
    step: int
    steps: int
    fold: int
    folds: int
    message: str
    model: str | None = None
    encoding: str | None = None
    epoch: int | None = None
    epochs: int | None = None
    metric: str | None = None
    score: float | None = None
    fit_seconds: float | None = None

    @property
    def metric_label(self) -> str | None:
        """Human name of ``metric`` ("AUC", "RMSE", ...), or None."""
        return None if self.metric is None else _METRIC_LABELS.get(self.metric, self.metric)

    @property
    def fraction(self) -> float:
        """Share of the work done, in [0, 1] (DeepFM epochs count as part of a step)."""
        if self.steps <= 0:
            return 0.0
        partial = 0.0
        if self.stage == "deepfm" and self.epoch and self.epochs:
            partial = min(1.0, self.epoch / self.epochs)
        return min(1.0, (self.step + partial) / self.steps)


# --------------------------------------------------------------------------------------
# metrics (weighted by bootstrap counts; weight 1 everywhere gives the plain metric)
# --------------------------------------------------------------------------------------

_HIGHER_IS_BETTER = {"auc": True, "auc_ovr": True, "logloss": False, "rmse": False, "r2": True}
_METRIC_LABELS = {
    "auc": "AUC",
    "auc_ovr": "macro AUC",
    "logloss": "log loss",
    "rmse": "RMSE",
    "r2": "R²",
}
_TASK_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("auc", "logloss"),
    "regression": ("rmse", "r2"),
    "multiclass": ("auc_ovr", "logloss"),
}


def _weighted_auc(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """ROC AUC per row of ``w`` (shape (B, n)); ties count one half."""
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    pos_mask = y[order].astype(bool)
    ws = w[:, order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    pos = np.add.reduceat(np.where(pos_mask, ws, 0.0), starts, axis=1)
    neg = np.add.reduceat(np.where(pos_mask, 0.0, ws), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _clip_proba(p: np.ndarray) -> np.ndarray:
    eps = np.finfo(np.float64).eps
    return np.clip(p.astype(np.float64), eps, 1 - eps)


def score(
    metric: str, y: np.ndarray, pred: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """A metric, once per row of ``weights``.

    Parameters
    ----------
    metric : {"auc", "auc_ovr", "logloss", "rmse", "r2"}
    y : ndarray of shape (n,)
        Binary 0/1, class codes 0..C-1 (multiclass) or numbers (regression).
    pred : ndarray of shape (n,) or (n, C)
        P(positive), class probabilities, or predicted values.
    weights : ndarray of shape (B, n), optional
        Row weights (bootstrap counts). ``None`` means one row of ones.

    Returns
    -------
    ndarray of shape (B,)
        With unit weights these equal scikit-learn's ``roc_auc_score``, ``log_loss``,
        ``root_mean_squared_error`` and ``r2_score``.
    """
    y = np.asarray(y)
    pred = np.asarray(pred, dtype=np.float64)
    w = np.ones((1, y.shape[0])) if weights is None else np.asarray(weights, dtype=np.float64)
    wsum = w.sum(axis=1)
    if metric == "auc":
        return _weighted_auc(y, pred, w)
    if metric == "auc_ovr":
        per_class = [_weighted_auc(y == c, pred[:, c], w) for c in range(pred.shape[1])]
        return np.nanmean(np.vstack(per_class), axis=0)
    if metric == "logloss":
        if pred.ndim == 1:
            p = _clip_proba(pred)
            loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        else:
            p = pred / pred.sum(axis=1, keepdims=True)
            loss = -np.log(_clip_proba(p[np.arange(len(y)), y.astype(int)]))
        return (w @ loss) / wsum
    if metric in ("rmse", "r2"):
        yf = y.astype(np.float64)
        sse = w @ (yf - pred) ** 2
        if metric == "rmse":
            return np.sqrt(sse / wsum)
        mean = (w @ yf) / wsum
        sst = w @ (yf**2) - wsum * mean**2
        with np.errstate(invalid="ignore", divide="ignore"):
            return 1.0 - sse / sst
    raise ValueError(f"Unknown metric {metric!r}.")


def _bootstrap_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n) matrix of bootstrap counts (each row sums to n)."""
    rng = np.random.default_rng([seed, 20240611])
    draws = rng.integers(0, n, size=(resamples, n))
    flat = (draws + np.arange(resamples)[:, None] * n).ravel()
    return np.bincount(flat, minlength=resamples * n).reshape(resamples, n).astype(np.float64)


# --------------------------------------------------------------------------------------
# splits, targets, encodings, models
# --------------------------------------------------------------------------------------


def _sort_key(label: str) -> tuple[int, float | str]:
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


def _encode_target(series: pd.Series, task: str) -> tuple[np.ndarray, list[str]]:
    """Targets as model-ready numbers: 0/1 (binary, positive = last class),
    class codes (multiclass, classes sorted), floats (regression)."""
    if task == "regression":
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64), []
    labels = series.astype(object).map(str)
    classes = sorted(labels.unique().tolist(), key=_sort_key)
    codes = labels.map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.int64)
    return codes, classes


def lift_splits(
    y: np.ndarray,
    task: str,
    *,
    folds: int | None = None,
    holdout_fraction: float = 0.2,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) row positions ``run_lift`` uses.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Encoded target (class codes or numbers).
    task : {"binary", "regression", "multiclass"}
    folds : int or None
        ``None``: one holdout split (``train_valid_split``); else k-fold.
    holdout_fraction : float, default=0.2
    seed : int, default=0

    Returns
    -------
    list of (train_idx, test_idx)
        Sorted int64 arrays; stratified by class for classification.
    """
    n = len(y)
    classification = task != "regression"
    if folds is None:
        return [
            train_valid_split(
                n,
                valid_fraction=holdout_fraction,
                seed=seed,
                stratify=y if classification else None,
            )
        ]
    from sklearn.model_selection import KFold, StratifiedKFold

    if classification:
        splitter: Any = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    return [
        (np.sort(tr).astype(np.int64), np.sort(te).astype(np.int64))
        for tr, te in splitter.split(np.zeros(n), y if classification else None)
    ]


def _categorical_block(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    block = frame[list(columns)].astype(object)
    return block.where(block.notna(), _MISSING).astype(str).to_numpy(dtype=object)


def _numeric_blocks(
    train: pd.DataFrame, test: pd.DataFrame, columns: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Median-imputed (+ missing flags), standardised numeric columns."""
    if not columns:
        return np.empty((len(train), 0)), np.empty((len(test), 0))
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    tr = train[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    te = test[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    return pipe.fit_transform(tr), pipe.transform(te)


def _onehot(max_categories: int | None) -> Any:
    from sklearn.preprocessing import OneHotEncoder

    return OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        min_frequency=ONEHOT_MIN_FREQUENCY,
        max_categories=max_categories,
        sparse_output=True,
        dtype=np.float32,
    )


def _dense_onehot_cap(n_fields: int) -> int:
    """Columns per field (the last one for rarer categories) in the dense one-hot."""
    return int(min(32, max(4, ONEHOT_DENSE_WIDTH // max(n_fields, 1))))


def _cv_for_target_encoder(task: str, seed: int) -> Any:
    from sklearn.model_selection import KFold, StratifiedKFold

    if task == "regression":
        return KFold(n_splits=5, shuffle=True, random_state=seed)
    return StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)


def _baseline_blocks(
    encoding: str,
    cat_train: np.ndarray,
    cat_test: np.ndarray,
    y_train: np.ndarray,
    task: str,
    seed: int,
    dense_cap: bool = False,
) -> tuple[Any, Any]:
    """Encoded categorical blocks for a non-embedding encoding (fit on train rows)."""
    from sklearn.preprocessing import OrdinalEncoder, StandardScaler, TargetEncoder

    if encoding == "onehot":
        enc = _onehot(_dense_onehot_cap(cat_train.shape[1]) if dense_cap else None)
        tr, te = enc.fit_transform(cat_train), enc.transform(cat_test)
        if dense_cap:
            return np.asarray(tr.toarray()), np.asarray(te.toarray())
        return sp.csr_matrix(tr), sp.csr_matrix(te)
    if encoding == "ordinal":
        enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64)
        tr, te = enc.fit_transform(cat_train), enc.transform(cat_test)
    elif encoding == "target":
        target_type = {"binary": "binary", "regression": "continuous"}.get(task, "multiclass")
        enc = TargetEncoder(target_type=target_type, cv=_cv_for_target_encoder(task, seed))
        # fit_transform cross-fits: each training row is encoded by a model of the others.
        tr, te = enc.fit_transform(cat_train, y_train), enc.transform(cat_test)
    else:
        raise ValueError(f"Unknown encoding {encoding!r}.")
    scaler = StandardScaler()
    return scaler.fit_transform(tr), scaler.transform(te)


def _embedding_columns(embedded: pd.DataFrame, categorical: Sequence[str]) -> list[str]:
    cols: list[str] = []
    for col in categorical:
        prefix = f"{col}_emb_"
        found = [c for c in embedded.columns if str(c).startswith(prefix)]
        found.sort(key=lambda c: int(str(c)[len(prefix) :]))
        cols.extend(found)
    return cols


def _embedding_blocks(
    run: Any, train: pd.DataFrame, test: pd.DataFrame, roles: Roles
) -> tuple[np.ndarray, np.ndarray]:
    """Categorical columns replaced by the run's vectors (standardised on train rows)."""
    from sklearn.preprocessing import StandardScaler

    features = list(roles.features)
    emb_tr = run.embed(train[features])
    emb_te = run.embed(test[features])
    cols = _embedding_columns(emb_tr, roles.categorical)
    if not cols:
        raise DataError("The trained model returned no embedding columns; retrain and retry.")
    scaler = StandardScaler()
    tr = scaler.fit_transform(emb_tr[cols].to_numpy(dtype=np.float64))
    return tr, scaler.transform(emb_te[cols].to_numpy(dtype=np.float64))


def _sklearn_threads() -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=SKLEARN_THREADS, user_api="openmp")


def _make_model(name: str, task: str, seed: int) -> Any:
    """A fresh, seeded scikit-learn model (classifier or regressor)."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    regression = task == "regression"
    if name == "logistic":
        return Ridge(alpha=1.0) if regression else LogisticRegression(C=1.0, max_iter=1000)
    if name == "hgb":
        cls = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
        return cls(random_state=seed)
    if name == "knn":
        cls = KNeighborsRegressor if regression else KNeighborsClassifier
        return cls(n_neighbors=KNN_NEIGHBOURS)
    if name == "rf":
        cls = RandomForestRegressor if regression else RandomForestClassifier
        return cls(
            n_estimators=RF_TREES,
            min_samples_leaf=5,
            max_features="sqrt" if not regression else 0.5,
            n_jobs=2,
            random_state=seed,
        )
    raise ValueError(f"Unknown model {name!r}.")


def _predict(model: Any, X: Any, task: str, n_classes: int) -> np.ndarray:
    if task == "regression":
        return np.asarray(model.predict(X), dtype=np.float64)
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    full = np.zeros((proba.shape[0], n_classes))
    full[:, np.asarray(model.classes_, dtype=np.int64)] = proba
    return full[:, 1] if task == "binary" else full


def _hstack(cat: Any, num: np.ndarray) -> Any:
    if sp.issparse(cat):
        return sp.hstack([cat, sp.csr_matrix(num)], format="csr")
    return np.hstack([np.asarray(cat, dtype=np.float64), num])


# --------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------


def _json_float(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


@dataclass
class LiftResult:
    """Everything a lift run measured.

    ``to_json_dict()`` is the stable contract read by other tools; ``to_frame()`` is the
    table the app shows. ``predictions`` (per split, per cell) is kept for inspection and
    tests; it is not part of the JSON.
    """

    task: str
    mode: Literal["holdout", "cv"]
    metric: str
    secondary_metrics: tuple[str, ...]
    results: list[dict[str, Any]]
    lift: list[dict[str, Any]]
    reference: dict[str, Any] | None
    verdicts: list[str]
    notes: list[str]
    complete: bool
    folds: int | None
    holdout_fraction: float | None
    n_rows: int
    n_train: int
    n_test: int
    seed: int
    subsample: dict[str, int]
    bootstrap_resamples: int | None
    deepfm_train_seconds: float | None
    config: dict[str, Any]
    roles: dict[str, Any]
    created_at: str
    total_seconds: float
    predictions: list[dict[tuple[str, str], np.ndarray]] = field(default_factory=list, repr=False)

    @property
    def higher_is_better(self) -> bool:
        """Direction of the primary metric."""
        return _HIGHER_IS_BETTER[self.metric]

    @property
    def metric_label(self) -> str:
        """Human name of the primary metric ("AUC", "RMSE", ...)."""
        return _METRIC_LABELS[self.metric]

    @property
    def mode_description(self) -> str:
        """One sentence saying which mode produced the numbers."""
        if self.mode == "holdout":
            share = round(100 * (self.holdout_fraction or 0))
            return (
                f"Fast holdout mode: trained on {self.n_train:,} rows, scored on "
                f"{self.n_test:,} held-out rows ({share}%); error bars are the std of "
                f"{self.bootstrap_resamples} bootstrap resamples of the holdout rows."
            )
        return (
            f"Thorough {self.folds}-fold cross-validation: DeepFM retrained in every fold; "
            "error bars are the std across folds."
        )

    def to_json_dict(self) -> dict[str, Any]:
        """The stable JSON contract (plain types; NaN becomes null).

        Keys: ``task``, ``mode`` ("holdout"|"cv"), ``metric``, ``results`` (list of
        ``{"model", "encoding", "mean", "std", "fit_seconds", ...}``), ``lift`` (list of
        ``{"model", "best_baseline", "lift", "std", ...}``), plus extras: ``format``,
        ``higher_is_better``, ``secondary_metrics``, ``reference`` (DeepFM's own
        predictions), ``verdicts``, ``notes``, ``complete``, ``folds``,
        ``holdout_fraction``, ``n_rows``, ``n_train``, ``n_test``, ``seed``,
        ``subsample``, ``bootstrap_resamples``, ``deepfm_train_seconds``, ``config``,
        ``roles``, ``created_at``, ``total_seconds``.
        """

        def clean(obj: Any) -> Any:
            if isinstance(obj, dict):
                return {str(k): clean(v) for k, v in obj.items()}
            if isinstance(obj, list | tuple):
                return [clean(v) for v in obj]
            if isinstance(obj, bool | str) or obj is None:
                return obj
            if isinstance(obj, int | np.integer):
                return int(obj)
            if isinstance(obj, float | np.floating):
                return _json_float(obj)
            return obj

        return clean(
            {
                "format": _FORMAT,
                "task": self.task,
                "mode": self.mode,
                "metric": self.metric,
                "higher_is_better": self.higher_is_better,
                "secondary_metrics": list(self.secondary_metrics),
                "results": self.results,
                "lift": self.lift,
                "reference": self.reference,
                "verdicts": self.verdicts,
                "notes": self.notes,
                "complete": self.complete,
                "folds": self.folds,
                "holdout_fraction": self.holdout_fraction,
                "n_rows": self.n_rows,
                "n_train": self.n_train,
                "n_test": self.n_test,
                "seed": self.seed,
                "subsample": self.subsample,
                "bootstrap_resamples": self.bootstrap_resamples,
                "deepfm_train_seconds": self.deepfm_train_seconds,
                "config": self.config,
                "roles": self.roles,
                "created_at": self.created_at,
                "total_seconds": self.total_seconds,
            }
        )

    @classmethod
    def from_json_dict(cls, d: Mapping[str, Any]) -> LiftResult:
        """Rebuild a result from ``to_json_dict`` output (predictions are not kept)."""
        return cls(
            task=d["task"],
            mode=d["mode"],
            metric=d["metric"],
            secondary_metrics=tuple(d.get("secondary_metrics", ())),
            results=[dict(r) for r in d["results"]],
            lift=[dict(r) for r in d["lift"]],
            reference=d.get("reference"),
            verdicts=list(d.get("verdicts", [])),
            notes=list(d.get("notes", [])),
            complete=bool(d.get("complete", True)),
            folds=d.get("folds"),
            holdout_fraction=d.get("holdout_fraction"),
            n_rows=int(d.get("n_rows", 0)),
            n_train=int(d.get("n_train", 0)),
            n_test=int(d.get("n_test", 0)),
            seed=int(d.get("seed", 0)),
            subsample=dict(d.get("subsample", {})),
            bootstrap_resamples=d.get("bootstrap_resamples"),
            deepfm_train_seconds=d.get("deepfm_train_seconds"),
            config=dict(d.get("config", {})),
            roles=dict(d.get("roles", {})),
            created_at=str(d.get("created_at", "")),
            total_seconds=float(d.get("total_seconds") or 0.0),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per (model, encoding), DeepFM's reference last.

        Columns: model, encoding, model_label, encoding_label, mean, std, fit_seconds,
        n_train, n_folds, is_reference, and ``<metric>_mean``/``<metric>_std`` for the
        secondary metrics.
        """
        rows = list(self.results) + ([self.reference] if self.reference else [])
        out = []
        for r in rows:
            row = {
                "model": r["model"],
                "encoding": r["encoding"],
                "model_label": MODEL_LABELS.get(r["model"], r["model"]),
                "encoding_label": ENCODING_LABELS.get(r["encoding"], r["encoding"]),
                "mean": r["mean"],
                "std": r["std"],
                "fit_seconds": r["fit_seconds"],
                "n_train": r.get("n_train"),
                "n_folds": r.get("n_folds"),
                "is_reference": r["model"] == "deepfm",
            }
            for m in self.secondary_metrics:
                stats = r.get("metrics", {}).get(m, {})
                row[f"{m}_mean"] = stats.get("mean")
                row[f"{m}_std"] = stats.get("std")
            out.append(row)
        frame = pd.DataFrame(out)
        for col in ["mean", "std", "fit_seconds"] + [
            c for c in frame.columns if c.endswith(("_mean", "_std"))
        ]:
            if col in frame:
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        return frame

    def lift_frame(self) -> pd.DataFrame:
        """One row per model: best baseline, lift (positive = embeddings better), std."""
        cols = ["model", "best_baseline", "lift", "std", "verdict"]
        return pd.DataFrame([{c: r.get(c) for c in cols} for r in self.lift], columns=cols)

    def to_csv(self, path: str | Path | None = None) -> str:
        """The ``to_frame`` table as CSV text (also written to ``path`` if given)."""
        text = self.to_frame().to_csv(index=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


# --------------------------------------------------------------------------------------
# verdicts
# --------------------------------------------------------------------------------------


def _decimals(std: float) -> int:
    """Enough decimals to show the first significant digit of the error (3 at least)."""
    if not np.isfinite(std) or std <= 0 or std >= 1e-3:
        return 3
    return min(6, int(-np.floor(np.log10(std))))


def _fmt(x: float, decimals: int = 3) -> str:
    return f"{x:.{decimals}f}" if abs(x) < 100 else f"{x:,.1f}"


def _verdict(model: str, task: str, metric: str, baseline: str, lift: float, std: float) -> str:
    """One plain-language sentence about one model's lift."""
    name = MODEL_LABELS[model]
    if model == "logistic" and task == "regression":
        name = "ridge regression"
    base = ENCODING_LABELS[baseline]
    label = _METRIC_LABELS[metric]
    d = _decimals(std)
    noise = f" (± {_fmt(std, d)})" if np.isfinite(std) else ""
    if not np.isfinite(lift):
        return f"For {name}, the lift could not be computed."
    if np.isfinite(std) and abs(lift) <= 2 * std:
        sign = "+" if lift >= 0 else "-"
        return (
            f"For {name}, embeddings and {base} are about level "
            f"({sign}{_fmt(abs(lift), d)} {label} ± {_fmt(std, d)}, within the noise)."
        )
    if _HIGHER_IS_BETTER[metric]:
        if lift > 0:
            return f"For {name}, embeddings add +{_fmt(lift, d)} {label} over {base}{noise}."
        return f"For {name}, embeddings lose {_fmt(-lift, d)} {label} against {base}{noise}."
    if lift > 0:
        return f"For {name}, embeddings cut {label} by {_fmt(lift, d)} compared with {base}{noise}."
    return f"For {name}, embeddings raise {label} by {_fmt(-lift, d)} compared with {base}{noise}."


# --------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------


class _Stop(Exception):
    """Internal: the caller asked to stop."""


def _validate(frame: pd.DataFrame, roles: Roles) -> tuple[pd.DataFrame, Roles, list[str]]:
    from embedding_core.data.validation import validate_roles

    validated = validate_roles(frame, roles)
    return validated.frame.reset_index(drop=True), validated.roles, list(validated.warnings)


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
        Returning ``False`` stops the run (see the module docstring).
    max_train_rows : mapping, optional
        Per-model cap on training rows (defaults: ``MAX_TRAIN_ROWS``; ``None`` = all).
    bootstrap_resamples : int, default=200
        Resamples of the holdout rows for the error bars in holdout mode.

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
    models = tuple(dict.fromkeys(models))
    bad_models = [m for m in models if m not in MODELS]
    bad_enc = [e for e in dict.fromkeys(encodings) if e not in ENCODINGS]
    encodings = tuple(e for e in ENCODINGS if e in set(encodings))
    if bad_models or not models:
        raise DataError(f"Unknown or missing models {bad_models}; choose from {', '.join(MODELS)}.")
    if bad_enc or not encodings:
        raise DataError(f"Unknown encodings {bad_enc}; choose from {', '.join(ENCODINGS)}.")
    if folds is not None and (int(folds) != folds or folds < 2):
        raise DataError(f"The number of folds must be a whole number of at least 2, not {folds}.")
    if folds is None and not 0.05 <= holdout_fraction <= 0.5:
        raise DataError(
            f"The holdout fraction must be between 0.05 and 0.5, not {holdout_fraction}."
        )

    data, roles, warn = _validate(frame, roles)
    task = str(roles.task)
    y, classes = _encode_target(data[roles.target], task)
    n_classes = max(len(classes), 1)
    metrics = _TASK_METRICS[task]
    primary = metrics[0]
    caps = {**MAX_TRAIN_ROWS, **(dict(max_train_rows) if max_train_rows else {})}
    cfg = (config or TrainConfig()).replace(seed=seed)

    splits = lift_splits(y, task, folds=folds, holdout_fraction=holdout_fraction, seed=seed)
    if folds is not None and any(len(te) < 5 for _, te in splits):
        raise DataError(f"Too few rows for {folds} folds; use fewer folds or more data.")
    use_embedding = "embedding" in encodings
    steps_per_split = int(use_embedding) + len(models) * len(encodings)
    total_steps = steps_per_split * len(splits)
    state = {"step": 0, "stopped": False}
    notes: list[str] = list(warn)
    subsample: dict[str, int] = {}

    def emit(stage: Stage, fold: int, message: str, **kw: Any) -> None:
        if on_progress is None or state["stopped"]:
            return
        keep_going = on_progress(
            LiftProgress(
                stage=stage,
                step=state["step"],
                steps=total_steps,
                fold=fold,
                folds=len(splits),
                message=message,
                **kw,
            )
        )
        if keep_going is False:
            state["stopped"] = True

    # per cell: list over splits of (test predictions or None), and fit seconds
    preds: list[dict[tuple[str, str], np.ndarray]] = []
    fit_secs: dict[tuple[str, str], list[float]] = {}
    n_fit: dict[tuple[str, str], int] = {}
    deepfm_secs: list[float] = []
    split_label = "holdout split" if folds is None else "fold"

    try:
        emit("start", 1, f"Preparing {len(splits)} {split_label}(s).")
        if state["stopped"]:
            raise _Stop
        for f_i, (tr_idx, te_idx) in enumerate(splits, start=1):
            where = "" if folds is None else f" (fold {f_i}/{len(splits)})"
            fold_preds: dict[tuple[str, str], np.ndarray] = {}
            preds.append(fold_preds)
            train, test = data.iloc[tr_idx], data.iloc[te_idx]
            y_tr = y[tr_idx]
            run = None
            if use_embedding:
                emit("deepfm", f_i, f"Training DeepFM on {len(tr_idx):,} rows{where}.")
                if state["stopped"]:
                    raise _Stop
                t0 = time.perf_counter()
                run = _train_deepfm(train, roles, cfg, emit, state, f_i, where)
                deepfm_secs.append(time.perf_counter() - t0)
                if state["stopped"]:
                    raise _Stop
                fold_preds[("deepfm", "embedding")] = _deepfm_predictions(
                    run, test, roles, task, classes
                )
                fit_secs.setdefault(("deepfm", "embedding"), []).append(deepfm_secs[-1])
                n_fit[("deepfm", "embedding")] = len(tr_idx)
                state["step"] += 1

            with _sklearn_threads():
                t0 = time.perf_counter()
                num_tr, num_te = _numeric_blocks(train, test, roles.numeric)
                num_secs = time.perf_counter() - t0
                cat_tr = _categorical_block(train, roles.categorical)
                cat_te = _categorical_block(test, roles.categorical)
                rng = np.random.default_rng([seed, f_i])
                rows_for = {}
                for m in models:
                    cap = caps.get(m)
                    if cap is not None and len(tr_idx) > cap:
                        rows_for[m] = np.sort(rng.choice(len(tr_idx), size=cap, replace=False))
                        subsample[m] = int(cap)
                    else:
                        rows_for[m] = None
                for enc in encodings:
                    blocks: dict[bool, tuple[Any, Any, float]] = {}
                    for m in models:
                        dense = m in _DENSE_MODELS and enc == "onehot"
                        if dense not in blocks:
                            t0 = time.perf_counter()
                            if enc == "embedding":
                                c_tr, c_te = _embedding_blocks(run, train, test, roles)
                            else:
                                c_tr, c_te = _baseline_blocks(
                                    enc, cat_tr, cat_te, y_tr, task, seed, dense_cap=dense
                                )
                            blocks[dense] = (
                                _hstack(c_tr, num_tr),
                                _hstack(c_te, num_te),
                                time.perf_counter() - t0 + num_secs,
                            )
                        X_tr, X_te, enc_secs = blocks[dense]
                        rows = rows_for[m]
                        X_fit, y_fit = (X_tr, y_tr) if rows is None else (X_tr[rows], y_tr[rows])
                        model = _make_model(m, task, seed)
                        t0 = time.perf_counter()
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            model.fit(X_fit, y_fit)
                        secs = time.perf_counter() - t0 + enc_secs
                        fold_preds[(m, enc)] = _predict(model, X_te, task, n_classes)
                        fit_secs.setdefault((m, enc), []).append(secs)
                        n_fit[(m, enc)] = len(y_fit)
                        state["step"] += 1
                        cell_score = None
                        if on_progress is not None:  # cheap: one metric on the held-out rows
                            cell_score = float(score(primary, y[te_idx], fold_preds[(m, enc)])[0])
                        emit(
                            "fit",
                            f_i,
                            f"{MODEL_LABELS[m]} on {ENCODING_LABELS[enc]}{where}: done.",
                            model=m,
                            encoding=enc,
                            metric=primary,
                            score=cell_score,
                            fit_seconds=secs,
                        )
                        if state["stopped"]:
                            raise _Stop
    except _Stop:
        pass
    except TrainingCancelled:
        state["stopped"] = True

    complete = not state["stopped"]
    done_cells = [k for k in fit_secs if k[0] != "deepfm"]
    if not done_cells:
        raise TrainingCancelled("The lift run was stopped before any result was ready.")

    for m in models:
        if m in subsample:
            notes.append(
                f"{MODEL_LABELS[m].capitalize()} was fitted on a random {subsample[m]:,} of "
                f"the training rows (per split) to keep the run fast; scores use every "
                f"held-out row."
            )
    dense_models = [MODEL_LABELS[m] for m in models if m in _DENSE_MODELS]
    if dense_models and "onehot" in encodings:
        names = ", ".join(dense_models[:-1]) + (" and " if len(dense_models) > 1 else "")
        names += dense_models[-1]
        notes.append(
            f"{names.capitalize()} {'get' if len(dense_models) > 1 else 'gets'} a dense "
            "one-hot encoding with at "
            f"most {_dense_onehot_cap(len(roles.categorical))} columns per field (rarer "
            "categories share "
            "one column) to stay fast."
        )
    if not complete:
        notes.append("Stopped by the user: only the finished steps are reported.")

    result = _summarise(
        preds=preds,
        splits=splits,
        y=y,
        task=task,
        metrics=metrics,
        fit_secs=fit_secs,
        n_fit=n_fit,
        models=models,
        encodings=encodings,
        mode="holdout" if folds is None else "cv",
        seed=seed,
        resamples=bootstrap_resamples,
    )
    results, lift, reference = result
    verdicts = [r["verdict"] for r in lift]
    tr0, te0 = splits[0]
    return LiftResult(
        task=task,
        mode="holdout" if folds is None else "cv",
        metric=primary,
        secondary_metrics=metrics[1:],
        results=results,
        lift=lift,
        reference=reference,
        verdicts=verdicts,
        notes=notes,
        complete=complete,
        folds=None if folds is None else int(folds),
        holdout_fraction=holdout_fraction if folds is None else None,
        n_rows=len(data),
        n_train=len(tr0),
        n_test=len(te0),
        seed=seed,
        subsample=subsample,
        bootstrap_resamples=bootstrap_resamples if folds is None else None,
        deepfm_train_seconds=float(np.mean(deepfm_secs)) if deepfm_secs else None,
        config=cfg.to_dict(),
        roles=roles.to_dict(),
        created_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        total_seconds=time.perf_counter() - started,
        predictions=preds,
    )


def _train_deepfm(
    train: pd.DataFrame,
    roles: Roles,
    cfg: TrainConfig,
    emit: Callable[..., None],
    state: dict[str, Any],
    fold: int,
    where: str,
) -> Any:
    """Train DeepFM on the training rows only, forwarding progress and stop requests."""
    from embedding_core.model.train import train as train_deepfm

    def forward(p: Any) -> bool:
        # batches only check for a stop request; starts and epochs are reported
        kind = getattr(p, "kind", None)
        epochs = getattr(p, "epochs", None)
        if kind == "start":
            msg = f"Training DeepFM{where}: building the model (the first epoch is slower)."
            emit("deepfm", fold, msg, epoch=0, epochs=epochs)
        elif kind == "epoch":
            epoch = getattr(p, "epoch", None)
            msg = f"Training DeepFM{where}: epoch {epoch} done (at most {epochs})."
            emit("deepfm", fold, msg, epoch=epoch, epochs=epochs)
        return not state["stopped"]

    return train_deepfm(train, roles, cfg, on_progress=forward)


def _same_label(a: Any, b: Any) -> bool:
    """Labels equal as text, or as numbers ("1" == 1.0)."""
    if str(a) == str(b):
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def _deepfm_predictions(
    run: Any, test: pd.DataFrame, roles: Roles, task: str, classes: list[str]
) -> np.ndarray:
    """DeepFM's predictions on the test rows, aligned with our target coding."""
    pred = np.asarray(run.predict(test[list(roles.features)]), dtype=np.float64)
    feats = getattr(run, "features", None)
    if task == "binary":
        positive = getattr(feats, "positive_label_", None)
        if positive is not None and not _same_label(positive, classes[-1]):
            pred = 1.0 - pred
        return pred.reshape(-1)
    if task == "multiclass":
        run_classes = [str(c) for c in getattr(feats, "classes_", classes)]
        full = np.zeros((pred.shape[0], len(classes)))
        for j, c in enumerate(run_classes):
            match = [i for i, k in enumerate(classes) if _same_label(c, k)]
            if match:
                full[:, match[0]] = pred[:, j]
        return full
    return pred.reshape(-1)


def _summarise(
    *,
    preds: list[dict[tuple[str, str], np.ndarray]],
    splits: list[tuple[np.ndarray, np.ndarray]],
    y: np.ndarray,
    task: str,
    metrics: tuple[str, ...],
    fit_secs: dict[tuple[str, str], list[float]],
    n_fit: dict[tuple[str, str], int],
    models: Sequence[str],
    encodings: Sequence[str],
    mode: str,
    seed: int,
    resamples: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]:
    primary = metrics[0]
    higher = _HIGHER_IS_BETTER[primary]
    # scores[cell][metric] -> array: bootstrap draws (holdout) or per-fold values (cv)
    point: dict[tuple[str, str], dict[str, float]] = {}
    spread: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    cells = [c for c in fit_secs]
    if mode == "holdout":
        te = splits[0][1]
        weights = _bootstrap_weights(len(te), resamples, seed)
        for cell in cells:
            p = preds[0][cell]
            point[cell] = {m: float(score(m, y[te], p)[0]) for m in metrics}
            spread[cell] = {m: score(m, y[te], p, weights) for m in metrics}
    else:
        for cell in cells:
            per_fold = {m: [] for m in metrics}
            for f, (_, te) in enumerate(splits[: len(preds)]):
                if cell in preds[f]:
                    for m in metrics:
                        per_fold[m].append(float(score(m, y[te], preds[f][cell])[0]))
            spread[cell] = {m: np.asarray(v) for m, v in per_fold.items()}
            point[cell] = {m: float(np.mean(v)) for m, v in per_fold.items()}

    def std(values: np.ndarray) -> float:
        v = values[np.isfinite(values)]
        if len(v) < 2:
            return float("nan")
        return float(np.std(v, ddof=1))

    def entry(cell: tuple[str, str]) -> dict[str, Any]:
        return {
            "model": cell[0],
            "encoding": cell[1],
            "mean": point[cell][primary],
            "std": std(spread[cell][primary]),
            "fit_seconds": float(np.mean(fit_secs[cell])),
            "n_train": int(n_fit[cell]),
            "n_folds": len(fit_secs[cell]),
            "metrics": {m: {"mean": point[cell][m], "std": std(spread[cell][m])} for m in metrics},
        }

    results = [entry((m, e)) for m in models for e in encodings if (m, e) in point]
    reference = entry(("deepfm", "embedding")) if ("deepfm", "embedding") in point else None

    lift: list[dict[str, Any]] = []
    sign = 1.0 if higher else -1.0
    for m in models:
        emb = (m, "embedding")
        bases = [(m, e) for e in BASELINE_ENCODINGS if e in encodings and (m, e) in point]
        if emb not in point or not bases:
            continue
        if mode == "cv":
            # compare on the folds both cells finished
            n_common = min(len(spread[emb][primary]), *(len(spread[b][primary]) for b in bases))
            if n_common == 0:
                continue

            def fold_mean(c: tuple[str, str], n: int = n_common) -> float:
                return float(np.mean(spread[c][primary][:n]))

            best = max(bases, key=lambda c: sign * fold_mean(c))
            diffs = sign * (spread[emb][primary][:n_common] - spread[best][primary][:n_common])
            value = float(np.mean(diffs))
        else:
            best = max(bases, key=lambda c: sign * point[c][primary])
            value = sign * (point[emb][primary] - point[best][primary])
            diffs = sign * (spread[emb][primary] - spread[best][primary])
        s = std(diffs)
        lift.append(
            {
                "model": m,
                "best_baseline": best[1],
                "lift": value,
                "std": s,
                "embedding": point[emb][primary],
                "baseline": point[best][primary],
                "verdict": _verdict(m, task, primary, best[1], value, s),
            }
        )
    return results, lift, reference
