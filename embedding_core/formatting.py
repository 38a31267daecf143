"""How numbers are written for people: one home, used by the app and the CLI.

* ``number``: ``11,590`` rather than ``1.159e+04``; ``0.0123``; never an exponent
  for ordinary sizes.
* ``percent``: probabilities and shares as ``50.0%`` (``<0.1%`` near zero).
* ``metric``: a validation metric to a sensible precision (AUC ``0.812``,
  accuracy ``81.2%``, RMSE like any other number).
* ``signed`` / ``points``: differences with their sign, ``+0.031`` or ``-2.5 points``;
  a difference that rounds to zero is written ``0.000`` without a sign, so no arrow
  claims it went up (``is_zero`` tells a caller to drop the arrow).
* ``plotly_format``: the d3 format string that shows the same in chart axes and hovers.

Examples
--------
>>> number(11590.4), number(0.012345), number(3.14159)
('11,590', '0.0123', '3.14')
>>> percent(0.5), percent(0.00004)
('50.0%', '<0.1%')
>>> signed(0.0312), signed(-0.00004)
('+0.031', '0.000')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

__all__ = [
    "number",
    "percent",
    "points",
    "signed",
    "signed_number",
    "metric",
    "is_zero",
    "seconds",
    "count",
    "age",
    "category",
    "pairs",
    "plotly_format",
    "PERCENT_METRICS",
]

#: Metrics that are shares of rows, shown as percentages.
PERCENT_METRICS = frozenset({"accuracy"})
#: Metrics on a 0-1 scale shown with three decimals.
_UNIT_METRICS = frozenset({"auc", "auc_ovr", "r2", "logloss", "log_loss"})
_SIGNIFICANT = 3


def _bad(x: float | None) -> bool:
    return x is None or not math.isfinite(float(x))


def number(x: float | None, significant: int = _SIGNIFICANT) -> str:
    """A number for reading: thousands separators, no exponent, ~3 significant digits.

    Parameters
    ----------
    x : float or None
        ``None`` and NaN give ``"n/a"``.
    significant : int, default=3
        Significant digits for numbers below 1,000 (larger ones are whole).
    """
    if _bad(x):
        return "n/a"
    x = float(x)
    if x == 0:
        return "0"
    size = abs(x)
    if size >= 1000:  # whole numbers with separators
        return f"{x:,.0f}"
    if size < 1e-6:
        return f"{x:.1e}"  # truly tiny: an exponent is the honest way
    decimals = max(0, significant - 1 - math.floor(math.log10(size)))
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def percent(p: float | None, decimals: int = 1) -> str:
    """A probability or share as a percentage, ``<0.1%`` / ``>99.9%`` at the edges."""
    if _bad(p):
        return "n/a"
    p = float(p)
    floor = 10.0 ** (-decimals) / 100
    if 0 < p < floor:
        return f"<{100 * floor:.{decimals}f}%"
    if 1 - floor < p < 1:
        return f">{100 * (1 - floor):.{decimals}f}%"
    return f"{100 * p:.{decimals}f}%"


def is_zero(difference: float | None, decimals: int = 3) -> bool:
    """Whether a difference shows as zero at ``decimals`` places (so: no arrow, no sign)."""
    return _bad(difference) or round(float(difference), decimals) == 0


def signed(difference: float | None, decimals: int = 3) -> str:
    """A difference with its sign (``+0.031``); zero as ``0.000``, without a sign."""
    if _bad(difference):
        return "n/a"
    if is_zero(difference, decimals):
        return f"{0:.{decimals}f}"
    return f"{float(difference):+,.{decimals}f}"


def signed_number(difference: float | None, significant: int = _SIGNIFICANT) -> str:
    """A difference in the target's own unit with its sign (``+1,250``, ``-0.32``); ``0``
    without a sign when it rounds to nothing at ``significant`` digits."""
    if _bad(difference):
        return "n/a"
    text = number(difference, significant)
    if text.lstrip("-").strip("0.,") == "":
        return "0"
    return text if text.startswith("-") else f"+{text}"


def points(difference: float | None, decimals: int = 1) -> str:
    """A difference of two probabilities in percentage points (``+2.5 points``)."""
    if _bad(difference):
        return "n/a"
    return f"{signed(100 * float(difference), decimals)} points"


def metric(name: str, value: float | None) -> str:
    """A metric value to a sensible precision (``auc`` 0.812, ``accuracy`` 81.2%)."""
    key = name.removeprefix("valid_").removeprefix("baseline_").lower()
    if key in PERCENT_METRICS:
        return percent(value)
    if key in _UNIT_METRICS:
        return "n/a" if _bad(value) else f"{float(value):.3f}"
    return number(value)


def seconds(s: float | None) -> str:
    """A duration: ``0.4 s``, ``12 s``, ``2 min 5 s``."""
    if _bad(s):
        return "n/a"
    s = float(s)
    if s < 10:
        return f"{s:.1f} s"
    if s < 120:
        return f"{s:.0f} s"
    return f"{int(s // 60)} min {int(s % 60)} s"


def count(n: float | None) -> str:
    """A whole count with thousands separators."""
    return "n/a" if _bad(n) else f"{int(n):,}"


def age(s: float) -> str:
    """How long ago, in words: ``just now``, ``5 min ago``, ``2 h ago``, ``3 days ago``."""
    if _bad(s) or s < 60:
        return "just now"
    if s < 3600:
        return f"{int(s // 60)} min ago"
    if s < 86400:
        return f"{int(s // 3600)} h ago"
    return f"{int(s // 86400)} days ago"


def category(label: object) -> str:
    """A category label for people: the reserved missing and unknown rows in words.

    Only the library's own reserved labels, a missing value (``None``, ``NaN``) and the
    missing markers other tools write (``__NA__``) are renamed; a real category that
    happens to be called ``unknown`` is shown as it is.
    """
    from embedding_core.data.encoding import MISSING_LABEL, MISSING_TOKENS, UNKNOWN_LABEL

    if label is None or (isinstance(label, float) and math.isnan(label)):
        return "(missing)"
    text = str(label)
    if text == MISSING_LABEL or text in MISSING_TOKENS:
        return "(missing)"
    if text == UNKNOWN_LABEL:
        return "(rare or unseen)"
    return text


def pairs(columns: Iterable[tuple[str, str]], name: Callable[[str], str] = str) -> str:
    """Column pairs in one line (a run's crossed columns), each name through ``name``.

    >>> pairs([("month", "day"), ("day", "hour")])
    'month x day, day x hour'
    """
    return ", ".join(f"{name(a)} x {name(b)}" for a, b in columns)


def plotly_format(kind: str) -> str:
    """The d3 format for chart axes and hovers: ``"probability"`` or ``"number"``."""
    return ".1%" if kind == "probability" else ",.4~r"
