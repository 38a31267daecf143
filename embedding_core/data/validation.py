"""Check the user's choice of column roles and produce clean training data.

``validate_roles`` is the single gate between a raw frame and the engine: every way
a choice of columns can be unusable ends here in a ``DataError`` whose message is one
sentence saying what is wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from embedding_core.data.encoding import as_category_text
from embedding_core.data.roles import TASKS, Roles, Task
from embedding_core.errors import DataError

__all__ = [
    "ValidatedData",
    "infer_task",
    "task_note",
    "validate_roles",
    "check_roles",
    "check_choice",
    "check_target",
    "prepare_column",
    "TargetCheck",
    "parse_numeric",
    "parse_distinct_numbers",
    "is_missing_token",
    "normalise_labels",
    "label_spelling_note",
    "NA_TOKENS",
    "MAX_AUTO_CLASSES",
    "MAX_CLASSES",
    "MIN_ROWS",
]

MIN_ROWS = 50
MAX_AUTO_CLASSES = 20  # inferred multiclass stops here; more distinct numbers -> regression
MAX_CLASSES = 200  # largest number of classes accepted when the user asks for multiclass
#: Largest magnitude accepted in a numeric column: scaling squares and sums values, so
#: numbers near the float limit (1e308) would overflow to inf.
MAX_ABS_NUMBER = 1e100
# Text that means "no value" in numeric columns and in the target (compared case-insensitively).
NA_TOKENS: frozenset[str] = frozenset(
    {"", "na", "n/a", "nan", "null", "none", "nil", "-", "?", "#n/a", "<na>", "missing"}
)
_SHOW_VALUES = 5


def is_missing_token(value: object) -> bool:
    """True for ``NaN``/``None`` and for text such as ``"NA"``, ``"null"`` or ``"?"``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    return isinstance(value, str) and value.strip().lower() in NA_TOKENS


def parse_distinct_numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse distinct text values as numbers (the fast path of ``parse_numeric``).

    Returns ``(numbers, bad)``: float64 numbers (``NaN`` for missing tokens and for
    bad values) and a boolean mask of values that are neither numbers nor missing
    tokens (infinite values and values beyond ``MAX_ABS_NUMBER`` count as bad).
    """
    values = np.asarray(values, dtype=object)
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, copy=True
        )
    missing = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(np.isnan(numbers)):  # only unparsed values can be tokens
        missing[i] = is_missing_token(values[i])
    bad = ~missing & ~(np.abs(numbers) <= MAX_ABS_NUMBER)
    return numbers, bad


def parse_numeric(values: pd.Series) -> tuple[pd.Series, list[str]]:
    """Convert a column to float64, collecting the values that are not numbers.

    Parameters
    ----------
    values : pandas.Series
        Text (as read by ``read_csv``) or an already numeric column.

    Returns
    -------
    numbers : pandas.Series of float64
        Same index; missing cells, missing tokens (``"NA"``, ``"null"``, ``"?"``...) and
        bad values become ``NaN``.
    bad_values : list of str
        Distinct values that are neither numbers nor missing tokens, most frequent first.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(np.float64), []
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype(np.float64)
        infinite = np.abs(numbers.to_numpy()) > MAX_ABS_NUMBER
        bad = values[infinite].astype(str).value_counts().index.tolist()
        return numbers.where(~infinite, np.nan), [str(v) for v in bad]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    parsed, bad_mask = parse_distinct_numbers(uniques)
    out = np.full(len(values), np.nan)
    present = codes >= 0
    out[present] = parsed[codes[present]]
    bad_values: list[str] = []
    if bad_mask.any():
        counts = np.bincount(codes[present], minlength=len(uniques))
        order = np.argsort(-counts[bad_mask], kind="stable")
        bad_values = [str(v) for v in uniques[bad_mask][order]]
    return pd.Series(out, index=values.index, name=values.name), bad_values


def normalise_labels(values: pd.Series) -> pd.Series:
    """Labels with surrounding spaces removed and case folded to the most frequent spelling.

    ``"yes"``, ``"Yes"`` and ``"yes "`` become one label, spelled as the most frequent of
    them; missing values stay missing. Use it on a target whose classes differ only in
    spelling (``label_spelling_note`` says when).
    """
    text = values.astype("str")
    key = text.str.strip().str.casefold()
    spelled = text.str.strip()
    preferred = (
        pd.DataFrame({"key": key, "spelled": spelled})
        .dropna()
        .groupby("key")["spelled"]
        .agg(lambda s: s.value_counts().index[0])
    )
    return key.map(preferred).where(values.notna())


