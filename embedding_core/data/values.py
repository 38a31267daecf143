"""Cell values as training reads them: missing tokens, numbers written as text, labels.

The one place that decides what counts as "no value" (``NA_TOKENS``), which text parses
as a number (including columns written with decimal commas or thousands separators,
``comma_numbers``), and how target labels that differ only in spelling are merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "NA_TOKENS",
    "MAX_ABS_NUMBER",
    "DECIMAL_COMMA",
    "THOUSANDS_COMMA",
    "comma_numbers",
    "comma_number_style",
    "comma_facts",
    "CommaFacts",
    "first_values_numbers",
    "plain_numbers",
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
#: ``comma_number_style``'s answers: "1.234,50" is 1234.5; "1,234.5" is 1234.5.
DECIMAL_COMMA = "decimal comma"
THOUSANDS_COMMA = "thousands comma"

# Patterns of whole values, run by pandas in Arrow's RE2: [0-9] and no \d or \s (those
# send pandas to Python's re, 10x slower).
_EXPONENT = r"(?:[eE][+-]?[0-9]+)?"
_SPACE = "[ \u00a0\u202f]"  # space, no-break space, narrow no-break space (French)
_WHOLE = r"(?:0|[1-9][0-9]*)"  # no leading zero: "007" or "01,5" are codes, not numbers
# "820,23", "1 234,5", "1.234,50"; dot groups only before a comma ("1.500" may be 1.5)
_DECIMAL_COMMA = (
    rf"[+-]?(?:{_WHOLE}(?:,[0-9]+)?|[1-9][0-9]{{0,2}}(?:{_SPACE}[0-9]{{3}})+(?:,[0-9]+)?"
    rf"|[1-9][0-9]{{0,2}}(?:\.[0-9]{{3}})+,[0-9]+){_EXPONENT}"
)
# "12,345", "1,234,567.5" and plain numbers such as "12.5"
_THOUSANDS_COMMA = rf"[+-]?(?:{_WHOLE}|[1-9][0-9]{{0,2}}(?:,[0-9]{{3}})+)(?:\.[0-9]+)?{_EXPONENT}"
# Read both ways: "1,500" is 1.5 with a decimal comma, 1500 with a thousands comma.
_EITHER = r"[+-]?[1-9][0-9]{0,2},[0-9]{3}"
# A number with group or decimal separators float() does not read: "1,5", "12 345".
_SEPARATED = re.compile(r"[+-]?(?:\d{1,3}(?:[.,' \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+,\d+)")
_NUMBER_CHARS = re.compile(r"[+-]?[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202feE+-]*")
_PROBE_VALUES = 256  # values looked at before the whole column is


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


def comma_numbers(column: pd.Series, delimiter: str) -> tuple[pd.Series, str] | None:
    """A text column of numbers written with commas, rewritten as plain number text.

    ``"1.234,50"`` becomes ``"1234.50"`` and ``"12,345"`` becomes ``"12345"`` when
    ``comma_number_style`` finds the whole column unambiguous; missing tokens stay.

    Returns
    -------
    tuple of (pandas.Series, str) or None
        The rewritten column (text) and its style (``DECIMAL_COMMA`` or
        ``THOUSANDS_COMMA``); None to keep the column as it is. A column without a
        comma costs one byte search, a column of words a look at its first values.

    Examples
    --------
    >>> column, style = comma_numbers(pd.Series(["1.234,50", "820,23"], dtype="str"), ";")
    >>> column.tolist(), style
    (['1234.50', '820.23'], 'decimal comma')
    """
    if not _may_contain(column, ",") or not first_values_numbers(column):
        return None  # words: decided on the first values, without a pass over the column
    text = column.astype("str")
    facts = comma_facts(text, delimiter, whole=True)
    style = facts.style(delimiter)
    return None if style is None else (plain_numbers(text, style, facts.space), style)


def first_values_numbers(column: pd.Series) -> bool:
    """Whether the first values of ``column`` (the first 256 present among its first 1,024)
    are numbers or missing tokens; if not, ``comma_numbers`` keeps it as it is."""
    probe = column.head(_PROBE_VALUES * 4).dropna().head(_PROBE_VALUES)
    return all(_NUMBER_CHARS.fullmatch(v.strip()) or is_missing_token(v) for v in probe)


def plain_numbers(text: pd.Series, style: str, spaced: bool) -> pd.Series:
    """``text``, numbers written in ``style``, as plain number text (``comma_numbers``);
    ``spaced``: the column has a value with a space (thousands: values are stripped)."""
    if style == THOUSANDS_COMMA:
        text = text.str.strip() if spaced else text
        return text.str.replace(",", "", regex=False)
    if any(_may_contain(text, group) for group in ". \u00a0\u202f"):
        text = text.str.replace("[. \u00a0\u202f]", "", regex=True)
    return text.str.replace(",", ".", regex=False)


@dataclass(frozen=True)
class CommaFacts:
    """What ``comma_number_style`` decides on, for a part of a column: ``a | b`` gives the
    facts of both parts, ``style`` the decision.

    Attributes
    ----------
    commas : bool
        A value has a comma.
    either : bool
        Every value with a comma reads both ways ("1,500").
    decimal, thousands : bool
        Every value is a number with an optional decimal comma ("1 234,5"), or with
        optional thousands commas ("1,234.5"); missing tokens allowed.
    point, space : bool
        A value has a decimal point, a space.
    """

    commas: bool = False
    either: bool = True
    decimal: bool = True
    thousands: bool = True
    point: bool = False
    space: bool = False

    def __or__(self, other: CommaFacts) -> CommaFacts:
        return CommaFacts(
            self.commas or other.commas,
            self.either and other.either,
            self.decimal and other.decimal,
            self.thousands and other.thousands,
            self.point or other.point,
            self.space or other.space,
        )

    def style(self, delimiter: str) -> str | None:
        """``comma_number_style``'s answer for a column with these facts."""
        if not self.commas:
            return None
        if delimiter != "," and self.decimal:
            return None if self.either else DECIMAL_COMMA
        if self.thousands:
            return THOUSANDS_COMMA if delimiter == "," or not self.either or self.point else None
        return None


