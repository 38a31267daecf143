"""scikit-learn transformers for the entity-embedding workflow.

Train embeddings of categorical columns once, then reuse them as features of any other
model, next to numeric columns:

``DeepFMEmbeddingEncoder``
    ``fit(X, y)`` trains a DeepFM on the categorical columns of ``X`` (numeric columns
    are model inputs too) and keeps its embedding tables; ``transform(X)`` replaces each
    categorical column with its ``k`` vector columns ``<column>_emb_0..k-1`` and passes
    the other columns through. Needs TensorFlow to fit, not to transform.
``EmbeddingLookupEncoder``
    Applies embedding tables that already exist (from a trained run, or from a saved
    run directory's ``embeddings.parquet``) without TensorFlow: ``fit`` learns nothing
    from the data, it only checks the columns.

Both follow scikit-learn's conventions: ``__init__`` only stores its arguments, learned
state ends in ``_``, ``get_feature_names_out`` makes ``set_output(transform="pandas")``,
``Pipeline`` and ``ColumnTransformer`` work.

Lookup rule (the same as ``TrainedRun.embed``): a value is compared as text (in a float
column, whole numbers such as ``3.0`` as ``"3"``); a missing value takes the table's
``<missing>`` row when it has one, else the unknown row; a category absent from the table
(never seen, or rarer than the run's ``min_count``) takes the unknown row.

Examples
--------
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.ensemble import HistGradientBoostingClassifier
>>> model = make_pipeline(
...     DeepFMEmbeddingEncoder(epochs=3),
...     HistGradientBoostingClassifier(),
... )                                                      # doctest: +SKIP
>>> model.fit(X_train, y_train).score(X_test, y_test)      # doctest: +SKIP

Reuse saved embeddings in another model without TensorFlow:

>>> enc = EmbeddingLookupEncoder.from_saved("runs/churn")  # doctest: +SKIP
>>> enc.set_output(transform="pandas").fit_transform(X)    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from embedding_core.errors import DataError, ModelFormatError
from embedding_core.model.config import TrainConfig
from embedding_core.model.embeddings_file import read_parquet_tables
from embedding_core.model.table_lookup import TableLookup
from embedding_core.output_columns import free_names

if TYPE_CHECKING:  # pragma: no cover - typing only
    from embedding_core.model.run import TrainedRun

__all__ = ["EmbeddingLookupEncoder", "DeepFMEmbeddingEncoder", "load_embedding_tables"]

_TARGET = "__target__"


# ------------------------------------------------------------------------------ helpers


def _as_frame(X: Any, feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """X as a DataFrame; arrays get the names seen in fit or x0, x1, ..."""
    if isinstance(X, pd.DataFrame):
        if X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"Found an empty DataFrame of shape {X.shape}; give rows and columns.")
        return X
    from sklearn.utils.validation import check_array

    # raises sklearn's usual errors for sparse, complex, 1D and empty input
    arr = check_array(X, dtype=None, ensure_all_finite=False, accept_sparse=False)
    names = (
        list(feature_names) if feature_names is not None else [f"x{i}" for i in range(arr.shape[1])]
    )
    if len(names) != arr.shape[1]:
        raise ValueError(
            f"X has {arr.shape[1]} features, but this encoder was fitted with {len(names)}."
        )
    return pd.DataFrame(arr, columns=names)


def load_embedding_tables(path: str | Path) -> dict[str, pd.DataFrame]:
    """Embedding tables from a saved run directory (or its ``embeddings.parquet``).

    Reads only Parquet (no model, no TensorFlow, no code execution).

    Parameters
    ----------
    path : str or Path
        A directory written by ``TrainedRun.save`` or the Parquet file itself.

    Returns
    -------
    dict
        Field -> table with ``category``, ``count``, ``is_unknown``, ``is_missing``,
        ``emb_0..`` columns (as ``run.tables()`` gives).

    Raises
    ------
    ModelFormatError
        If there is no readable embeddings file.
    """
    p = Path(path)
    file = p / "embeddings.parquet" if p.is_dir() else p
    if not file.is_file():
        raise ModelFormatError(
            f"No embeddings file at {file}: point to a directory saved by a trained run."
        )
    try:
        return read_parquet_tables(file)
    except DataError as exc:
        raise ModelFormatError(f"Could not read {file} as an embeddings file ({exc}).") from None


# ------------------------------------------------------------------------ lookup encoder


class EmbeddingLookupEncoder(TransformerMixin, BaseEstimator):
    """Replace categorical columns by saved embedding vectors (no TensorFlow needed).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Field -> embedding table (``category``, ``is_unknown``, ``is_missing``,
        ``emb_0..emb_{k-1}``), e.g. from ``run.embeddings(field)``,
        ``run.tables()`` or ``load_embedding_tables(dir)``.
    columns : sequence of str, optional
        Columns to replace. Default: every field of ``tables`` present in ``X``.
    remainder : {"passthrough", "drop"}, default="passthrough"
        What to do with the other columns.

    Attributes
    ----------
    columns_ : list of str
        Columns replaced by vectors.
    embedding_dims_ : dict
        Column -> number of vector components.
    feature_names_in_ : ndarray of str
        Input column names (only when ``X`` was a DataFrame).
    n_features_in_ : int

    Examples
    --------
    >>> enc = EmbeddingLookupEncoder(tables={"city": table}).fit(X)   # doctest: +SKIP
    >>> enc.get_feature_names_out()                                   # doctest: +SKIP
    array(['city_emb_0', 'city_emb_1', 'age'], dtype=object)
    """

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame] | None = None,
        columns: Sequence[str] | None = None,
        remainder: str = "passthrough",
    ) -> None:
        self.tables = tables
        self.columns = columns
        self.remainder = remainder

    @classmethod
    def from_run(cls, run: TrainedRun, **kwargs: Any) -> EmbeddingLookupEncoder:
        """An (unfitted) encoder holding the tables of a trained run."""
        return cls(tables=run.tables(), **kwargs)

    @classmethod
    def from_saved(cls, path: str | Path, **kwargs: Any) -> EmbeddingLookupEncoder:
        """An (unfitted) encoder holding the tables of a saved run directory."""
        return cls(tables=load_embedding_tables(path), **kwargs)

    # sklearn's estimator checks pass plain arrays: named x0, x1, ...
    def _input_names(self, X: Any) -> list[str]:
        if isinstance(X, pd.DataFrame):
            return [str(c) for c in X.columns]
        return [f"x{i}" for i in range(_as_frame(X).shape[1])]

    def fit(self, X: Any, y: Any = None) -> EmbeddingLookupEncoder:
        """Check the columns and build the lookups; ``y`` is ignored.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        if self.remainder not in ("passthrough", "drop"):
            raise ValueError(
                f"Expected remainder 'passthrough' or 'drop'. Received: {self.remainder!r}"
            )
        frame = _as_frame(X)
        if frame.shape[0] < 1:
            raise ValueError(
                "Found array with 0 sample(s) (shape=(0, ...)) while a minimum of 1 is required."
            )
        names = self._input_names(X)
        tables = dict(self.tables or {})
        if self.columns is None:
            columns = [c for c in names if c in tables]
        else:
            columns = [str(c) for c in self.columns]
            absent = [c for c in columns if c not in names]
            no_table = [c for c in columns if c not in tables]
            if absent:
                raise DataError(f"Columns {absent} are not in the data given to fit.")
            if no_table:
                raise DataError(
                    f"There is no embedding table for {no_table}; tables exist for "
                    f"{sorted(tables)}."
                )
        self._lookups = {c: TableLookup(c, tables[c]) for c in columns}
        self.columns_ = columns
        self.embedding_dims_ = {c: self._lookups[c].dim for c in columns}
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.n_features_in_ = len(names)
        if self.remainder == "passthrough" and not isinstance(X, pd.DataFrame):
            # arrays: the passthrough columns must be numeric (as sklearn's checks expect)
            rest = [i for i, c in enumerate(names) if c not in self._lookups]
            if rest:
                _numeric_block(frame.iloc[:, rest])
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Replace each embedded column by its vector columns, in place.

        Parameters
        ----------
        X : DataFrame or array-like with the columns seen in ``fit``

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            float64 when every passthrough column is numeric, else object.
        """
        check_is_fitted(self, "columns_")
        names = list(getattr(self, "feature_names_in_", []))
        if isinstance(X, pd.DataFrame):
            missing = [c for c in (names or []) if c not in X.columns]
            if missing:
                raise DataError(f"Columns {missing} seen in fit are missing from X.")
            frame = X[names] if names else X
            if not names and X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
        else:
            frame = _as_frame(X)
            if frame.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {frame.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
            if names:
                frame.columns = names
        blocks: list[np.ndarray] = []
        for i, col in enumerate(frame.columns):
            key = str(col)
            if key in self._lookups:
                blocks.append(self._lookups[key].transform(frame.iloc[:, i]))
            elif self.remainder == "passthrough":
                blocks.append(frame.iloc[:, [i]].to_numpy())
        if not blocks:
            return np.empty((len(frame), 0))
        try:
            return np.hstack([np.asarray(b, dtype=np.float64) for b in blocks])
        except (TypeError, ValueError):
            return np.hstack([np.asarray(b, dtype=object) for b in blocks])

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """Output names: ``<column>_emb_<j>`` for embedded columns, others unchanged.

        An embedded column's names get ``_new`` appended when a passed-through column
        already has one of them (``output_columns.free_names``), as ``TrainedRun.embed``.
        """
        check_is_fitted(self, "columns_")
        names = list(
            getattr(self, "feature_names_in_", [f"x{i}" for i in range(self.n_features_in_)])
        )
        if input_features is not None:
            input_features = [str(c) for c in input_features]
            if len(input_features) != self.n_features_in_:
                raise ValueError(
                    f"input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(input_features)}"
                )
            if hasattr(self, "feature_names_in_") and input_features != names:
                raise ValueError("input_features is not equal to feature_names_in_")
        passthrough = self.remainder == "passthrough"
        taken = [c for c in names if c not in self._lookups] if passthrough else []
        out: list[str] = []
        for col in names:
            if col in self._lookups:
                # as ``TrainedRun.embed`` names them: never a passed-through column's name
                wanted = [f"{col}_emb_{j}" for j in range(self._lookups[col].dim)]
                chosen = free_names(wanted, taken).names
                taken.extend(chosen)
                out.extend(chosen)
            elif passthrough:
                out.append(col)
        return np.asarray(out, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.requires_fit = True
        return tags


def _numeric_block(frame: pd.DataFrame) -> np.ndarray:
    try:
        return frame.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "Columns passed through must be numeric when X is an array; pass a DataFrame "
            "or name the categorical columns."
        ) from None


# ---------------------------------------------------------------------- DeepFM encoder


def _default_categorical(frame: pd.DataFrame) -> list[str]:
    cats = []
    for c in frame.columns:
        dtype = frame[c].dtype
        if (
            pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(dtype)
        ):
            cats.append(str(c))
    return cats


class DeepFMEmbeddingEncoder(TransformerMixin, BaseEstimator):
    """Learn DeepFM embeddings of categorical columns, then use them as features.

    Parameters
    ----------
    categorical : sequence of str, optional
        Columns to embed. Default: every text, categorical or boolean column of ``X``.
    numeric : sequence of str or "auto", default="auto"
        Numeric inputs of the DeepFM while fitting ("auto": every other column with a
        numeric dtype; other text columns are left out of the DeepFM).
        They are passed through unchanged by ``transform`` either way.
    task : {"binary", "regression", "multiclass"} or None, default=None
        ``None`` infers it from ``y``.
    embedding_dim, epochs, min_count, seed : int or None
        Override the matching ``TrainConfig`` setting (``None`` keeps ``config``'s).
    config : TrainConfig, optional
        Every other DeepFM setting (default ``TrainConfig()``).
    remainder : {"passthrough", "drop"}, default="passthrough"
        What ``transform`` does with the columns that are not embedded.

    Attributes
    ----------
    run_ : TrainedRun
        The trained model (with ``predict``, ``embed``, ``save``).
    embeddings_ : dict of str to DataFrame
        Field -> embedding table (category, count, target_mean, ..., emb_*).
    categorical_ : list of str
    config_ : TrainConfig
        The configuration actually used.
    feature_names_in_ : ndarray of str
    n_features_in_ : int

    Examples
    --------
    >>> enc = DeepFMEmbeddingEncoder(embedding_dim=4, epochs=2)       # doctest: +SKIP
    >>> enc.set_output(transform="pandas").fit_transform(X, y)        # doctest: +SKIP
    """

    def __init__(
        self,
        categorical: Sequence[str] | None = None,
        numeric: Sequence[str] | str = "auto",
        task: str | None = None,
        embedding_dim: int | None = None,
        epochs: int | None = None,
        min_count: int | None = None,
        seed: int | None = None,
        config: TrainConfig | None = None,
        remainder: str = "passthrough",
    ) -> None:
        self.categorical = categorical
        self.numeric = numeric
        self.task = task
        self.embedding_dim = embedding_dim
        self.epochs = epochs
        self.min_count = min_count
        self.seed = seed
        self.config = config
        self.remainder = remainder

    def _config(self) -> TrainConfig:
        config = self.config or TrainConfig()
        overrides = {
            k: v
            for k, v in {
                "embedding_dim": self.embedding_dim,
                "epochs": self.epochs,
                "min_count": self.min_count,
                "seed": self.seed,
            }.items()
            if v is not None
        }
        return config.replace(**overrides) if overrides else config

    def fit(self, X: pd.DataFrame, y: Any) -> DeepFMEmbeddingEncoder:
        """Train a DeepFM on ``X`` and ``y`` and keep its embedding tables.

        Parameters
        ----------
        X : DataFrame
            Categorical columns (text) and optional numeric columns.
        y : array-like of shape (n_samples,)
            The target.

        Returns
        -------
        self
        """
        from embedding_core.data.roles import Roles
        from embedding_core.model.train import train

        frame = _as_frame(X).reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        names = list(frame.columns)
        categorical = (
            [str(c) for c in self.categorical]
            if self.categorical is not None
            else _default_categorical(frame)
        )
        if not categorical:
            raise DataError(
                "No categorical column found: pass categorical=[...] or give text columns."
            )
        absent = [c for c in categorical if c not in names]
        if absent:
            raise DataError(f"Categorical columns {absent} are not in X.")
        if isinstance(self.numeric, str):
            if self.numeric != "auto":
                raise ValueError(f"Expected numeric 'auto' or a list. Received: {self.numeric!r}")
            numeric = [
                c
                for c in names
                if c not in categorical
                and pd.api.types.is_numeric_dtype(frame[c])
                and not pd.api.types.is_bool_dtype(frame[c])
            ]
        else:
            numeric = [str(c) for c in self.numeric]
        y_arr = np.asarray(y)
        if y_arr.shape[0] != len(frame):
            raise ValueError(
                f"X has {len(frame)} rows but y has {y_arr.shape[0]}; give one target per row."
            )
        target = _TARGET
        while target in names:
            target += "_"
        data = frame[categorical + numeric].copy()
        data[target] = y_arr
        roles = Roles(categorical=tuple(categorical), target=target, numeric=tuple(numeric),
                      task=self.task)  # fmt: skip
        self.config_ = self._config()
        self.run_ = train(data, roles, self.config_)
        self.categorical_ = categorical
        self.embeddings_ = {c: self.run_.embeddings(c) for c in categorical}
        self.lookup_ = EmbeddingLookupEncoder(
            tables=self.embeddings_, columns=categorical, remainder=self.remainder
        ).fit(frame)
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Replace each categorical column by its embedding columns (no TensorFlow call)."""
        check_is_fitted(self, "lookup_")
        if not isinstance(X, pd.DataFrame):
            X = _as_frame(X, list(getattr(self, "feature_names_in_", [])) or None)
        return self.lookup_.transform(X)

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """``<column>_emb_<j>`` for embedded columns, other columns unchanged."""
        check_is_fitted(self, "lookup_")
        return self.lookup_.get_feature_names_out(input_features)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.target_tags.required = True
        return tags
