"""What-if analysis: change one row's values and see how the model's prediction moves.

A *row* is a plain ``dict`` mapping every feature column (categorical and numeric) to a
value: a category label (text) or ``None`` for a categorical column, a number or
``None`` for a numeric one. Categories the model never saw (or saw too rarely) are
allowed: they get the model's "unknown" vector, as in ``TrainedRun.predict``.

Examples
--------
>>> row = baseline_row(frame, run.roles)                  # doctest: +SKIP
>>> predict_row(run, row)                                 # doctest: +SKIP
0.083
>>> predict_row(run, {**row, "job": "student"})           # doctest: +SKIP
0.271
>>> sweep(run, row, "job").head(3)                        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from embedding_core.data.encoding import as_category_text
from embedding_core.data.roles import Roles
from embedding_core.errors import DataError
from embedding_core.formatting import category as category_label

if TYPE_CHECKING:  # pragma: no cover - typing only
    from embedding_core.model.run import TrainedRun

__all__ = [
    "RELIABLE_COUNT",
    "baseline_row",
    "row_at",
    "predict_row",
    "predict_rows",
    "scalar_prediction",
    "compare_scenarios",
    "describe_changes",
    "value_text",
    "sweep",
    "learned_categories",
]

#: Categories seen fewer times than this in training are flagged as barely seen.
RELIABLE_COUNT = 30


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _category_value(value: Any) -> str | None:
    """A categorical cell as the model compares it (``as_category_text``), None if missing."""
    text = as_category_text([value]).iloc[0]
    return None if pd.isna(text) else str(text)


def _numeric_value(value: Any, column: str) -> float | None:
    if _is_missing(value):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(
            f"The value {value!r} of numeric column '{column}' is not a number: "
            "enter a number or leave it empty."
        ) from None


def _clean_row(row: Mapping[str, Any], roles: Roles) -> dict[str, Any]:
    """Every feature present; categories as text/None, numbers as float/None."""
    missing = [c for c in roles.features if c not in row]
    if missing:
        raise DataError(
            f"The row has no value for {', '.join(repr(c) for c in missing)}: "
            "give a value (or None) for every feature column."
        )
    clean: dict[str, Any] = {c: _category_value(row[c]) for c in roles.categorical}
    clean.update({c: _numeric_value(row[c], c) for c in roles.numeric})
    return clean


def baseline_row(frame: pd.DataFrame, roles: Roles) -> dict[str, Any]:
    """A typical row: the most common value of each categorical, the median of numerics.

    Parameters
    ----------
    frame : DataFrame
        The data (numeric columns may still be text, as read from a CSV).
    roles : Roles

    Returns
    -------
    dict
        Feature column -> value (``None`` when a column has no values at all).
        Ties between equally common categories go to the label that sorts first.
    """
    row: dict[str, Any] = {}
    for c in roles.categorical:
        values = as_category_text(frame[c]).dropna()
        if values.empty:
            row[c] = None
            continue
        counts = values.value_counts()
        top = counts[counts == counts.max()].index
        row[c] = sorted(map(str, top))[0]
    for c in roles.numeric:
        numbers = pd.to_numeric(frame[c], errors="coerce")
        median = numbers.median()
        row[c] = None if _is_missing(median) else float(median)
    return row


def row_at(frame: pd.DataFrame, roles: Roles, position: int) -> dict[str, Any]:
    """The feature values of one row of ``frame`` (by 0-based position), cleaned.

    Raises
    ------
    DataError
        If ``position`` is outside the frame.
    """
    if not 0 <= position < len(frame):
        raise DataError(
            f"Row {position} does not exist: choose a row between 0 and {len(frame) - 1}."
        )
    record = frame.iloc[int(position)]
    return _clean_row({c: record[c] for c in roles.features}, roles)


def _rows_frame(rows: Sequence[Mapping[str, Any]], roles: Roles) -> pd.DataFrame:
    clean = [_clean_row(r, roles) for r in rows]
    data: dict[str, Any] = {}
    for c in roles.categorical:
        data[c] = pd.Series([r[c] for r in clean], dtype=object)
    for c in roles.numeric:
        data[c] = pd.Series([np.nan if r[c] is None else r[c] for r in clean], dtype=np.float64)
    return pd.DataFrame(data, columns=list(roles.features))


def predict_rows(run: TrainedRun, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Predictions for several rows at once (one model call).

    Returns
    -------
    ndarray
        Shape (n,) for binary (P(positive)) and regression; (n, C) for multiclass.
    """
    if not rows:
        return np.empty(0)
    return np.asarray(run.predict(_rows_frame(rows, run.roles)), dtype=np.float64)


def predict_row(run: TrainedRun, row: Mapping[str, Any]) -> float | dict[str, float]:
    """The model's prediction for one row.

    Parameters
    ----------
    run : TrainedRun
    row : mapping
        Feature column -> value; unseen categories are allowed.

    Returns
    -------
    float or dict
        Binary: probability of the positive class; regression: the predicted value;
        multiclass: ``{class label: probability}``.
    """
    pred = predict_rows(run, [row])
    if pred.ndim == 2:
        return {c: float(p) for c, p in zip(run.classes, pred[0], strict=True)}
    return float(pred[0])


