"""Turn a frame into model inputs: category indices, scaled numbers and the target.

``FeatureEncoder`` is learned on the training rows only and is what a saved run needs
to turn new rows into the exact arrays the model saw. It never imports TensorFlow.

The model takes two inputs (see ``deepfm.build_deepfm``):

- ``"categorical"``: int32 array of shape ``(n, n_fields)``, one column per
  categorical field holding that field's vocabulary index (0 = unknown);
- ``"numeric"`` (only when numeric columns are used): float32 array of shape
  ``(n, 2 * n_numeric)``: the standardised values (missing cells imputed with the
  training mean, i.e. 0 after scaling) followed by one 0/1 missing flag per column;
- ``"numeric_encoded"`` (only with ``numeric_encoding`` "bins" or "ple"): the encoding
  of ``model.numeric``: for "bins" int32 ``(n, n_numeric)``, each column's bin (its
  slot index); for "ple" (and "bins" runs saved before that) float32
  ``(n, n_numeric, n_slots)``.

Fusing the fields into one input (rather than one input per column) halves the
graph-building time of the first epoch and speeds up every step; per-field tables
are still available by column name (``deepfm.field_tables``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from embedding_core.data.encoding import (
    CategoryEncoder,
    as_category_text,
    category_encoder_from_counts,
    positions,
)
from embedding_core.data.roles import Roles, Task
from embedding_core.errors import DataError
from embedding_core.model.numeric import NumericEncoder

__all__ = [
    "FeatureEncoder",
    "CATEGORICAL_INPUT",
    "NUMERIC_INPUT",
    "NUMERIC_ENCODED_INPUT",
    "POSITIVE_LABELS",
    "sanitise_name",
    "input_names",
    "positive_label",
    "target_text",
    "target_classes",
]

CATEGORICAL_INPUT = "categorical"
NUMERIC_INPUT = "numeric"
NUMERIC_ENCODED_INPUT = "numeric_encoded"
# Labels read as "the positive class" of a binary target (compared lower-cased).
POSITIVE_LABELS: frozenset[str] = frozenset(
    {"1", "yes", "y", "true", "t", "positive", "pos", "success"}
)


def sanitise_name(name: str) -> str:
    """A Keras-safe version of a column name: only ``[A-Za-z0-9_]``, not starting with a digit.

    Examples
    --------
    >>> sanitise_name("savings_account/bonds")
    'savings_account_bonds'
    >>> sanitise_name("2nd col")
    'f_2nd_col'
    """
    clean = re.sub(r"[^A-Za-z0-9_]", "_", str(name))
    if not clean or clean[0].isdigit():
        clean = f"f_{clean}"
    return clean


def input_names(columns: tuple[str, ...]) -> dict[str, str]:
    """Keras-safe, unique input names of feature columns (``sanitise_name`` + a suffix)."""
    names: dict[str, str] = {}
    taken: set[str] = {CATEGORICAL_INPUT, NUMERIC_INPUT}
    for col in columns:
        base = sanitise_name(col)
        name, i = base, 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name)
        names[col] = name
    return names


def target_text(values: pd.Series) -> pd.Series:
    """Target labels as text, missing as NaN (``1.0`` -> ``"1"``, ``True`` -> ``"True"``)."""
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
        return values.astype("str")
    return as_category_text(values)


def target_classes(counts: pd.Series, task: Task) -> list[str]:
    """Classes of a classification target in model order (the coding of ``FeatureEncoder``).

    Parameters
    ----------
    counts : pandas.Series
        Count of every target label (``target_text`` output), missing values excluded.
    task : {"binary", "multiclass"}

    Returns
    -------
    list of str
        Binary: ``[negative, positive]`` (see ``positive_label``); multiclass: the labels
        sorted, numerically when they are numbers.
    """
    labels = [str(v) for v in counts.index]
    if task == "binary":
        positive = positive_label(counts)
        return [next(v for v in labels if v != positive), positive]
    return _sort_labels(labels)


def _sort_labels(labels: list[str]) -> list[str]:
    """Numeric labels in numeric order, others alphabetically."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


def positive_label(counts: pd.Series) -> str:
    """Pick the positive class of a binary target from its label counts (see ``FeatureEncoder``)."""
    distinct = _sort_labels([str(v) for v in counts.index])
    try:
        numbers = [float(v) for v in distinct]
        return distinct[int(np.argmax(numbers))]
    except ValueError:
        pass
    named = [v for v in distinct if v.strip().lower() in POSITIVE_LABELS]
    if len(named) == 1:
        return named[0]
    # The rarer class is usually the one of interest (fraud, churn, default...).
    rarest = counts.sort_values(kind="mergesort").index
    ties = [str(v) for v in rarest if counts[v] == counts[rarest[0]]]
    return _sort_labels(ties)[-1]