def label_spelling_note(target: pd.Series) -> str | None:
    """A warning when some target classes differ only in case or surrounding spaces."""
    labels = target.dropna().astype("str")
    distinct = pd.Series(labels.unique())
    if len(distinct) > 10_000:
        return None
    keys = distinct.str.strip().str.casefold()
    groups = distinct.groupby(keys).agg(list)
    clashes = [g for g in groups if len(g) > 1]
    if not clashes:
        return None
    shown = _quote([v for group in clashes[:2] for v in group], 6)
    return (
        f"The target '{target.name}' has classes that differ only in capitals or spaces "
        f"({shown}): they count as different classes. Normalise them to merge them "
        "(the Data page offers it; in Python, embedding_core.normalise_labels)."
    )


def _bad_numbers_message(name: object, bad: list[str]) -> str:
    huge = [v for v in bad if _is_float(v)]
    if len(huge) == len(bad):
        return (
            f"The numeric column '{name}' has values too large to scale (beyond "
            f"±{MAX_ABS_NUMBER:g}: {_quote(huge)}): rescale them (e.g. use thousands), or use "
            f"'{name}' as a categorical column instead."
        )
    return (
        f"The numeric column '{name}' contains values that are not numbers "
        f"({_quote([v for v in bad if v not in huge])}): fix them, or use '{name}' as a "
        "categorical column instead."
    )


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _target_missing(target: pd.Series) -> np.ndarray:
    missing = target.isna().to_numpy(copy=True)
    if not (pd.api.types.is_numeric_dtype(target.dtype) or pd.api.types.is_bool_dtype(target)):
        codes, uniques = pd.factorize(target, use_na_sentinel=True)
        token = np.fromiter((is_missing_token(v) for v in uniques), bool, len(uniques))
        if len(uniques):  # an all-empty column has no uniques to index
            missing |= (codes >= 0) & token[np.maximum(codes, 0)]
    return missing


def _quote(values: list[str], limit: int = _SHOW_VALUES) -> str:
    shown = [repr(str(v)) for v in values[:limit]]
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return ", ".join(shown) + more


def _single_value_error(name: object, value: object) -> DataError:
    return DataError(
        f"The target '{name}' has a single value ({str(value)!r}) in every row, so there is "
        "nothing to predict: choose a target with at least two different values."
    )


def _no_values_error(name: object) -> DataError:
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
    present = target[~_target_missing(target)]
    if len(present) == 0:
        raise _no_values_error(name)
    labels = as_category_text(present)
    n_distinct = int(labels.nunique())
    if n_distinct < 2:
        raise _single_value_error(name, labels.iloc[0])
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
            f"The target '{name}' is numeric except for {_quote(bad)}: fix or empty those "
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
    present = target[~_target_missing(target)]
    numbers, bad = parse_numeric(present)
    if bad:
        return None
    distinct = [f"{v:g}" for v in np.unique(numbers.dropna().to_numpy())]
    shown = ", ".join(distinct[:_SHOW_VALUES])
    if len(distinct) > _SHOW_VALUES:
        shown += f" and {len(distinct) - _SHOW_VALUES} more"
    return (
        f"The target '{target.name}' has {len(distinct)} numeric values ({shown}): treated as "
        "classes (multiclass), since a few whole numbers are usually codes; choose "
        "regression to predict the value."
    )


@dataclass
class ValidatedData:
    """Training data that passed ``validate_roles``.

    Attributes
    ----------
    frame : pandas.DataFrame
        Only the used columns (categorical, numeric, then the target), rows with a
        missing target dropped, index reset. Categorical columns are text with ``NaN``
        for missing, numeric columns float64, the target as given.
    roles : Roles
        The roles with ``task`` resolved (never ``None``).
    warnings : list of str
        Things the user should know but that do not stop training.
    dropped_rows : int
        Rows removed because their target was missing.
    """

    frame: pd.DataFrame
    roles: Roles
    warnings: list[str] = field(default_factory=list)
    dropped_rows: int = 0


