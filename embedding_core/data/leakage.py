"""Input columns that give the target away, found by scoring each one alone.

A column recorded after the outcome (a booking's final status next to "cancelled") or
derived from the target (the three-way readmission code next to the yes/no target made
from it) predicts the target almost perfectly by itself. A model trained with it learns
little else: its validation score looks perfect, and its embeddings and lift say nothing
about the other columns. ``leak_score`` fits each column on one half of the rows (the
target's mean or most frequent class per value; for a column of numbers, also its
order) and scores the other half; ``leak_note`` says so in words when the score is
``LEAK_SCORE`` or more. The role suggestion leaves such columns out; the checks of a
choice that includes one warn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from embedding_core.data.roles import Task
from embedding_core.data.values import parse_numeric, target_missing

__all__ = ["LEAK_SCORE", "MAX_ROWS", "Leak", "leak_score", "leak_note", "leaking_columns"]

#: A column that scores at least this on held-out rows alone is called a leak: AUC for a
#: binary target, accuracy (with at most 5% of the majority guess's errors left) for
#: classes, R² or rank correlation for a number. Leaks score 1.000; the strongest honest
#: column we know, the real mushroom table's odor, scores about 0.988 (AUC).
LEAK_SCORE = 0.995
#: Rows read per check (a seeded sample of bigger tables): enough to tell 0.99 from 1.
MAX_ROWS = 20_000
_MIN_HALF = 20  # fewer rows per half: no verdict


@dataclass(frozen=True)
class Leak:
    """A column's held-out score on its own, and its name (``metric``: "AUC",
    "accuracy", "R²" or "rank correlation")."""

    column: str
    score: float
    metric: str

    def sentence(self, target: str) -> str:
        """What the Data page, ``profile`` and ``train`` say about it, for ``target``."""
        return (
            f"Column '{self.column}' predicts the target '{target}' almost perfectly on its "
            f"own ({self.metric} {self.score:.3f} on held-out rows): it is probably recorded "
            "after the outcome or derived from it (leakage), and a model with it learns "
            "little else. Leave it out unless it is known when you predict."
        )


def leak_score(values: pd.Series, target: pd.Series, task: Task, *, seed: int = 0) -> Leak | None:
    """How well ``values`` alone predicts ``target`` on rows it was not fitted on.

    Parameters
    ----------
    values, target : pandas.Series
        The column and the target on the same rows (rows without a target left out).
    task : {"binary", "multiclass", "regression"}
    seed : int, default=0
        Picks the sample and the two halves.

    Returns
    -------
    Leak or None
        The score (mean of both halves scored by the other), or None when there are too
        few rows or the target does not vary.
    """
    n = len(values)
    rng = np.random.default_rng(seed)
    rows = rng.permutation(n)[: min(n, MAX_ROWS)]
    if len(rows) < 2 * _MIN_HALF:
        return None
    half = np.zeros(len(rows), dtype=bool)
    half[: len(rows) // 2] = True
    column = values.iloc[rows].reset_index(drop=True)
    codes = _value_codes(column)
    name = str(values.name)
    if task == "regression":
        y = parse_numeric(target.iloc[rows].reset_index(drop=True))[0].to_numpy(np.float64)
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            return None
        best = Leak(name, _both_halves(_r2, codes, y, half), "R²")
        order = _numbers(column)
        if order is not None:
            rho = abs(float(np.corrcoef(_ranks(order), _ranks(y))[0, 1]))
            if rho > best.score:
                best = Leak(name, rho, "rank correlation")
        return best
    y = _value_codes(target.iloc[rows])
    if y.max() < 1:
        return None
    if task == "multiclass":
        return Leak(name, _both_halves(_accuracy, codes, y, half), "accuracy")
    y01 = (y == 1).astype(np.float64)
    auc = _both_halves(_auc_of_means, codes, y01, half)
    order = _numbers(column)
    if order is not None:
        raw = _auc(y01, np.nan_to_num(order, nan=float(np.nanmedian(order))))
        auc = max(auc, raw, 1.0 - raw)
    return Leak(name, auc, "AUC")


def leak_note(values: pd.Series, target: pd.Series, task: Task) -> str | None:
    """``Leak.sentence`` when ``values`` alone predicts ``target`` (a score of at least
    ``LEAK_SCORE``), else None."""
    leak = leak_score(values, target, task)
    return (
        leak.sentence(str(target.name))
        if leak is not None and _is_leak(leak, target, task)
        else None
    )


def leaking_columns(frame: pd.DataFrame, target: str, columns: list[str], task: Task) -> list[Leak]:
    """The ``columns`` of ``frame`` that give ``target`` away, in the given order (rows
    without a target value left out)."""
    if len(frame) > MAX_ROWS:  # the sample leak_score would draw, drawn once for all columns
        frame = frame.iloc[np.sort(np.random.default_rng(0).permutation(len(frame))[:MAX_ROWS])]
    keep = ~target_missing(frame[target])
    y = frame.loc[keep, target]
    found = []
    for name in columns:
        leak = leak_score(frame.loc[keep, name], y, task)
        if leak is not None and _is_leak(leak, y, task):
            found.append(leak)
    return found


def _is_leak(leak: Leak, target: pd.Series, task: Task) -> bool:
    if leak.score < LEAK_SCORE:
        return False
    if task != "multiclass":
        return True
    majority = float(target.astype("str").value_counts(normalize=True).iloc[0])
    return 1.0 - leak.score <= 0.05 * (1.0 - majority)


def _value_codes(values: pd.Series) -> np.ndarray:
    """A code per row, one per distinct value (missing cells are one more value).

    Typed columns (numbers, text, booleans, categories) are coded as they are: their
    values and their texts group the same rows, and converting 20,000 numbers to text
    took most of a check. Mixed object columns are coded by their text, so ``1`` and
    ``"1"`` are one value.
    """
    if values.dtype == object:
        values = values.astype("str").where(values.notna(), "\0missing")
    return pd.factorize(values, use_na_sentinel=False)[0]


def _numbers(column: pd.Series) -> np.ndarray | None:
    """The column as float64 when every filled cell is a number and there are many
    distinct ones (an order to score), else None."""
    numbers, bad = parse_numeric(column)
    if bad or numbers.nunique() <= 2 or numbers.isna().all():
        return None
    return numbers.to_numpy(np.float64)


def _both_halves(score, codes: np.ndarray, y: np.ndarray, half: np.ndarray) -> float:
    return 0.5 * (score(codes, y, half, ~half) + score(codes, y, ~half, half))


def _auc_of_means(codes: np.ndarray, y: np.ndarray, fit: np.ndarray, test: np.ndarray) -> float:
    size = int(codes.max()) + 1
    n = np.bincount(codes[fit], minlength=size)
    prior = float(y[fit].mean())
    rate = (np.bincount(codes[fit], weights=y[fit], minlength=size) + prior) / (n + 1.0)
    # every test row of a value has the same score: count per value, sort the values only
    pos = np.bincount(codes[test], weights=y[test], minlength=size)
    neg = np.bincount(codes[test], minlength=size) - pos
    return _auc_counts(rate, pos, neg)


def _accuracy(codes: np.ndarray, y: np.ndarray, fit: np.ndarray, test: np.ndarray) -> float:
    size, n_classes = int(codes.max()) + 1, int(y.max()) + 1
    counts = np.bincount(codes[fit] * n_classes + y[fit], minlength=size * n_classes)
    counts = counts.reshape(size, n_classes)
    guess = np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), np.bincount(y[fit]).argmax())
    return float((guess[codes[test]] == y[test]).mean())


def _r2(codes: np.ndarray, y: np.ndarray, fit: np.ndarray, test: np.ndarray) -> float:
    size = int(codes.max()) + 1
    n = np.bincount(codes[fit], minlength=size)
    mean = float(y[fit].mean())
    pred = (np.bincount(codes[fit], weights=y[fit], minlength=size) + mean) / (n + 1.0)
    residual = float(((y[test] - pred[codes[test]]) ** 2).sum())
    total = float(((y[test] - y[test].mean()) ** 2).sum())
    return 1.0 - residual / total if total > 0 else 0.0


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of 0/1 labels ``y`` by ``score``, ties counted half (0.5 without both)."""
    return _auc_counts(score, y, 1.0 - y)


def _auc_counts(score: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC AUC of items with a ``score`` each, ``pos`` positives and ``neg`` negatives."""
    values, inverse = np.unique(score, return_inverse=True)
    pos = np.bincount(inverse, weights=pos, minlength=len(values))
    neg = np.bincount(inverse, weights=neg, minlength=len(values))
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return 0.5
    below = np.cumsum(neg) - neg
    return float((pos * (below + 0.5 * neg)).sum() / (n_pos * n_neg))


def _ranks(x: np.ndarray) -> np.ndarray:
    return pd.Series(x).rank(method="average").to_numpy(np.float64)
