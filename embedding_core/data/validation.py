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
from embedding_core.data.leakage import leak_note
from embedding_core.data.roles import TASKS, Roles, Task
from embedding_core.data.task import resolve_task, task_note
from embedding_core.data.values import (
    bad_numbers_message,
    label_spelling_note,
    parse_numeric,
    quote_values,
    target_missing,
)
from embedding_core.errors import DataError

__all__ = [
    "ValidatedData",
    "validate_roles",
    "check_roles",
    "check_choice",
    "check_target",
    "prepare_column",
    "prepare_feature",
    "TargetCheck",
    "MIN_ROWS",
]

MIN_ROWS = 50


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
        prepared[name], note = prepare_feature(df[name], role, df[roles.target], target)
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
    missing = target_missing(target)
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
    resolved = resolve_task(kept, task)
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
            labels = quote_values([str(v) for v in rare.index], 3)
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


def prepare_feature(
    values: pd.Series, role: str, target: pd.Series, check: TargetCheck
) -> tuple[pd.Series | np.ndarray, str | None]:
    """``prepare_column`` of a feature on the rows ``check`` keeps, with one more warning
    when the column alone predicts the target almost perfectly (``leakage.leak_note``).

    ``values`` and ``target`` are whole columns of the frame; ``check`` is the target's
    ``check_target``.
    """
    kept = check.rows_of(values)
    prepared, note = prepare_column(kept, role)
    leak = leak_note(kept, check.rows_of(target), check.task)
    return prepared, " ".join(n for n in (note, leak) if n) or None


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
            raise DataError(bad_numbers_message(name, bad))
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
                note = prepare_feature(df[name], role, df[roles.target], target)[1]
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
