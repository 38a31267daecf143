"""Cell values as training reads them: missing tokens, numbers written as text, labels.

The one place that decides what counts as "no value" (``NA_TOKENS``), which text parses
as a number, and how target labels that differ only in spelling are merged.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = [
    "NA_TOKENS",
    "MAX_ABS_NUMBER",
    "looks_separated",
    "SHOW_VALUES",
    "is_missing_token",
    "parse_distinct_numbers",
    "parse_numeric",
    "normalise_labels",
    "label_spelling_note",
    "bad_numbers_message",
    "target_missing",
    "quote_values",
]

#: Largest magnitude accepted in a numeric column: scaling squares and sums values, so
#: numbers near the float limit (1e308) would overflow to inf.
MAX_ABS_NUMBER = 1e100
# Text that means "no value" in numeric columns and in the target (compared case-insensitively).
NA_TOKENS: frozenset[str] = frozenset(
    {"", "na", "n/a", "nan", "null", "none", "nil", "-", "?", "#n/a", "<na>", "missing"}
)
#: Values quoted in a message before "and N more".
SHOW_VALUES = 5
# A number with group or decimal separators float() does not read: "1,5", "12 345".
_SEPARATED = re.compile(r"[+-]?(?:\d{1,3}(?:[.,' \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+,\d+)")


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


def looks_separated(value: str) -> bool:
    """True for text such as ``"1,5"``, ``"1.234,50"`` or ``"12 345"``: a number written
    with a decimal comma or thousands separators, which ``float`` does not read."""
    return _SEPARATED.fullmatch(str(value).strip()) is not None


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
    shown = quote_values([v for group in clashes[:2] for v in group], 6)
    return (
        f"The target '{target.name}' has classes that differ only in capitals or spaces "
        f"({shown}): they count as different classes. Normalise them to merge them "
        "(the Data page offers it; in Python, embedding_core.normalise_labels)."
    )


def bad_numbers_message(name: object, bad: list[str]) -> str:
    """The refusal of a numeric column holding ``bad`` values (text, infinite or huge)."""
    numbers = [v for v in bad if _is_float(v)]
    infinite = [v for v in numbers if np.isinf(float(v))]
    text = [v for v in bad if v not in numbers]
    if infinite and len(infinite) == len(bad):
        return (
            f"The numeric column '{name}' has infinite values ({quote_values(infinite)}): "
            f"replace them with numbers or leave those cells empty (missing), or use '{name}' "
            "as a categorical column instead."
        )
    if not text:
        huge = [v for v in numbers if v not in infinite]
        return (
            f"The numeric column '{name}' has values too large to scale (beyond "
            f"±{MAX_ABS_NUMBER:g}: {quote_values(huge)}): rescale them (e.g. use thousands), "
            f"or use '{name}' as a categorical column instead."
        )
    separated = [v for v in text if looks_separated(v)]
    if separated:
        return (
            f"The numeric column '{name}' contains values that are not numbers "
            f"({quote_values(text)}); {quote_values(separated, 2)} may be numbers written "
            "with a decimal comma or thousands separators, which are read only when every "
            "value of the column reads one way: write them with a decimal point and no "
            f"separators (1234.5), or use '{name}' as a categorical column instead."
        )
    return (
        f"The numeric column '{name}' contains values that are not numbers "
        f"({quote_values(text)}): fix them, or use '{name}' as a categorical column instead."
    )


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def target_missing(target: pd.Series) -> np.ndarray:
    """Rows whose target is missing: empty cells and ``NA``-like text."""
    missing = target.isna().to_numpy(copy=True)
    if not (pd.api.types.is_numeric_dtype(target.dtype) or pd.api.types.is_bool_dtype(target)):
        codes, uniques = pd.factorize(target, use_na_sentinel=True)
        token = np.fromiter((is_missing_token(v) for v in uniques), bool, len(uniques))
        if len(uniques):  # an all-empty column has no uniques to index
            missing |= (codes >= 0) & token[np.maximum(codes, 0)]
    return missing


def quote_values(values: list[str], limit: int = SHOW_VALUES) -> str:
    """``values`` quoted for a message, at most ``limit`` of them, then "and N more"."""
    shown = [repr(str(v)) for v in values[:limit]]
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return ", ".join(shown) + more