def check_roles(columns: pd.Index, roles: Roles) -> None:
    """The checks of ``validate_roles`` that need only the column names.

    Raises
    ------
    DataError
        Unknown or duplicated columns, the target chosen as a feature, a column chosen
        twice, no categorical column, or an unknown task.
    """
    known_columns = set(columns)
    used = [*roles.categorical, *roles.numeric, roles.target]
    unknown = list(dict.fromkeys(c for c in used if c not in known_columns))
    if unknown:
        known = ", ".join(f"'{c}'" for c in list(columns)[:8])
        more = ", ..." if len(columns) > 8 else ""
        noun = "Columns" if len(unknown) > 1 else "Column"
        verb = "are" if len(unknown) > 1 else "is"
        raise DataError(
            f"{noun} {', '.join(repr(c) for c in unknown)} {verb} not in the data; "
            f"choose among {known}{more}."
        )
    repeated = sorted({str(c) for c in columns[columns.duplicated()]} & set(used))
    if repeated:
        raise DataError(
            f"The data has several columns named {', '.join(map(repr, repeated))}: "
            "rename them so that each name is unique."
        )
    if roles.target in roles.features:
        raise DataError(
            f"The target '{roles.target}' is also chosen as a feature: remove it from the "
            "categorical and numeric columns (a model must not see the answer)."
        )
    seen: dict[str, str] = {}
    for role, names in (("categorical", roles.categorical), ("numeric", roles.numeric)):
        for c in names:
            if c in seen:
                where = role if seen[c] == role else f"{seen[c]} and {role}"
                raise DataError(
                    f"Column '{c}' is chosen twice (as {where}): give each column one role."
                )
            seen[c] = role
    if not roles.categorical:
        raise DataError(
            "No categorical column is chosen: pick at least one column of categories "
            "(such as a product, region or code) to learn embeddings for."
        )
    if roles.task is not None and roles.task not in TASKS:
        raise DataError(
            f"Unknown task {roles.task!r}: choose one of {', '.join(TASKS)} or leave it automatic."
        )


def validate_roles(df: pd.DataFrame, roles: Roles, *, min_rows: int = MIN_ROWS) -> ValidatedData:
    """Check a choice of column roles and return the clean training frame.

    Parameters
    ----------
    df : pandas.DataFrame
        The data, typically from ``read_csv`` (all text).
    roles : Roles
        Chosen categorical columns, numeric columns, target and optional task.
    min_rows : int, default=50
        Fewest rows with a target value needed to train.

    Returns
    -------
    ValidatedData

    Raises
    ------
    DataError
        With one sentence for the first problem found: unknown columns, a column
        chosen twice, the target also chosen as a feature, no categorical column, an
        empty or single-valued target, a numeric column with text in it, a task that
        does not fit the target, or too few rows.
    """
    prepared: dict[str, object] = {}

    def prepare(name: str, role: str, target: TargetCheck) -> str | None:
        prepared[name], note = prepare_column(target.rows_of(df[name]), role)
        return note

    target, warnings = check_choice(df, roles, min_rows=min_rows, column_note=prepare)
    prepared[roles.target] = target.rows_of(df[roles.target])
    used = dict.fromkeys([*roles.categorical, *roles.numeric, roles.target])
    frame = pd.DataFrame({c: prepared[c] for c in used}, index=pd.RangeIndex(target.n_rows))
    resolved = replace(roles, task=target.task)
    return ValidatedData(
        frame=frame, roles=resolved, warnings=warnings, dropped_rows=target.n_missing
    )


@dataclass(frozen=True)
class TargetCheck:
    """What ``validate_roles`` learns from the target column alone (``check_target``).

    Attributes
    ----------
    task : {"binary", "regression", "multiclass"}
        The task asked for, or the one inferred.
    keep : numpy.ndarray of bool
        Rows with a target value (the rows training uses).
    n_missing : int
        Rows without one (left out).
    notes : tuple of str
        Warnings about the rows left out and the inferred task.
    class_notes : tuple of str
        Warnings about the classes (spelling, rare classes); binary and multiclass only.
    spelling_note : str or None
        ``label_spelling_note`` of the target's rows, whatever the task.
    """

    task: Task
    keep: np.ndarray
    n_missing: int
    notes: tuple[str, ...] = ()
    class_notes: tuple[str, ...] = ()
    spelling_note: str | None = None

    @property
    def n_rows(self) -> int:
        """Rows with a target value."""
        return len(self.keep) - self.n_missing

    def rows_of(self, values: pd.Series) -> pd.Series:
        """``values`` on the rows with a target value, index reset."""
        kept = values[self.keep] if self.n_missing else values
        return kept.reset_index(drop=True)


