"""Category dropout: train the unknown vector on the rows of every category.

On a field of many categories, a good share of the rows a model scores later carry a
category it has not seen, or seen fewer than ``min_count`` times: they all get the
field's unknown vector. That vector learns only from the training rows of such rare
categories, so it stands for "a category seen once", not for "some category of this
field". With ``TrainConfig.category_dropout`` = p, each training row's category of such a
field is replaced by the unknown row with probability p (``fm_layer.CategoryDropout``,
in DeepFM's first-order and vector lookups; prediction uses the categories as they
are), so the unknown vector learns from every category's rows, and the model learns not
to lean on one field alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from embedding_core.model.frequency import MIN_CATEGORIES, chosen_fields

if TYPE_CHECKING:
    from embedding_core.model.config import TrainConfig
    from embedding_core.model.features import FeatureEncoder

__all__ = ["MIN_CATEGORIES", "dropped_fields"]


def dropped_fields(features: FeatureEncoder, config: TrainConfig) -> list[bool]:
    """Per field, whether its categories are dropped in training: a DeepFM with
    ``category_dropout`` above 0, on fields of at least ``MIN_CATEGORIES`` categories
    kept in the vocabulary (reserved rows not counted)."""
    if config.category_dropout <= 0 or config.model != "deepfm":
        return [False] * len(features.fields)
    chosen = set(chosen_fields(features.encoders_, features.fields))
    return [f in chosen for f in features.fields]
