"""Guess each column's role from combined evidence, and say why.

Two questions, each answered with a reason a user can check:

* ``input_role``: should a column be a category, a number or ignored? Whole numbers
  with few values, gaps (20, 30, ... 190) or names such as ``type`` are codes, hence
  categories; counts and named quantities (``age``, ``days``) stay numbers.
* ``target_scores``: how likely is each column to be what the user wants to predict?
  Evidence adds up: the kind of values (two values, a few classes, a measured
  quantity), the position (last, or first), the name (``target``, ``churn``,
  ``price``), being the only yes/no column of the table, and, against it, being one
  of a family of similar 0/1 columns (``Soil_Type1`` ... ``Soil_Type40``) or a
  one-letter coordinate next to ``x``. No single weak signal decides alone: a column
  needs ``MIN_TARGET_SCORE`` points to be suggested.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ColumnFacts",
    "TargetGuess",
    "input_role",
    "target_scores",
    "best_target",
    "is_clear",
    "name_words",
    "quantity_name",
    "MIN_TARGET_SCORE",
    "MAX_TARGET_CLASSES",
    "SMALL_CODE_CARDINALITY",
    "MAX_CODE_CARDINALITY",
]

SMALL_CODE_CARDINALITY = 5  # whole numbers with this few values are categories
MAX_CODE_CARDINALITY = 50  # whole numbers with more values are quantities unless named codes
MAX_TARGET_CLASSES = 20  # text with more values is not suggested as a target
MIN_TARGET_SCORE = 3.0  # a suggestion needs at least this much evidence
CLEAR_MARGIN = 1.5  # the best candidate is "clear" when it leads by this much

# Points per piece of evidence (see target_scores).
_BINARY = 2.0
_FEW_CLASSES = 1.0
_MEASURE = 0.5
_COUNT = 0.25
_LAST = 2.5
_FIRST = 0.75
_STRONG_NAME = 3.0
_TARGET_WORD = 3.0
_TARGET_WORD_PART = 2.5
_QUANTITY_NAME = 3.0
_ONLY_BINARY = 1.5
_FLAG_PREFIX = -1.0
_FAMILY = -2.5
_FAMILY_OF_TWO = -1.5

# Name parts that suggest a numeric column holds codes, not quantities. Words of four
# letters or more also count inside a longer name ("MOSTYPE").
_CODE_WORDS = frozenset(
    {
        "id", "ids", "code", "codes", "cd", "type", "zip", "zipcode", "postcode", "postal",
        "category", "cat", "group", "segment", "region", "area", "store", "shop", "branch",
        "sku", "product", "item", "dept", "department", "naics", "sic", "icd", "fips",
        "class", "status", "source", "channel", "brand", "model", "role", "title",
        "resource", "mgr", "manager", "user", "customer", "client", "account", "employee",
        "vendor", "supplier", "merchant", "agent", "company", "country", "city", "state",
        "county", "family", "season", "weekday", "month", "hour", "hr", "weather",
    }
)  # fmt: skip
# Name parts that say a whole-number column measures an amount (it stays a number).
_QUANTITY_WORDS = frozenset(
    {
        "age", "years", "year", "count", "cnt", "num", "number", "qty", "quantity", "days",
        "nights", "hours", "minutes", "seconds", "months", "weeks", "duration", "length",
        "time", "size", "amount", "amnt", "price", "income", "salary", "score", "rating",
        "total", "weight", "height", "distance", "rate", "percent", "pct", "sales",
        "revenue", "cost", "charges", "balance", "visits", "absences", "failures", "n",
    }
)  # fmt: skip
# Name parts of numbers people often want to predict (a regression target).
_TARGET_QUANTITY_WORDS = frozenset(
    {
        "price", "saleprice", "sales", "revenue", "cnt", "count", "demand", "rating",
        "score", "quality", "salary", "income", "value", "profit", "cost", "charges",
        "amount", "spend", "spent", "sold", "units", "volume", "yield", "progression",
    }
)  # fmt: skip
# Name parts that suggest a column is what people want to predict.
_TARGET_WORDS = frozenset(
    {
        "target", "label", "y", "class", "outcome", "response", "responded", "churn",
        "churned", "default", "defaulted", "fraud", "fraudulent", "converted",
        "conversion", "subscribed", "readmitted", "readmission", "canceled", "cancelled",
        "bad", "approved", "clicked", "click", "purchased", "survived", "success", "won",
        "action", "result", "attrition", "left", "diagnosis", "recid", "recidivism",
        "species", "grade", "passed", "pass", "failed",
    }
)  # fmt: skip
_STRONG_TARGET_NAMES = frozenset({"target", "label", "y", "class", "outcome", "response"})
_FLAG_PREFIXES = frozenset({"has", "with", "no", "num", "n"})
_FAMILY_STOP_WORDS = frozenset({"is", "has", "n", "num", "no", "the", "of", "in", "to"})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def name_words(name: str) -> list[str]:
    """``"isFraud_flag2"`` -> ``["is", "fraud", "flag", "2"]``."""
    return [w.lower() for w in _WORD.findall(str(name))]


def _matches(name: str, vocabulary: frozenset[str], *, inside: bool = True) -> str | None:
    """The first word of ``name`` found in ``vocabulary``.

    With ``inside``, words of four letters or more also match inside a longer word
    (``"type"`` in ``"MOSTYPE"``).
    """
    words = name_words(name)
    for word in words:
        if word in vocabulary:
            return word
    if not inside:
        return None
    flat = "".join(w for w in words if not w.isdigit())
    for word in sorted(vocabulary, key=len, reverse=True):
        if len(word) >= 4 and word in flat:
            return word
    return None


def quantity_name(name: str) -> str | None:
    """The word that names ``name`` as a measured amount (``"age"``, ``"price"``), if any."""
    return _matches(name, _QUANTITY_WORDS)


@dataclass(frozen=True)
class ColumnFacts:
    """What the profile learned about one column, as the guess needs it.

    Parameters
    ----------
    name : str
    kind : {"numeric", "text", "boolean", "empty"}
    n_distinct : int
        Distinct non-missing values.
    ignored : bool
        Empty, constant, ID-like or almost always missing.
    role : str
        The suggested input role ("categorical", "numeric" or "ignore").
    count_like : bool
        Whole numbers that look like a count (few values, the most common near the
        smallest); such a column is a poor target.
    """

    name: str
    kind: str
    n_distinct: int
    ignored: bool
    role: str
    count_like: bool = False


@dataclass(frozen=True)
class TargetGuess:
    """How likely one column is the target: points and the reasons behind them."""

    score: float
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        """The reasons as one phrase, e.g. ``"last column, 2 values"``."""
        return ", ".join(self.reasons)


def input_role(
    name: str, kind: str, n_distinct: int, ratio: float, values: np.ndarray, counts: np.ndarray
) -> tuple[str, str, bool]:
    """Category or number for a column that is not ignored, with the reason.

    Parameters
    ----------
    name : str
    kind : {"numeric", "text", "boolean"}
    n_distinct : int
    ratio : float
        Distinct values per filled row.
    values, counts : numpy.ndarray
        For numeric columns, the distinct finite values (float) and how often each
        occurs; empty otherwise.

    Returns
    -------
    role : {"categorical", "numeric"}
    reason : str
        A short phrase shown in the profile, e.g. "whole numbers with gaps (20 to 190): codes".
    count_like : bool
        Whether the values look like a count.
    """
    if kind == "boolean":
        return "categorical", "two values", False
    if kind != "numeric":
        return "categorical", f"text, {n_distinct:,} values", False
    whole = bool(values.size) and bool(np.all(values == np.round(values)))
    if not whole:
        return "numeric", f"numbers with decimals, {n_distinct:,} values", False
    low, high = float(values.min()), float(values.max())
    span = f"{low:,.0f} to {high:,.0f}"
    count_like = n_distinct > SMALL_CODE_CARDINALITY and _shaped_like_a_count(values, counts)
    if n_distinct <= SMALL_CODE_CARDINALITY:
        return "categorical", f"whole numbers, only {n_distinct} values: categories", count_like
    # a whole word wins over a word inside another ("tenure_months" is not a "month" code)
    code_word = _matches(name, _CODE_WORDS, inside=not _matches(name, _QUANTITY_WORDS))
    if code_word and ratio <= 0.5:
        return "categorical", f"whole numbers named like a code ('{code_word}')", False
    quantity = quantity_name(name)
    if quantity:
        return "numeric", f"whole numbers named like a quantity ('{quantity}')", count_like
    if n_distinct <= MAX_CODE_CARDINALITY:
        if high - low + 1 >= 3 * n_distinct:
            return "categorical", f"{n_distinct} whole numbers with gaps ({span}): codes", False
        if not count_like:
            return (
                "categorical",
                f"{n_distinct} whole numbers ({span}), not shaped like a count: codes",
                False,
            )
        return "numeric", f"{n_distinct} whole numbers ({span}) shaped like a count", True
    return "numeric", f"whole numbers, {n_distinct:,} values ({span})", False


#: A count's shape is judged on the values that hold this share of the rows, smallest
#: first: counts have long, sparse tails (a campaign's 1-56 calls: 95% of rows at 10 or
#: fewer, the rest spread with gaps), which say nothing about the bulk's shape.
COUNT_BULK = 0.95


def _shaped_like_a_count(values: np.ndarray, counts: np.ndarray) -> bool:
    """Over the bulk of the rows (``COUNT_BULK``, smallest values first): non-negative,
    few gaps, at most two peaks, the most common value in the lower half."""
    order = np.argsort(values)
    v, c = values[order], np.asarray(counts, dtype=np.float64)[order]
    if v[0] < 0:
        return False
    bulk = max(int(np.searchsorted(np.cumsum(c) / c.sum(), COUNT_BULK)) + 1, 3)
    v, c = v[:bulk], c[:bulk]
    if v[0] < 0 or v[-1] - v[0] + 1 > 1.25 * len(v) + 1 or len(v) < 3:
        return False
    if v[int(np.argmax(c))] > (v[0] + v[-1]) / 2:
        return False
    inner = int(np.sum((c[1:-1] > c[:-2]) & (c[1:-1] > c[2:])))
    peaks = inner + int(c[0] > c[1]) + int(c[-1] > c[-2])
    return peaks <= 2


def _family_keys(name: str) -> list[str]:
    words = [w for w in name_words(name) if not w.isdigit()]
    keys = []
    if re.search(r"\d$", str(name)):
        keys.append("stem:" + "_".join(words))
    content = [w for w in words if w not in _FAMILY_STOP_WORDS]
    if len(words) >= 2 and content:
        keys.append("first:" + content[0])
        keys.append("last:" + content[-1])
    return keys


def _flag_families(facts: Sequence[ColumnFacts]) -> list[int]:
    """For each 0/1 column, the size of the largest family of similar flag-like columns.

    Family members share a name stem (``Soil_Type1``, ``Soil_Type2``), a first word
    (``genre_action``, ``genre_war``) or a last word (``StateHoliday``,
    ``SchoolHoliday``) and have at most ``SMALL_CODE_CARDINALITY`` values.
    """
    small = [not f.ignored and f.n_distinct <= SMALL_CODE_CARDINALITY for f in facts]
    keys = [_family_keys(f.name) if ok else [] for f, ok in zip(facts, small, strict=True)]
    sizes = Counter(k for ks in keys for k in set(ks))
    return [
        max((sizes[k] for k in ks), default=1) if f.n_distinct == 2 else 1
        for f, ks in zip(facts, keys, strict=True)
    ]


def target_scores(facts: Sequence[ColumnFacts]) -> list[TargetGuess]:
    """Score every column as a possible target; 0 points and no reason for impossible ones.

    Parameters
    ----------
    facts : sequence of ColumnFacts
        One per column, in the table's order (position is evidence).

    Returns
    -------
    list of TargetGuess
        Same order. A column with ``score >= MIN_TARGET_SCORE`` may be suggested.
    """
    n = len(facts)
    families = _flag_families(facts)
    n_binary = sum(f.n_distinct == 2 and not f.ignored for f in facts)
    single_letters = sum(len(str(f.name).strip()) == 1 for f in facts)
    guesses = []
    for i, f in enumerate(facts):
        if f.ignored or f.n_distinct < 2:
            guesses.append(TargetGuess(0.0, ()))
            continue
        points: list[tuple[float, str]] = []
        many = f.n_distinct > MAX_TARGET_CLASSES
        code_name = f.role == "categorical" and _matches(f.name, _CODE_WORDS) is not None
        if f.n_distinct == 2:
            points.append((_BINARY, "2 values"))
            if n_binary == 1 and n > 2:
                points.append((_ONLY_BINARY, "the only two-valued column"))
        elif f.kind == "numeric" and (many or quantity_name(f.name)) and not code_name:
            points.append((_MEASURE, f"a number with {f.n_distinct:,} values"))
        elif f.count_like and f.kind == "numeric":
            points.append((_COUNT, f"a count with {f.n_distinct} values"))
        elif not many:
            points.append((_FEW_CLASSES, f"{f.n_distinct} classes"))
        else:  # text or codes with too many values to be classes
            guesses.append(TargetGuess(0.0, ()))
            continue
        if i == n - 1 and n > 1:
            points.append((_LAST, "last column"))
        elif i == 0 and n > 2:
            points.append((_FIRST, "first column"))
        name = str(f.name).strip()
        words = name_words(name)
        one_letter_coordinate = len(name) == 1 and single_letters >= 2
        if name.lower() in _STRONG_TARGET_NAMES and not one_letter_coordinate:
            points.append((_STRONG_NAME, f"named '{name}'"))
        elif len(words) == 1 and words[0] in _TARGET_WORDS and not one_letter_coordinate:
            points.append((_TARGET_WORD, "named like a target"))
        elif (word := _matches(name, _TARGET_WORDS - {"y"})) and not one_letter_coordinate:
            points.append((_TARGET_WORD_PART, f"'{word}' in the name"))
        if words and words[0] in _FLAG_PREFIXES and len(words) > 1:
            points.append((_FLAG_PREFIX, f"'{words[0]}_' reads like an input flag"))
        if f.kind == "numeric" and many and (word := _matches(name, _TARGET_QUANTITY_WORDS)):
            points.append((_QUANTITY_NAME, f"a quantity named '{word}'"))
        if families[i] >= 3:
            points.append((_FAMILY, f"one of {families[i]} similar two-valued columns"))
        elif families[i] == 2:
            points.append((_FAMILY_OF_TWO, "has a similar two-valued sibling"))
        score = sum(p for p, _ in points)
        reasons = tuple(r for p, r in points if p > 0)
        guesses.append(TargetGuess(round(score, 2), reasons))
    return guesses


def best_target(guesses: Sequence[TargetGuess]) -> int | None:
    """Index of the suggested target (ties go to the rightmost), or None below the bar.

    A table needs a second column to learn from, so one column is never a target.
    """
    if len(guesses) < 2:
        return None
    best = max(range(len(guesses)), key=lambda i: (guesses[i].score, i))
    return best if guesses[best].score >= MIN_TARGET_SCORE else None


def is_clear(guesses: Sequence[TargetGuess], best: int) -> bool:
    """Whether the best candidate leads every other column by ``CLEAR_MARGIN`` points."""
    others = [g.score for i, g in enumerate(guesses) if i != best]
    return not others or guesses[best].score - max(others) >= CLEAR_MARGIN