class FeatureEncoder:
    """Vocabularies, numeric scaling and target coding learned on training rows.

    Binary targets: the positive class is the larger number when both labels are
    numbers (``0``/``1``, ``1``/``2``), else a label such as ``yes``/``true``/``1``,
    else the rarer label. ``classes_`` is ``[negative, positive]``.
    Multiclass: ``classes_`` holds the labels sorted (numerically when they are numbers).
    Regression: the target is standardised with the training mean and standard
    deviation (``encode_target``) and ``decode_target`` undoes it.

    Examples
    --------
    >>> frame = pd.DataFrame({"city": ["a", "b", "a", "c"], "y": ["1", "0", "1", "0"]})
    >>> fe = FeatureEncoder().fit(frame, Roles(("city",), "y", task="binary"), min_count=1)
    >>> fe.transform(frame)["categorical"].ravel().tolist()
    [1, 2, 1, 3]
    >>> fe.encode_target(frame["y"]).tolist()
    [1.0, 0.0, 1.0, 0.0]
    """

    def fit(
        self,
        frame: pd.DataFrame,
        roles: Roles,
        *,
        min_count: int = 2,
        missing_as_category: bool = True,
        numeric_encoding: str = "scaled",
        numeric_bins: int = 16,
        max_vocabulary: int | None = None,
    ) -> FeatureEncoder:
        """Learn vocabularies, numeric scaling and the target coding from training rows.

        Parameters
        ----------
        frame : pandas.DataFrame
            Training rows (as ``validate_roles`` returns them), with the target.
        roles : Roles
            Column roles; ``roles.task`` may be ``None`` (then it is inferred).
        min_count : int, default=2
            Categories seen fewer times share the unknown index 0.
        missing_as_category : bool, default=True
            Give missing categorical values their own index.
        numeric_encoding : {"scaled", "bins", "ple"}, default="scaled"
            ``"bins"``/``"ple"`` also learn bin edges for numeric columns
            (``numeric_encoder_``; see ``TrainConfig.numeric_encoding``).
        numeric_bins : int, default=16
            Most bins per numeric column.
        max_vocabulary : int, optional
            Keep at most this many categories per field (the most frequent).

        Returns
        -------
        FeatureEncoder
            ``self``, fitted.
        """
        self._check_columns(frame, (*roles.features, roles.target))
        counts = {}
        for col in roles.categorical:
            text = as_category_text(frame[col])
            counts[col] = (text.value_counts(dropna=True, sort=False), int(text.isna().sum()))
        return self._fit(
            frame,
            roles,
            counts,
            min_count=min_count,
            missing_as_category=missing_as_category,
            numeric_encoding=numeric_encoding,
            numeric_bins=numeric_bins,
            max_vocabulary=max_vocabulary,
        )

    def fit_transform(
        self, frame: pd.DataFrame, roles: Roles, *, rows: np.ndarray | None = None, **options: Any
    ) -> dict[str, np.ndarray]:
        """``fit`` on ``frame``'s rows at positions ``rows`` (every row: None), then
        ``transform(frame)``, reading each categorical column once (one hash pass where
        ``fit`` and ``transform`` take two: a 1M-row table is prepared in about half the
        time). ``options`` are those of ``fit``.

        Examples
        --------
        >>> frame = pd.DataFrame({"city": ["Oslo", "Rome", "Oslo", "Nice"], "y": ["1", "0"] * 2})
        >>> roles = Roles(categorical=("city",), target="y")
        >>> inputs = FeatureEncoder().fit_transform(frame, roles, rows=[0, 1, 2], min_count=1)
        >>> inputs["categorical"].ravel().tolist()  # "Nice" is not in the rows fitted on
        [1, 2, 1, 0]
        """
        self._check_columns(frame, (*roles.features, roles.target))
        codes, counts = {}, {}
        for col in roles.categorical:
            codes[col], uniques = pd.factorize(as_category_text(frame[col]))
            fit_codes = codes[col] if rows is None else codes[col][rows]
            n = np.bincount(fit_codes[fit_codes >= 0], minlength=len(uniques))
            counts[col] = (pd.Series(n[n > 0], index=uniques[n > 0]), int((fit_codes < 0).sum()))
            codes[col] = (codes[col], uniques)
        others = frame[list(dict.fromkeys([*roles.numeric, roles.target]))]
        self._fit(others if rows is None else others.iloc[rows], roles, counts, **options)
        categorical = np.empty((len(frame), len(self.fields)), dtype=np.int32)
        for j, col in enumerate(self.fields):
            at, uniques = codes[col]
            encoder = self.encoders_[col]
            rows_of_uniques = encoder.transform(pd.Series(uniques, dtype="str"))
            missing_row = encoder.transform(pd.Series([np.nan], dtype="str"))[0]
            categorical[:, j] = np.where(at >= 0, rows_of_uniques[np.maximum(at, 0)], missing_row)
        return self._inputs(frame, categorical)

    def _fit(
        self,
        frame: pd.DataFrame,
        roles: Roles,
        counts: dict[str, tuple[pd.Series, int]],
        *,
        min_count: int = 2,
        missing_as_category: bool = True,
        numeric_encoding: str = "scaled",
        numeric_bins: int = 16,
        max_vocabulary: int | None = None,
    ) -> FeatureEncoder:
        """``fit`` from each categorical column's (counts, missing count)."""
        task: Task
        if roles.task is None:
            from embedding_core.data.task import infer_task

            task = infer_task(frame[roles.target])
        else:
            task = roles.task
        self.roles_ = Roles(roles.categorical, roles.target, roles.numeric, task)
        self.task_: Task = task
        self.input_names_ = input_names(roles.features)

        self.encoders_: dict[str, CategoryEncoder] = {}
        for col in roles.categorical:
            self.encoders_[col] = category_encoder_from_counts(
                *counts[col],
                min_count=min_count,
                missing_as_category=missing_as_category,
                max_vocabulary=max_vocabulary,
            )

        self.numeric_mean_: dict[str, float] = {}
        self.numeric_std_: dict[str, float] = {}
        numbers: dict[str, np.ndarray] = {}
        for col in roles.numeric:
            x = numbers[col] = self._numbers(frame[col], col)
            present = x[~np.isnan(x)]
            mean = float(present.mean()) if present.size else 0.0
            std = float(present.std()) if present.size else 1.0
            self.numeric_mean_[col] = mean
            self.numeric_std_[col] = std if std > 0 and np.isfinite(std) else 1.0
        self.numeric_encoder_: NumericEncoder | None = None
        self.crosses_: list[tuple[str, str]] = []
        self.frequency_fields_: list[str] = []
        if numeric_encoding != "scaled" and numbers:
            self.numeric_encoder_ = NumericEncoder(numeric_encoding, numeric_bins).fit(numbers)

        target = frame[roles.target]
        self.classes_: list[str] = []
        self.positive_label_: str | None = None
        self.target_mean_ = 0.0
        self.target_std_ = 1.0
        if task == "regression":
            y = self._numbers(target, roles.target)
            y = y[~np.isnan(y)]
            self.target_mean_ = float(y.mean())
            std = float(y.std())
            self.target_std_ = std if std > 0 and np.isfinite(std) else 1.0
        else:
            labels = target_text(target).dropna()
            n_labels = int(labels.nunique())
            if n_labels < 2 or (task == "binary" and n_labels != 2):
                raise DataError(
                    f"The target '{roles.target}' has {n_labels} different value(s) in the "
                    f"training rows, which does not fit a {task} task: choose another target "
                    "or task."
                )
            self.classes_ = target_classes(labels.value_counts(), task)
            if task == "binary":
                self.positive_label_ = self.classes_[1]
        return self

    # ------------------------------------------------------------------ helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "encoders_"):
            raise RuntimeError("This FeatureEncoder is not fitted yet: call fit() first.")

    @staticmethod
    def _check_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            names = ", ".join(f"'{c}'" for c in missing)
            raise DataError(
                f"The data has no column {names}; the model needs the columns it was "
                f"trained with ({', '.join(repr(c) for c in columns)})."
            )

    @staticmethod
    def _numbers(values: pd.Series, col: str) -> np.ndarray:
        from embedding_core.data.values import parse_numeric

        numbers, bad = parse_numeric(values)
        if bad:
            shown = ", ".join(repr(str(v)) for v in bad[:5])
            raise DataError(
                f"The numeric column '{col}' contains values that are not numbers ({shown}): "
                "fix or empty those cells."
            )
        return numbers.to_numpy(dtype=np.float64)

    # ---------------------------------------------------------------- properties
    @property
    def task(self) -> Task:
        """The learning task (``"binary"``, ``"regression"`` or ``"multiclass"``)."""
        self._check_fitted()
        return self.task_

    @property
    def fields(self) -> list[str]:
        """Categorical columns, in model order."""
        self._check_fitted()
        return list(self.roles_.categorical)

    @property
    def field_sizes(self) -> list[int]:
        """Vocabulary size (reserved rows included) of each categorical field."""
        return [self.encoders_[c].size for c in self.fields]

    @property
    def n_numeric_inputs(self) -> int:
        """Width of the numeric input: values plus missing flags."""
        self._check_fitted()
        return 2 * len(self.roles_.numeric)

    @property
    def n_outputs(self) -> int:
        """Model outputs: number of classes for multiclass, else 1."""
        return len(self.classes_) if self.task == "multiclass" else 1

    def input_name(self, col: str) -> str:
        """The Keras-safe, unique name of a feature column (``[A-Za-z0-9_]`` only)."""
        self._check_fitted()
        try:
            return self.input_names_[col]
        except KeyError:
            raise KeyError(f"'{col}' is not a feature of this encoder.") from None

    def crossable_columns(self) -> list[str]:
        """Columns a cross may pair: the categorical fields, then the numeric columns
        encoded as bin indices (the order of the model's cross codes)."""
        self._check_fitted()
        encoder = self.numeric_encoder_
        binned = encoder.columns if encoder is not None and encoder.as_index else []
        return [*self.fields, *binned]

    def set_crosses(self, pairs: list[tuple[str, str]]) -> None:
        """Cross these pairs of columns (``model.crosses``); the network reads them when
        it is built."""
        allowed = set(self.crossable_columns())
        for a, b in pairs:
            if a == b or a not in allowed or b not in allowed:
                raise ValueError(
                    "Expected two different categorical fields or binned numeric columns. "
                    f"Received: {(a, b)}"
                )
        self.crosses_ = [(str(a), str(b)) for a, b in pairs]

    def set_frequency_fields(self, fields: list[str]) -> None:
        """Give these categorical fields frequency bands (``model.frequency``); the network
        reads them when it is built."""
        unknown = [f for f in fields if f not in self.encoders_]
        if unknown:
            raise ValueError(f"Expected categorical fields of this encoder. Received: {unknown}")
        self.frequency_fields_ = [str(f) for f in fields]

    # ---------------------------------------------------------------- transforms
    def transform_categorical(self, frame: pd.DataFrame) -> np.ndarray:
        """Vocabulary indices, int32 of shape ``(n, n_fields)`` (0 = unknown)."""
        self._check_fitted()
        self._check_columns(frame, tuple(self.fields))
        out = np.empty((len(frame), len(self.fields)), dtype=np.int32)
        for j, col in enumerate(self.fields):
            out[:, j] = self.encoders_[col].transform(frame[col])
        return out

    def transform_numeric(self, frame: pd.DataFrame) -> np.ndarray:
        """Scaled numbers and missing flags, float32 of shape ``(n, 2 * n_numeric)``."""
        self._check_fitted()
        cols = list(self.roles_.numeric)
        self._check_columns(frame, tuple(cols))
        out = np.zeros((len(frame), 2 * len(cols)), dtype=np.float32)
        for j, col in enumerate(cols):
            x = self._numbers(frame[col], col)
            missing = ~np.isfinite(x)
            z = (x - self.numeric_mean_[col]) / self.numeric_std_[col]
            z[missing] = 0.0
            out[:, j] = z
            out[:, len(cols) + j] = missing
        return out

    def transform(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Model inputs for ``frame`` (extra columns, e.g. the target, are ignored).

        Returns
        -------
        dict of str to ndarray
            ``{"categorical": int32 (n, n_fields)}`` plus ``"numeric"``
            (float32 (n, 2 * n_numeric)) when numeric columns are used.

        Raises
        ------
        DataError
            A feature column is absent or a numeric column holds text.
        """
        return self._inputs(frame, self.transform_categorical(frame))

    def _inputs(self, frame: pd.DataFrame, categorical: np.ndarray) -> dict[str, np.ndarray]:
        """``transform``'s inputs, the categorical indices given."""
        inputs = {CATEGORICAL_INPUT: categorical}
        if self.roles_.numeric:
            inputs[NUMERIC_INPUT] = self.transform_numeric(frame)
        if self.numeric_encoder_ is not None:
            columns = {c: self._numbers(frame[c], c) for c in self.numeric_encoder_.columns}
            inputs[NUMERIC_ENCODED_INPUT] = self.numeric_encoder_.transform(columns)
        return inputs

    def encode_target(self, values: pd.Series) -> np.ndarray:
        """The target in model space.

        Binary: float32 0/1 (1 = ``positive_label_``); multiclass: int32 class index
        into ``classes_``; regression: float32 standardised values.

        Raises
        ------
        DataError
            A label the model does not know, or a missing / non-numeric value.
        """
        self._check_fitted()
        name = self.roles_.target
        if self.task_ == "regression":
            y = self._numbers(values, name)
            if np.isnan(y).any():
                raise DataError(f"The target '{name}' has missing values: drop those rows first.")
            return ((y - self.target_mean_) / self.target_std_).astype(np.float32)
        labels = target_text(values)
        codes = positions(labels, pd.Index([str(c) for c in self.classes_], dtype="str"))
        if (codes < 0).any():
            bad = labels[codes < 0].astype(object).fillna("<missing>").unique()[:5]
            raise DataError(
                f"The target '{name}' has values the model does not know "
                f"({', '.join(repr(str(v)) for v in bad)}); expected one of "
                f"{', '.join(repr(c) for c in self.classes_)}."
            )
        codes_arr = codes
        if self.task_ == "binary":
            return codes_arr.astype(np.float32)
        return codes_arr.astype(np.int32)

    def target_values(self, values: pd.Series) -> np.ndarray:
        """The target as float64 numbers for statistics (0/1 for binary, raw for regression).

        Multiclass targets give class indices.
        """
        return self.user_target(self.encode_target(values))

    def user_target(self, encoded: np.ndarray) -> np.ndarray:
        """``encode_target`` output as float64 statistics-ready numbers (see ``target_values``)."""
        y = np.asarray(encoded, dtype=np.float64)
        if self.task_ == "regression":
            return y * self.target_std_ + self.target_mean_
        return y

    def decode_target(self, raw: np.ndarray) -> np.ndarray:
        """Model outputs back to user scale (only regression changes; probabilities pass)."""
        self._check_fitted()
        raw = np.asarray(raw)
        if self.task_ == "regression":
            return raw.astype(np.float64) * self.target_std_ + self.target_mean_
        return raw

    # ---------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state; ``from_dict(to_dict())`` round-trips exactly."""
        self._check_fitted()
        return {
            "roles": self.roles_.to_dict(),
            "input_names": dict(self.input_names_),
            "encoders": {c: e.to_dict() for c, e in self.encoders_.items()},
            "numeric_mean": dict(self.numeric_mean_),
            "numeric_std": dict(self.numeric_std_),
            "classes": list(self.classes_),
            "positive_label": self.positive_label_,
            "target_mean": self.target_mean_,
            "target_std": self.target_std_,
            "numeric_encoder": (
                None if self.numeric_encoder_ is None else self.numeric_encoder_.to_dict()
            ),
            "crosses": [list(pair) for pair in self.crosses_],
            "frequency_fields": list(self.frequency_fields_),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureEncoder:
        """Rebuild a fitted encoder from ``to_dict`` output."""
        fe = cls()
        fe.roles_ = Roles.from_dict(d["roles"])
        if fe.roles_.task is None:
            raise ValueError("Expected a resolved task in the saved roles. Received: None")
        fe.task_ = fe.roles_.task
        fe.input_names_ = {str(k): str(v) for k, v in d["input_names"].items()}
        fe.encoders_ = {
            c: CategoryEncoder.from_dict(d["encoders"][c]) for c in fe.roles_.categorical
        }
        fe.numeric_mean_ = {c: float(d["numeric_mean"][c]) for c in fe.roles_.numeric}
        fe.numeric_std_ = {c: float(d["numeric_std"][c]) for c in fe.roles_.numeric}
        fe.classes_ = [str(c) for c in d["classes"]]
        fe.positive_label_ = d["positive_label"]
        fe.target_mean_ = float(d["target_mean"])
        fe.target_std_ = float(d["target_std"])
        encoder = d.get("numeric_encoder")  # absent in runs saved before numeric encodings
        fe.numeric_encoder_ = None if encoder is None else NumericEncoder.from_dict(encoder)
        fe.crosses_ = [(str(a), str(b)) for a, b in d.get("crosses", [])]  # absent before crosses
        fe.frequency_fields_ = [str(f) for f in d.get("frequency_fields", [])]  # absent before
        return fe

    def __repr__(self) -> str:
        if not hasattr(self, "encoders_"):
            return "FeatureEncoder()"
        return (
            f"FeatureEncoder(task={self.task_!r}, fields={self.fields}, "
            f"numeric={list(self.roles_.numeric)})"
        )
