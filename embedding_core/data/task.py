"""The learning task of a target column: inferred (``infer_task``) or checked (``resolve_task``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from embedding_core.data.encoding import as_category_text
from embedding_core.data.roles import Task
from embedding_core.data.values import SHOW_VALUES, parse_numeric, quote_values, target_missing
from embedding_core.errors import DataError

__all__ = [
    "MAX_AUTO_CLASSES",
    "MAX_CLASSES",
    "infer_task",
    "task_note",
    "resolve_task",
    "single_value_error",
    "no_values_error",
]

MAX_AUTO_CLASSES = 20  # inferred multiclass stops here; more distinct numbers -> regression
MAX_CLASSES = 200  # largest number of classes accepted when the user asks for multiclass


def single_value_error(name: object, value: object) -> DataError:
    """The refusal of a target with one value in every row."""
    return DataError(
        f"The target '{name}' has a single value ({str(value)!r}) in every row, so there is "
        "nothing to predict: choose a target with at least two different values."
    )


def no_values_error(name: object) -> DataError:
    """The refusal of a target without any value."""
    return DataError(
        f"The target '{name}' has no values (every row is empty): choose another target column."
    )


def infer_task(target: pd.Series) -> Task:
    """Guess the learning task from the target column.

    Two distinct values give ``"binary"`` (whatever the labels). Numbers with more
    than two values give ``"regression"``, unless they are at most
    ``MAX_AUTO_CLASSES`` whole numbers (class codes such as 1, 2, 3), which give
    ``"multiclass"``; text with 3 to ``MAX_AUTO_CLASSES`` distinct labels gives
    ``"multiclass"``. Missing values (including ``"NA"``-like text) are ignored.

    Parameters
    ----------
    target : pandas.Series

    Returns
    -------
    {"binary", "regression", "multiclass"}

    Raises
    ------
    DataError
        The target has no values, a single value, or too many distinct text labels.

    Examples
    --------
    >>> infer_task(pd.Series(["yes", "no", "yes"]))
    'binary'
    >>> infer_task(pd.Series(["12.5", "3.1", "7.25", "0.4"]))
    'regression'
    """
    name = target.name
    present = target[~target_missing(target)]
    if len(present) == 0:
        raise no_values_error(name)
    labels = as_category_text(present)
    n_distinct = int(labels.nunique())
    if n_distinct < 2:
        raise single_value_error(name, labels.iloc[0])
    if n_distinct == 2:
        return "binary"
    numbers, bad = parse_numeric(present)
    if not bad:
        distinct = np.unique(numbers.to_numpy())
        whole = bool(np.all(distinct == np.round(distinct)))
        if whole and len(distinct) <= MAX_AUTO_CLASSES:
            return "multiclass"
        return "regression"
    if n_distinct <= MAX_AUTO_CLASSES:
        return "multiclass"
    if len(bad) <= 3 and len(bad) * 10 <= n_distinct:
        raise DataError(
            f"The target '{name}' is numeric except for {quote_values(bad)}: fix or empty those "
            "cells to predict it as a number (regression)."
        )
    raise DataError(
        f"The target '{name}' has {n_distinct:,} different text values, too many to infer "
        f"classes (at most {MAX_AUTO_CLASSES}): choose a yes/no or numeric target, or set "
        "the task to multiclass yourself."
    )


def task_note(target: pd.Series, task: Task) -> str | None:
    """What a user should know about an inferred task, or ``None``.

    Whole numbers with at most ``MAX_AUTO_CLASSES`` distinct values (a 1-5 rating, a
    0/1/2 code) are inferred as ``"multiclass"``: such columns are more often class codes
    than quantities, and treating codes as ordered numbers would be silently wrong, while
    treating a rating as classes only forgoes its order. The note says so, and how to get
    a numeric prediction instead.

    Examples
    --------
    >>> note = task_note(pd.Series([1, 2, 3, 4, 5], name="stars"), "multiclass")
    >>> note.split(": ")[0]
    "The target 'stars' has 5 numeric values (1, 2, 3, 4, 5)"
    """
    if task != "multiclass":
        return None
    present = target[~target_missing(target)]
    numbers, bad = parse_numeric(present)
    if bad:
        return None
    distinct = [f"{v:g}" for v in np.unique(numbers.dropna().to_numpy())]
    shown = ", ".join(distinct[:SHOW_VALUES])
    if len(distinct) > SHOW_VALUES:
        shown += f" and {len(distinct) - SHOW_VALUES} more"
    return (
        f"The target '{target.name}' has {len(distinct)} numeric values ({shown}): treated as "
        "classes (multiclass), since a few whole numbers are usually codes; choose "
        "regression to predict the value."
    )


def resolve_task(target: pd.Series, requested: Task | None) -> Task:
    """Infer the task, or check that the one the user asked for fits the target."""
    if requested is None:
        return infer_task(target)
    name = target.name
    labels = as_category_text(target)
    n_classes = int(labels.nunique())
    if n_classes == 0:
        raise no_values_error(name)
    if n_classes == 1:
        raise single_value_error(name, labels.iloc[0])
    if requested == "regression":
        _, bad = parse_numeric(target)
        if bad:
            raise DataError(
                f"Regression needs a numeric target, but '{name}' contains text "
                f"({quote_values(bad)}): choose binary or multiclass, or another target."
            )
        return "regression"
    if requested == "binary":
        if n_classes != 2:
            numeric = not parse_numeric(target)[1]
            options = "multiclass or regression" if numeric else "multiclass"
            raise DataError(
                f"Binary needs a target with exactly two values, but '{name}' has "
                f"{n_classes:,}: choose {options}, or leave the task automatic."
            )
        return "binary"
    if n_classes > MAX_CLASSES:
        raise DataError(
            f"The target '{name}' has {n_classes:,} different values, more than the "
            f"{MAX_CLASSES} classes multiclass supports: choose regression or another target."
        )
    return "multiclass"