def scalar_prediction(
    pred: np.ndarray, run: TrainedRun, target_class: str | None
) -> tuple[np.ndarray, str]:
    """One number per row: the prediction, or for multiclass P(target_class).

    Parameters
    ----------
    pred : ndarray
        ``predict_rows`` output: (n,) or (n, C) for multiclass.
    run : TrainedRun
    target_class : str, optional
        Multiclass only; default: the most likely class of the first row.

    Returns
    -------
    (ndarray of shape (n,), str)
        The values and their label (``"prediction"`` or ``"P(<class>)"``).

    Raises
    ------
    DataError
        ``target_class`` is not a class of the model.
    """
    if pred.ndim == 1:
        return pred, "prediction"
    classes = run.classes
    if target_class is None:
        target_class = classes[int(np.argmax(pred[0]))]
    if str(target_class) not in classes:
        raise DataError(
            f"Class {target_class!r} is not one the model predicts; choose one of "
            f"{', '.join(classes)}."
        )
    return pred[:, classes.index(str(target_class))], f"P({target_class})"


def describe_changes(base: Mapping[str, Any], row: Mapping[str, Any], roles: Roles) -> str:
    """Which values differ from ``base``, e.g. ``"job: admin. -> student; age: 41 -> 25"``."""
    a, b = _clean_row(base, roles), _clean_row(row, roles)
    parts = []
    for c in roles.features:
        if a[c] != b[c] and not (a[c] is None and b[c] is None):
            parts.append(f"{c}: {value_text(a[c])} -> {value_text(b[c])}")
    return "; ".join(parts) if parts else "(no change)"


def value_text(value: Any) -> str:
    """A row's value as What-if shows it: numbers without a needless ".0" (46, 2.5),
    categories as ``category_label`` says them."""
    if isinstance(value, float) and value == value:
        return f"{value:g}"
    return category_label(value)  # missing values and markers read "(missing)"


def compare_scenarios(
    run: TrainedRun,
    rows: Sequence[Mapping[str, Any]],
    names: Sequence[str] | None = None,
    *,
    target_class: str | None = None,
) -> pd.DataFrame:
    """Predictions for several scenarios side by side; the first is the reference.

    Parameters
    ----------
    run : TrainedRun
    rows : sequence of mappings
        The scenarios; the first one is what the others are compared with.
    names : sequence of str, optional
        Scenario names (default "Scenario 1", "Scenario 2", ...).
    target_class : str, optional
        Multiclass only: the class whose probability is shown (default: the class the
        model finds most likely for the first scenario).

    Returns
    -------
    DataFrame
        Columns: ``scenario``, every feature, ``prediction`` (or ``P(<class>)``),
        ``change`` (difference from the first scenario) and ``changes`` (which values
        differ from the first scenario, in words).
    """
    roles = run.roles
    if not rows:
        cols = ["scenario", *roles.features, "prediction", "change", "changes"]
        return pd.DataFrame(columns=cols)
    names = list(names) if names is not None else [f"Scenario {i + 1}" for i in range(len(rows))]
    if len(names) != len(rows):
        raise ValueError(f"Expected {len(rows)} names. Received: {len(names)}")
    pred, label = scalar_prediction(predict_rows(run, rows), run, target_class)
    frame = _rows_frame(rows, roles)
    frame.insert(0, "scenario", names)
    frame[label] = pred
    frame["change"] = pred - pred[0]
    frame["changes"] = [describe_changes(rows[0], r, roles) for r in rows]
    return frame


def learned_categories(run: TrainedRun, field: str) -> pd.DataFrame:
    """``run.embeddings(field)`` without the unknown and missing rows: the categories a
    sweep can set."""
    table = run.embeddings(field)
    for flag in ("is_unknown", "is_missing"):
        if flag in table.columns:
            table = table[~table[flag].astype(bool)]
    return table


def sweep(
    run: TrainedRun,
    row: Mapping[str, Any],
    field: str,
    top_n: int = 20,
    *,
    min_count: int = RELIABLE_COUNT,
    target_class: str | None = None,
) -> pd.DataFrame:
    """The prediction for each of a field's most common categories, the rest of the row fixed.

    Parameters
    ----------
    run : TrainedRun
    row : mapping
        The row to vary.
    field : str
        A categorical column of the run.
    top_n : int, default=20
        How many categories (the most frequent in training) to try.
    min_count : int, default=30
        Categories seen fewer times than this in training are marked unreliable.
    target_class : str, optional
        Multiclass only: whose probability to show (default: most likely for ``row``).

    Returns
    -------
    DataFrame
        Columns ``category``, ``prediction``, ``count`` (training rows), ``reliable``
        (count >= min_count) and ``is_current`` (the row's own value), sorted by
        prediction, highest first.
    """
    roles = run.roles
    if field not in roles.categorical:
        raise DataError(
            f"'{field}' is not a categorical field of this model; choose one of "
            f"{', '.join(roles.categorical)}."
        )
    if top_n < 1:
        raise ValueError(f"Expected top_n >= 1. Received: top_n={top_n}")
    real = learned_categories(run, field).sort_values(
        ["count", "category"], ascending=[False, True], kind="mergesort"
    )
    real = real.head(top_n)
    categories = [str(c) for c in real["category"]]
    counts = real["count"].astype(int).to_numpy()
    base = dict(row)
    rows = [base, *({**base, field: c} for c in categories)]
    pred, label = scalar_prediction(predict_rows(run, rows), run, target_class)
    current = _category_value(base.get(field))
    out = pd.DataFrame(
        {
            "category": categories,
            "prediction": pred[1:],
            "count": counts,
            "reliable": counts >= min_count,
            "is_current": [c == current for c in categories],
        }
    )
    out.attrs["label"] = label
    out.attrs["row_prediction"] = float(pred[0])
    out = out.sort_values("prediction", ascending=False, kind="mergesort")
    return out.reset_index(drop=True)
