"""Frequency bands: how often a category was seen in training, as a vector of its own.

On a field of many categories (at least ``MIN_CATEGORIES``), a rare category's own vector
has learnt from a handful of rows. Whether a category is rare is itself a signal (an
access request for a resource few people use, a diagnosis code seldom written), and the
one target encoding and CatBoost's counters give their models. So with
``TrainConfig.frequency_bands="auto"`` each category's training count falls in a band on a log
scale (``bands``: half-octaves, band ``1 + floor(2 log2 count)``), and DeepFM gives every
band of every such field a vector and a first-order weight, which join the FM term and
the MLP as one more slot per field (``fm_layer.FrequencyBands``, ``deepfm``). A band's
vector learns from every category of like frequency. The unknown row (rare categories
below ``min_count`` and unseen ones) is band 0.

Bands depend only on the vocabulary's counts, which a run saves, so new rows need no
extra input: the model looks each category's band up from its index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from embedding_core.data.encoding import CategoryEncoder
    from embedding_core.model.config import TrainConfig
    from embedding_core.model.features import FeatureEncoder

__all__ = ["MIN_CATEGORIES", "N_BANDS", "bands", "field_bands", "chosen_fields", "set_bands_of"]

#: Fields with at least this many categories in the vocabulary get frequency bands. A
#: choice, not tuned: on the shared sets it takes in amazon_access's nine ID fields,
#: hotel_bookings' agent, company and country and diabetes_readmission's diagnoses and
#: specialty; no field of adult (41 countries), bank_marketing or german_credit.
MIN_CATEGORIES = 50

#: Bands per field: band 0 (unknown) and half-octaves of the count up to 2**31.
N_BANDS = 64


def bands(counts: np.ndarray) -> np.ndarray:
    """The band of each count: ``1 + floor(2 log2 count)`` (1 row: 1, 2: 3, 3: 4, 4-5: 5,
    6-7: 6, 8-11: 7...), 0 for counts below 1, at most ``N_BANDS - 1``.

    Examples
    --------
    >>> bands(np.array([0, 1, 2, 3, 4, 5, 6, 8, 12, 16])).tolist()
    [0, 1, 3, 4, 5, 5, 6, 7, 8, 9]
    """
    counts = np.asarray(counts, dtype=np.float64)
    out = np.zeros(counts.shape, dtype=np.int32)
    seen = counts >= 1
    out[seen] = 1 + np.floor(2 * np.log2(counts[seen]) + 1e-9).astype(np.int32)
    return np.minimum(out, N_BANDS - 1)


def field_bands(encoder: CategoryEncoder) -> np.ndarray:
    """The band of every row of a field's vocabulary (int32, row-aligned); the unknown
    row, which pools rare and unseen categories, is band 0."""
    from embedding_core.data.encoding import UNKNOWN_INDEX

    out = bands(np.asarray(encoder.counts_))
    out[UNKNOWN_INDEX] = 0
    return out


def chosen_fields(encoders: dict[str, CategoryEncoder], fields: list[str]) -> list[str]:
    """The fields that get frequency bands: at least ``MIN_CATEGORIES`` categories kept in
    their vocabulary (reserved rows not counted), in field order."""
    return [f for f in fields if encoders[f].size - encoders[f].n_reserved_ >= MIN_CATEGORIES]


def set_bands_of(features: FeatureEncoder, config: TrainConfig) -> None:
    """Record on ``features`` which fields the network gives bands: ``chosen_fields`` for a
    DeepFM with ``frequency_bands="auto"``, none otherwise (in-memory and streamed
    training alike)."""
    banded = config.frequency_bands == "auto" and config.model == "deepfm"
    chosen = chosen_fields(features.encoders_, features.fields) if banded else []
    features.set_frequency_fields(chosen)
