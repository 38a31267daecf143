"""The encoders and models a lift run compares, built and fitted the same way for every cell.

Encodings of the categorical columns: ``onehot``, ``ordinal``, ``target`` (scikit-learn
encoders fitted on the training rows) and ``embedding`` (the vectors of a DeepFM
trained on the training rows, ``TrainedRun.embed``). Numeric columns are imputed
(median, plus a missing flag) and standardised identically for every encoding. Models:
logistic/ridge regression, histogram gradient boosting, k-nearest neighbours and a
random forest, all seeded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from embedding_core.data.roles import Roles
from embedding_core.errors import DataError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from embedding_core.model.run import TrainedRun

__all__ = [
    "MODELS",
    "ENCODINGS",
    "BASELINE_ENCODINGS",
    "MODEL_LABELS",
    "network_name",
    "ENCODING_LABELS",
    "MAX_TRAIN_ROWS",
    "DENSE_MODELS",
    "categorical_block",
    "numeric_blocks",
    "dense_onehot_cap",
    "baseline_blocks",
    "embedding_blocks",
    "sklearn_threads",
    "make_model",
    "model_label",
    "predict",
    "hstack",
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


def network_name(config: Mapping[str, Any] | None) -> str:
    """Which network learned a lift's embeddings (``LiftResult.config``), for people:
    "DeepFM", or "entity network" for ``model="entity"``."""
    return "entity network" if (config or {}).get("model") == "entity" else "DeepFM"


def model_label(model: str, task: str | None = None) -> str:
    """The one name of a model for people, in every selector, chart, table and verdict.

    The linear model is a ridge regression when the task is regression.
    """
    if model == "logistic" and task == "regression":
        return "ridge regression"
    return MODEL_LABELS.get(model, model)


#: Training rows a model sees at most (seeded subsample; None = all rows).
MAX_TRAIN_ROWS: dict[str, int | None] = {
    "logistic": 50_000,
    "hgb": 50_000,
    "knn": 10_000,
    "rf": 15_000,
}
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
DENSE_MODELS = ("hgb", "knn", "rf")
RF_TREES = 60

_MISSING = "__missing__"


def categorical_block(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    block = frame[list(columns)].astype(object)
    return block.where(block.notna(), _MISSING).astype(str).to_numpy(dtype=object)


def numeric_blocks(
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


def dense_onehot_cap(n_fields: int) -> int:
    """Columns per field (the last one for rarer categories) in the dense one-hot."""
    return int(min(32, max(4, ONEHOT_DENSE_WIDTH // max(n_fields, 1))))


def _cv_for_target_encoder(task: str, seed: int) -> Any:
    from sklearn.model_selection import KFold, StratifiedKFold

    if task == "regression":
        return KFold(n_splits=5, shuffle=True, random_state=seed)
    return StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)


def baseline_blocks(
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
        enc = _onehot(dense_onehot_cap(cat_train.shape[1]) if dense_cap else None)
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


def embedding_blocks(
    run: TrainedRun, train: pd.DataFrame, test: pd.DataFrame, roles: Roles
) -> tuple[np.ndarray, np.ndarray]:
    """Categorical columns replaced by the run's vectors (standardised on train rows)."""
    from sklearn.preprocessing import StandardScaler

    features = list(roles.features)
    emb_tr = run.embed(train[features])
    emb_te = run.embed(test[features])
    names = run.embedding_names(features)
    cols = [n for c in roles.categorical if c in names for n in names[c].names]
    if not cols:
        raise DataError("The trained model returned no embedding columns; retrain and retry.")
    scaler = StandardScaler()
    tr = scaler.fit_transform(emb_tr[cols].to_numpy(dtype=np.float64))
    return tr, scaler.transform(emb_te[cols].to_numpy(dtype=np.float64))


def sklearn_threads() -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=SKLEARN_THREADS, user_api="openmp")


def make_model(name: str, task: str, seed: int) -> Any:
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


def predict(model: Any, X: Any, task: str, n_classes: int) -> np.ndarray:
    if task == "regression":
        return np.asarray(model.predict(X), dtype=np.float64)
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    full = np.zeros((proba.shape[0], n_classes))
    full[:, np.asarray(model.classes_, dtype=np.int64)] = proba
    return full[:, 1] if task == "binary" else full


def hstack(cat: Any, num: np.ndarray) -> Any:
    if sp.issparse(cat):
        return sp.hstack([cat, sp.csr_matrix(num)], format="csr")
    return np.hstack([np.asarray(cat, dtype=np.float64), num])