def comma_facts(values: pd.Series, delimiter: str, whole: bool = False) -> CommaFacts:
    """The ``CommaFacts`` of a text column; ``whole``: ``values`` is the whole column, and
    what ``style`` then does not look at is not computed."""
    commas = values[values.str.contains(",", regex=False, na=False)]
    if whole and commas.empty:
        return CommaFacts()
    either = _all_match(commas.head(_PROBE_VALUES), _EITHER) and _all_match(commas, _EITHER)
    decimal = delimiter != "," and _all_match(values, _DECIMAL_COMMA)
    thousands = not (whole and decimal) and _all_match(values, _THOUSANDS_COMMA)
    point = thousands and _may_contain(values, ".") and values.str.contains(".", regex=False).any()
    return CommaFacts(
        not commas.empty, either, decimal, thousands, bool(point), _may_contain(values, " ")
    )


def comma_number_style(values: pd.Series, delimiter: str) -> str | None:
    """How a column writes numbers with commas, when all its values say the same.

    Parameters
    ----------
    values : pandas.Series of str
        A column of text; missing cells and missing tokens (``"NA"``) are allowed.
    delimiter : str
        The file's delimiter. In a comma-separated file a value with a comma was
        quoted on purpose and "1,5" may be a list: decimal commas are not read there.

    Returns
    -------
    str or None
        ``DECIMAL_COMMA`` when every value is a number with an optional decimal comma
        ("820,23", "1.234,50", "1 234,5") and one at least cannot be a thousands group
        ("1,5", "0,250"); ``THOUSANDS_COMMA`` when every value is a number with optional
        groups of exactly three digits ("12,345", "1,234,567.5") and, outside
        comma-separated files, one at least cannot be a decimal comma ("1,234,567",
        "12.5"); None when no value has a comma, a value is not such a number ("abc",
        "007", "01,5", "1.500"), or every comma reads both ways ("1,500", "2,250").
    """
    return comma_facts(values, delimiter, whole=True).style(delimiter)


def _all_match(values: pd.Series, pattern: str) -> bool:
    """Every value matches ``pattern`` (surrounding spaces allowed) or is missing."""
    fails = values[~values.str.fullmatch(rf"[ \t]*(?:{pattern})[ \t]*", na=True)]
    return all(is_missing_token(v) for v in fails.unique())


def looks_separated(value: str) -> bool:
    """True for text such as ``"1,5"``, ``"1.234,50"`` or ``"12 345"``: a number written
    with a decimal comma or thousands separators, which ``float`` does not read."""
    return _SEPARATED.fullmatch(str(value).strip()) is not None


def _may_contain(column: pd.Series, text: str) -> bool:
    """False when no value of ``column`` contains ``text``; a byte search of Arrow's buffer."""
    import pyarrow as pa

    chunks = []
    if getattr(column.dtype, "storage", None) == "pyarrow":
        chunks = pa.chunked_array(pa.array(column.array)).chunks
    if not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in chunks):
        chunks = []  # another layout: ask pandas
    if not chunks:
        return bool(column.astype("str").str.contains(text, regex=False).any())
    needle = text.encode("utf-8")
    for chunk in chunks:
        _, offsets, data = chunk.buffers()  # the values' bytes, one after the other
        if data is None or len(chunk) == 0:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        start, end = np.frombuffer(offsets, width)[[chunk.offset, chunk.offset + len(chunk)]]
        if data.slice(int(start), int(end - start)).to_pybytes().find(needle) >= 0:
            return True  # (the bytes of this slice only: a frame's head shares its buffer)
    return False


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
