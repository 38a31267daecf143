"""Describe each column of a frame and suggest a sensible default choice of roles.

``profile_columns`` gives one row per column (what kind of values, how many distinct,
how many missing, a few examples, a suggested role and a warning). ``suggest_roles``
turns that into a ``Roles`` the user can start from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain

import numpy as np
import pandas as pd

from embedding_core.data.leakage import Leak, leaking_columns
from embedding_core.data.role_guess import (
    ColumnFacts,
    best_target,
    input_role,
    is_clear,
    quantity_name,
    target_scores,
)
from embedding_core.data.roles import Roles
from embedding_core.data.task import infer_task
from embedding_core.data.values import (
    looks_separated,
    parse_distinct_numbers,
    quote_values,
    target_missing,
)
from embedding_core.errors import DataError

__all__ = [
    "profile_columns",
    "suggest_roles",
    "suggested_leaks",
    "candidate_inputs",
    "target_guess",
    "no_target_note",
    "PROFILE_COLUMNS",
    "KINDS",
    "SUGGESTED_ROLES",
]

PROFILE_COLUMNS: tuple[str, ...] = (
    "column",
    "kind",
    "dtype",
    "n_distinct",
    "missing_share",
    "examples",
    "suggested_role",
    "warning",
    "id_like",
    "constant",
    "role_reason",
    "input_role",
    "target_score",
    "target_reason",
)
KINDS: tuple[str, ...] = ("numeric", "text", "boolean", "empty")
SUGGESTED_ROLES: tuple[str, ...] = ("categorical", "numeric", "target", "ignore")

ID_LIKE_TEXT_RATIO = 0.9  # text: distinct values / filled rows at or above this is ID-like
ID_LIKE_INTEGER_RATIO = 0.99  # whole numbers: nearly all different (amounts may be 0.9)
ID_LIKE_MIN_ROWS = 20  # below this, every column would look ID-like
MOSTLY_MISSING = 0.5  # warn at or above this missing share
IGNORE_MISSING = 0.95  # suggest ignoring at or above this missing share
_N_EXAMPLES = 3
_EXAMPLE_CHARS = 30
_PROBE = 64

_BOOLEAN_PAIRS = [
    {"0", "1"},
    {"true", "false"},
    {"yes", "no"},
    {"y", "n"},
    {"t", "f"},
]
_LEADING_ZERO = re.compile(r"^\s*[+-]?0\d")


def _examples(values: list[object]) -> str:
    shown = []
    for v in values[:_N_EXAMPLES]:
        text = str(v).replace("\n", " ").replace("\r", " ")
        if len(text) > _EXAMPLE_CHARS:
            text = text[: _EXAMPLE_CHARS - 1] + "…"
        shown.append(f'"{text}"' if "," in text else text)  # keep the list readable
    return ", ".join(shown)


def _words(numbers: np.ndarray, bad: np.ndarray) -> bool:
    """Whether ``parse_distinct_numbers`` found values that are no number (finite or not)."""
    return bool((bad & np.isnan(numbers)).any())


def _separated_numbers(uniques: np.ndarray) -> bool:
    """Every value a number or missing but one at least written with separators ("1,500")."""
    numbers, bad = parse_distinct_numbers(uniques[:_PROBE])  # words fail here, quickly
    if not all(looks_separated(v) for v in uniques[:_PROBE][bad & np.isnan(numbers)]):
        return False
    numbers, bad = parse_distinct_numbers(uniques)
    words = uniques[bad & np.isnan(numbers)]
    return len(words) > 0 and all(looks_separated(v) for v in words)


def _first_separated(values: Iterable[object], n: int = 2) -> list[str]:
    """The first ``n`` distinct values written with separators, for a message."""
    found: list[str] = []
    for v in values:
        if looks_separated(v) and str(v) not in found:
            found.append(str(v))
            if len(found) == n:
                break
    return found


def _profile_one(name: str, s: pd.Series, n_rows: int) -> dict[str, object]:
    n_missing = int(s.isna().sum())
    counts = s.value_counts(dropna=True, sort=False)
    n_distinct = len(counts)
    n_filled = n_rows - n_missing
    uniques = counts.index.to_numpy(dtype=object)
    kind = "text"
    whole = False
    numbers = np.empty(0)
    beyond = uniques[:0]
    if n_distinct == 0:
        kind = "empty"
    elif pd.api.types.is_bool_dtype(s.dtype):
        kind = "boolean"
    elif pd.api.types.is_numeric_dtype(s.dtype):
        kind = "numeric"
        numbers = uniques.astype(np.float64)
        finite = numbers[np.isfinite(numbers)]
        whole = bool(np.all(finite == np.round(finite)))
    else:
        if not _words(*parse_distinct_numbers(uniques[:_PROBE])):
            numbers, bad = parse_distinct_numbers(uniques)
            finite = numbers[np.isfinite(numbers)]
            beyond = uniques[bad & ~np.isnan(numbers)]  # "inf", "1e400": numbers, refused
            if not _words(numbers, bad) and finite.size:
                leading_zero = any(_LEADING_ZERO.match(str(u)) for u in uniques)
                if not leading_zero:  # zip codes and IDs such as "00123" stay text
                    kind = "numeric"
                    whole = bool(np.all(finite == np.round(finite)))
                    # "NA", "null", "?"... in a numeric column are missing values.
                    tokens = np.isnan(numbers)
                    if tokens.any():
                        n_missing += int(counts.to_numpy()[tokens].sum())
                        n_filled = n_rows - n_missing
                        uniques = uniques[~tokens]
                        counts = counts[~tokens]
                        numbers = numbers[~tokens]
                        n_distinct = len(uniques)
    if kind != "numeric":
        beyond = uniques[:0]  # "inf" among words is a word
    if n_distinct == 2 and kind != "boolean":
        pair = {str(v).strip().lower() for v in uniques}
        if kind == "numeric":
            pair = {f"{float(v):g}" for v in uniques}
        if pair in _BOOLEAN_PAIRS:
            kind = "boolean"

    constant = n_distinct == 1
    ratio = n_distinct / n_filled if n_filled else 0.0
    id_like = False
    if n_filled >= ID_LIKE_MIN_ROWS and n_distinct > 2:
        if kind == "text":
            id_like = ratio >= ID_LIKE_TEXT_RATIO
        elif kind == "numeric" and whole and not quantity_name(name):  # prices stay
            id_like = ratio >= ID_LIKE_INTEGER_RATIO
    missing_share = n_missing / n_rows if n_rows else 0.0
    # the most frequent first, ties in order of appearance (numpy: cheap per column)
    top = np.argsort(-counts.to_numpy(), kind="stable")[:_N_EXAMPLES]
    frequent = [uniques[i] for i in top]

    warnings = []
    if kind == "empty":
        warnings.append("empty in every row")
    elif constant:
        warnings.append(f"same value in every row ({_examples(frequent)})")
    separated = kind == "text" and _separated_numbers(uniques)
    if separated:
        shown = quote_values(_first_separated(chain(frequent, uniques)))
        warnings.append(
            f"numbers written with separators that read two ways ({shown}), kept as text: "
            "write them with a decimal point and no separators to use them as numbers"
        )
    elif id_like:
        warnings.append("looks like an ID (almost one distinct value per row)")
    if len(beyond):
        warnings.append(
            f"infinite or too large values ({quote_values([str(v) for v in beyond], 2)}), "
            "refused in a numeric column: leave those cells empty or write a number"
        )
    if kind != "empty" and missing_share >= MOSTLY_MISSING:
        warnings.append(f"missing in {missing_share:.0%} of rows")

    ignore = kind == "empty" or constant or id_like or missing_share >= IGNORE_MISSING
    ignore = ignore or len(beyond) > 0
    count_like = False
    if ignore:
        role, reason = "ignore", warnings[0] if warnings else "almost always missing"
    else:
        values, freq = np.empty(0), np.empty(0)
        if kind == "numeric":
            keep = np.isfinite(numbers)
            values, freq = numbers[keep], counts.to_numpy()[keep]
        role, reason, count_like = input_role(name, kind, n_distinct, ratio, values, freq)
    return {
        "column": name,
        "kind": kind,
        "dtype": str(s.dtype),
        "n_distinct": n_distinct,
        "missing_share": missing_share,
        "examples": _examples(frequent),
        "suggested_role": role,
        "warning": "; ".join(warnings),
        "id_like": id_like,
        "constant": constant,
        "role_reason": reason,
        "input_role": role,
        "_count_like": count_like,
    }


def profile_columns(df: pd.DataFrame) -> pd.DataFrame:
    """One row per column describing its values and suggesting a role.

    Parameters
    ----------
    df : pandas.DataFrame
        Usually the output of ``read_csv`` (all text); numeric dtypes work too.

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``kind`` ("numeric", "text", "boolean" or "empty"),
        ``dtype``, ``n_distinct`` (missing excluded), ``missing_share`` (0 to 1),
        ``examples`` (the most frequent values joined by ", "), ``suggested_role``
        ("categorical", "numeric", "target" or "ignore"), ``warning`` ("" if none),
        ``id_like`` and ``constant`` (bool), ``role_reason`` (why that role),
        ``input_role`` (the role if the column is not the target),
        ``target_score`` (evidence that it is the target; 0 when it cannot be) and
        ``target_reason`` (that evidence in words). At most one column is suggested
        as the target.

    Examples
    --------
    >>> df = pd.DataFrame({"city": ["Oslo", "Rome"] * 10, "bought": ["0", "1"] * 10})
    >>> profile_columns(df)[["column", "suggested_role"]].to_dict("list")
    {'column': ['city', 'bought'], 'suggested_role': ['categorical', 'target']}
    """
    n_rows = len(df)
    rows = [_profile_one(str(c), df.iloc[:, i], n_rows) for i, c in enumerate(df.columns)]
    facts = [
        ColumnFacts(
            name=str(r["column"]),
            kind=str(r["kind"]),
            n_distinct=int(r["n_distinct"]),
            ignored=r["suggested_role"] == "ignore" or r["missing_share"] >= MOSTLY_MISSING,
            role=str(r["suggested_role"]),
            count_like=bool(r.pop("_count_like")),
        )
        for r in rows
    ]
    guesses = target_scores(facts)
    for row, guess in zip(rows, guesses, strict=True):
        row["target_score"] = guess.score
        row["target_reason"] = guess.reason
    best = best_target(guesses)
    if best is not None:
        rows[best]["suggested_role"] = "target"
        if not is_clear(guesses, best):
            rows[best]["target_reason"] += " (a close call: check it)"
    profile = pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))
    return profile.astype(
        {
            "n_distinct": np.int64,
            "missing_share": np.float64,
            "id_like": bool,
            "constant": bool,
            "target_score": np.float64,
        }
    )


def target_guess(profile: pd.DataFrame) -> tuple[str, str] | None:
    """The suggested target of a ``profile_columns`` table and why, e.g.
    ``("churned", "last column, 2 values")``; None when no column is suggested."""
    rows = profile[profile["suggested_role"] == "target"]
    if rows.empty:
        return None
    return str(rows["column"].iloc[0]), str(rows["target_reason"].iloc[0])


def no_target_note(profile: pd.DataFrame) -> str:
    """Why no column of a ``profile_columns`` table is suggested as the target, as a
    sentence that says what to do (``target_guess`` returned None)."""
    if len(profile) < 2:
        return (
            "The file has one column: a model needs a target and at least one other column "
            "to learn it from. Upload a file with at least two columns."
        )
    constant = [str(c) for c in profile.loc[profile["constant"].astype(bool), "column"]]
    why = ""
    if constant:
        shown = ", ".join(constant[:3]) + (
            f" and {len(constant) - 3} more" if len(constant) > 3 else ""
        )
        verb = "has" if len(constant) == 1 else "have"
        why = f" ({shown} {verb} the same value in every row: nothing to predict)"
    return f"No column looks clearly like a target{why}: choose the one to predict."


def suggest_roles(
    df: pd.DataFrame, profile: pd.DataFrame | None = None, target: str | None = None
) -> Roles | None:
    """A default choice of roles from the column profile.

    Parameters
    ----------
    df : pandas.DataFrame
    profile : pandas.DataFrame or None
        Output of ``profile_columns(df)``; computed when not given.
    target : str or None
        The target the user chose; ``None`` takes the suggested one. Every other
        column keeps its suggested input role (``input_role``).

    Returns
    -------
    Roles or None
        The target, the columns suggested as categorical and numeric, and
        ``task=None`` (inferred at validation). A column that alone predicts the target
        almost perfectly (``suggested_leaks``) is left out, unless every categorical
        column is one. ``None`` when no column looks like a
        target (and none is given) or no column can be categorical.
    """
    if profile is None:
        profile = profile_columns(df)
    if target is None:
        targets = profile.loc[profile["suggested_role"] == "target", "column"].tolist()
        if not targets:
            return None
        target = targets[0]
    inputs = profile[profile["column"] != target]
    by_role = inputs.groupby("input_role", sort=False)["column"].agg(list).to_dict()
    categorical = by_role.get("categorical", [])
    if not categorical:
        return None
    leaks = {leak.column for leak in suggested_leaks(df, target, profile)}
    if set(categorical) - leaks:  # only leaks: keep them, the checks warn about each
        categorical = [c for c in categorical if c not in leaks]
    else:
        leaks = set()
    return Roles(
        categorical=tuple(categorical),
        target=target,
        numeric=tuple(c for c in by_role.get("numeric", []) if c not in leaks),
    )


def suggested_leaks(df: pd.DataFrame, target: str, profile: pd.DataFrame) -> list[Leak]:
    """The columns ``suggest_roles`` would suggest as inputs for ``target`` but leaves out
    because each alone predicts it almost perfectly (``leakage.leaking_columns``, with
    the task inferred from the target); [] when the target cannot be checked."""
    keep = ~target_missing(df[target])
    try:
        task = infer_task(df.loc[keep, target])
    except DataError:
        return []
    return leaking_columns(df, target, candidate_inputs(profile, target), task)


def candidate_inputs(profile: pd.DataFrame, target: str) -> list[str]:
    """The columns of a ``profile_columns`` table that may be inputs for ``target``: every
    other column whose suggested input role is not "ignore"."""
    rows = profile[(profile["column"] != target) & (profile["input_role"] != "ignore")]
    return rows["column"].astype(str).tolist()