def check_target(target: pd.Series, task: Task | None = None) -> TargetCheck:
    """The checks of ``validate_roles`` that need only the target column.

    Raises
    ------
    DataError
        The target has no values, a single value, or does not fit ``task``.
    """
    missing = _target_missing(target)
    n_missing = int(missing.sum())
    if n_missing == len(target):
        raise DataError(
            f"The target '{target.name}' has no values (every row is empty): "
            "choose another target column."
        )
    notes = []
    if n_missing:
        notes.append(
            f"{n_missing:,} of {len(target):,} rows have no value for the target "
            f"'{target.name}' and were left out."
        )
    check = TargetCheck(task="binary", keep=~missing, n_missing=n_missing)
    kept = check.rows_of(target)
    resolved = _resolve_task(kept, task)
    note = task_note(kept, resolved) if task is None else None
    if note:
        notes.append(note)
    spelling = label_spelling_note(kept)
    class_notes = []
    if resolved in ("binary", "multiclass"):
        if spelling:
            class_notes.append(spelling)
        counts = kept.astype(str).value_counts()
        rare = counts[counts < 10]
        if len(rare):
            labels = _quote([str(v) for v in rare.index], 3)
            class_notes.append(
                f"Some target values are very rare ({labels}: fewer than 10 rows each); "
                "the model will learn little about them."
            )
    return replace(
        check,
        task=resolved,
        notes=tuple(notes),
        class_notes=tuple(class_notes),
        spelling_note=spelling,
    )


def prepare_column(values: pd.Series, role: str) -> tuple[pd.Series | np.ndarray, str | None]:
    """A feature column as training reads it, and the warning about it (None if none).

    ``role`` is ``"numeric"`` (float64 numbers) or ``"categorical"`` (category text).

    Raises
    ------
    DataError
        A numeric column with text in it, or without any value.
    """
    name = values.name
    if role == "numeric":
        numbers, bad = parse_numeric(values)
        if bad:
            raise DataError(_bad_numbers_message(name, bad))
        if numbers.isna().all():
            raise DataError(
                f"The numeric column '{name}' has no values: leave it out of the numeric columns."
            )
        share = float(numbers.isna().mean())
        note = None
        if share > 0:
            note = (
                f"Numeric column '{name}' is missing in {share:.0%} of rows; "
                "those cells are filled with its average and flagged."
                if share >= 0.005
                else f"Numeric column '{name}' has a few missing cells; they are filled "
                "with its average and flagged."
            )
        return numbers.to_numpy(), note
    text = as_category_text(values)
    n_distinct = int(text.nunique())
    if n_distinct == 0:
        return text, f"Categorical column '{name}' is empty in every row; it adds nothing."
    if n_distinct == 1 and not text.isna().any():
        return (
            text,
            f"Categorical column '{name}' has the same value in every row; it adds nothing.",
        )
    return text, None


def check_choice(
    df: pd.DataFrame,
    roles: Roles,
    *,
    min_rows: int = MIN_ROWS,
    target_check: Callable[[str, Task | None], TargetCheck] | None = None,
    column_note: Callable[[str, str, TargetCheck], str | None] | None = None,
) -> tuple[TargetCheck, list[str]]:
    """Every check of ``validate_roles``, without building the training frame.

    Each piece depends on one column only, so a caller that checks choice after
    choice (the app's Data page, at every click) can cache the pieces: pass
    ``target_check(target, task)`` and ``column_note(name, role, target_check)`` (by
    default ``check_target`` and ``prepare_column``'s note, computed each time).

    Returns
    -------
    (TargetCheck, list of str)
        The target's check and every warning, in the order ``validate_roles`` gives them.

    Raises
    ------
    DataError
        The first problem, as ``validate_roles`` raises it.
    """
    check_roles(df.columns, roles)
    if target_check is None:
        target = check_target(df[roles.target], roles.task)
    else:
        target = target_check(roles.target, roles.task)
    warnings = list(target.notes)
    for role, names in (("numeric", roles.numeric), ("categorical", roles.categorical)):
        for name in names:
            if column_note is None:
                note = prepare_column(target.rows_of(df[name]), role)[1]
            else:
                note = column_note(name, role, target)
            if note:
                warnings.append(note)
    n_rows, n_missing = target.n_rows, target.n_missing
    if n_rows < min_rows:
        if n_missing:
            have = (
                f"Only {n_rows:,} rows have a target value ({n_missing:,} were left out "
                "without one)"
            )
        else:
            have = f"The data has only {n_rows:,} rows"
        raise DataError(
            f"{have}, but at least {min_rows:,} are needed to train: use a larger file."
        )
    return target, [*warnings, *target.class_notes]


def _resolve_task(target: pd.Series, requested: Task | None) -> Task:
    """Infer the task, or check that the one the user asked for fits the target."""
    if requested is None:
        return infer_task(target)
    name = target.name
    labels = as_category_text(target)
    n_classes = int(labels.nunique())
    if n_classes == 0:
        raise _no_values_error(name)
    if n_classes == 1:
        raise _single_value_error(name, labels.iloc[0])
    if requested == "regression":
        _, bad = parse_numeric(target)
        if bad:
            raise DataError(
                f"Regression needs a numeric target, but '{name}' contains text "
                f"({_quote(bad)}): choose binary or multiclass, or another target."
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
