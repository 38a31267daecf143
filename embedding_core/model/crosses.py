"""Crossed columns: which pairs of few-valued columns get a vector per cell.

A month and a day of the month each get a vector (a bin per value, or a category), but
a storm on 9 March is a property of the pair, not of March or of the 9th. The
factorisation machine pairs the two vectors and the MLP reads both, yet on a flights
table neither learnt the date: trees, which split on month and then on day, kept a lead
of 0.013-0.026 AUC (README, Benchmarks, "Crossed columns"). A crossed pair gives every
(month, day) cell its own vector and first-order weight (``fm_layer.CrossEmbedding``),
like a categorical field.

``choose_crosses`` chooses the pairs from the training rows, before the model is built
(``select_crosses`` scores them), among the candidates: columns of small whole numbers
(a month, a day, an hour, a code), whether numeric (at most ``numeric_bins`` distinct
values, so a bin each) or categorical (at most as many categories, all whole numbers;
``whole_numbers``).
A pair qualifies when its cells average ``MIN_ROWS_PER_CELL`` training rows and a table
of cell means predicts held-out rows better than the pair's additive fit by at least
``MIN_GAIN`` of the target's variance (fitted on one half of the rows, scored on the
other, and the other way round); the ``MAX_CROSSES`` best are crossed. Columns of text
categories are not candidates: crossing adult's occupation x relationship, which the FM
already pairs well, cost 0.001 AUC.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from embedding_core.model.features import FeatureEncoder

__all__ = [
    "MAX_CROSSES",
    "MIN_GAIN",
    "MIN_ROWS_PER_CELL",
    "MAX_CODES",
    "choose_crosses",
    "cross_gain",
    "select_crosses",
    "whole_numbers",
]

#: At most this many crossed pairs per model.
MAX_CROSSES = 3
#: Share of the target's variance a pair's cell table must explain beyond its additive fit.
MIN_GAIN = 0.005
#: Training rows per occupied cell, on average, at least.
MIN_ROWS_PER_CELL = 100
#: Codes a crossed column may have (its pair's table holds the product of two).
MAX_CODES = 65
#: Shrinkage (in rows) of a group's mean toward the fit it corrects.
_SHRINK = 20.0
_BACKFIT_ROUNDS = 10


def cross_gain(a: np.ndarray, b: np.ndarray, y: np.ndarray, first: np.ndarray) -> float:
    """Held-out gain of a cell table over the additive fit of two slot columns.

    Fits ``y ~ f(a) + g(b)`` (backfitting, shrunk means) and a shrunk cell correction on
    the rows where ``first`` is True, then returns ``(MSE_additive - MSE_cells) / var(y)``
    on the other rows: about 0 when the pair does not interact, positive when it does.
    """
    a, b = a.astype(np.int64), b.astype(np.int64)
    n_a, n_b = int(a.max()) + 1, int(b.max()) + 1
    a_fit, b_fit, y_fit = a[first], b[first], y[first]
    a_held, b_held, y_held = a[~first], b[~first], y[~first]
    mean = float(y_fit.mean())
    counts_a = np.bincount(a_fit, minlength=n_a) + _SHRINK
    counts_b = np.bincount(b_fit, minlength=n_b) + _SHRINK
    effect_a, effect_b = np.zeros(n_a), np.zeros(n_b)
    for _ in range(_BACKFIT_ROUNDS):
        effect_a = np.bincount(a_fit, weights=y_fit - mean - effect_b[b_fit], minlength=n_a)
        effect_a /= counts_a
        effect_b = np.bincount(b_fit, weights=y_fit - mean - effect_a[a_fit], minlength=n_b)
        effect_b /= counts_b
    cells_fit = a_fit * n_b + b_fit
    residual = y_fit - mean - effect_a[a_fit] - effect_b[b_fit]
    correction = np.bincount(cells_fit, weights=residual, minlength=n_a * n_b) / (
        np.bincount(cells_fit, minlength=n_a * n_b) + _SHRINK
    )
    variance = float(y_held.var())
    if variance <= 0:
        return 0.0
    additive = mean + effect_a[a_held] + effect_b[b_held]
    error_additive = float(np.mean((y_held - additive) ** 2))
    error_cells = float(np.mean((y_held - additive - correction[a_held * n_b + b_held]) ** 2))
    return (error_additive - error_cells) / variance


def whole_numbers(labels: Sequence[str]) -> bool:
    """True if every label reads as a whole number (``"3"``, ``"-1"``, ``"12.0"``)."""
    return bool(labels) and all(_WHOLE.fullmatch(label) for label in labels)


_WHOLE = re.compile(r"-?\d+(\.0*)?")


def select_crosses(codes: np.ndarray, y: np.ndarray, *, seed: int = 0) -> list[tuple[int, int]]:
    """The pairs of candidate columns to cross, best first.

    Parameters
    ----------
    codes : ndarray of shape (n, n_candidates)
        Integer codes of the candidate columns on the training rows (a field's
        vocabulary index, a numeric column's bin index).
    y : ndarray of shape (n,)
        The target: 0/1 for binary, the (standardised) value for regression.
    seed : int, default=0
        Seed of the split into halves.

    Returns
    -------
    list of (int, int)
        At most ``MAX_CROSSES`` pairs ``(i, j)`` of columns of ``codes``, ``i < j``.
    """
    n = len(y)
    if n == 0 or codes.shape[1] < 2:
        return []
    y = np.asarray(y, dtype=np.float64).ravel()
    first = np.random.default_rng(seed).random(n) < 0.5
    scored = []
    for i, j in combinations(range(codes.shape[1]), 2):
        a, b = codes[:, i].astype(np.int64), codes[:, j].astype(np.int64)
        cells = np.unique(a * (int(b.max()) + 1) + b).size
        if n / cells < MIN_ROWS_PER_CELL:
            continue
        gain = (cross_gain(a, b, y, first) + cross_gain(a, b, y, ~first)) / 2
        if gain >= MIN_GAIN:
            scored.append((gain, i, j))
    scored.sort(key=lambda s: -s[0])
    return [(i, j) for _, i, j in scored[:MAX_CROSSES]]


def choose_crosses(
    features: FeatureEncoder,
    data: pd.DataFrame,
    inputs: dict[str, np.ndarray],
    y: np.ndarray,
    rows: np.ndarray,
    numeric_bins: int,
    seed: int,
) -> list[tuple[str, str]]:
    """The column pairs to cross (``select_crosses`` on the training ``rows``, target
    ``y`` of those rows) among the columns of small whole numbers: categorical fields of
    at most ``numeric_bins`` whole-number categories, and binned numeric columns of at
    most ``numeric_bins`` values (a bin each). ``inputs`` is ``features``' encoding of
    ``data``."""
    from embedding_core.data.values import parse_numeric
    from embedding_core.model.features import CATEGORICAL_INPUT, NUMERIC_ENCODED_INPUT

    names, codes = [], []
    for j, field_name in enumerate(features.fields):
        encoder = features.encoders_[field_name]
        categories = encoder.categories
        if 2 <= len(categories) <= numeric_bins and encoder.size <= MAX_CODES:
            if whole_numbers(categories):
                names.append(field_name)
                codes.append(inputs[CATEGORICAL_INPUT][rows, j])
    bins = features.numeric_encoder_
    if bins is not None and bins.as_index and bins.n_slots <= MAX_CODES:
        for j, column in enumerate(bins.columns):
            if 2 <= parse_numeric(data[column].iloc[rows])[0].nunique() <= numeric_bins:
                names.append(column)
                codes.append(inputs[NUMERIC_ENCODED_INPUT][rows, j])
    if len(names) < 2:
        return []
    pairs = select_crosses(np.stack(codes, axis=1), y, seed=seed)
    return [(names[i], names[j]) for i, j in pairs]
