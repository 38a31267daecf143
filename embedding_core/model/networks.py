"""Which network ``train`` builds (``TrainConfig.model``), and how its tables are read.

``"deepfm"`` builds ``deepfm.build_deepfm`` (one shared size k), ``"entity"`` builds
``entity.build_entity`` (a size per field, see ``sizes``). Both take and give the same
inputs and outputs; this module hides the difference from training and the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from embedding_core.model.config import TrainConfig, check_model_size
from embedding_core.model.features import FeatureEncoder
from embedding_core.model.sizes import resolve_embedding_dims

if TYPE_CHECKING:
    import keras

    from embedding_core.model.init import InitPlan

__all__ = ["build_network", "network_field_tables", "entity_dims", "check_network_size"]


def entity_dims(
    features: FeatureEncoder, config: TrainConfig, plan: InitPlan | None = None
) -> dict[str, int]:
    """The vector size of every field of an entity network (loaded tables keep theirs)."""
    encoders = features.encoders_
    kept = {f: encoders[f].size - encoders[f].n_reserved_ for f in features.fields}
    return resolve_embedding_dims(kept, config.embedding_dims, plan.widths if plan else None)


def check_network_size(features: FeatureEncoder, config: TrainConfig) -> int:
    """Weights of the network ``build_network`` would make; ``DataError`` over the limit.

    The one size check of in-memory and streamed training, run once the vocabulary is
    known and before anything is built (``config.MAX_PARAMETERS``). An entity network
    is counted as if every field had the widest field's size (an upper bound).
    """
    if config.model == "entity":
        config = config.replace(embedding_dim=max(entity_dims(features, config).values()))
    encoder = features.numeric_encoder_
    shape = (len(encoder.columns), encoder.n_slots) if encoder is not None else (0, 0)
    return check_model_size(
        features.field_sizes,
        features.n_numeric_inputs,
        features.n_outputs,
        config,
        numeric_shape=shape,
        banded_fields=len(features.frequency_fields_),
    )


def build_network(
    features: FeatureEncoder,
    config: TrainConfig,
    task: str,
    n_classes: int,
    *,
    output_bias: np.ndarray | None = None,
    plan: InitPlan | None = None,
) -> keras.Model:
    """Build ``config.model`` and load the starting tables of ``plan`` (if any).

    Raises
    ------
    DataError
        Sizes that do not fit (an override of a loaded field, a DeepFM whose
        ``embedding_dim`` differs from the loaded tables).
    """
    frozen = plan.frozen if plan else ()
    if config.model == "entity":
        from embedding_core.model.entity import ENTITY_LAYER, build_entity

        model = build_entity(
            features,
            config,
            task,
            n_classes,
            embedding_dims=entity_dims(features, config, plan),
            frozen_fields=frozen,
            output_bias=output_bias,
        )
        layer = model.get_layer(ENTITY_LAYER)
    else:
        from embedding_core.model.deepfm import EMBEDDING_LAYER, build_deepfm
        from embedding_core.model.init import check_widths

        if plan:
            check_widths(plan, config.embedding_dim)
        model = build_deepfm(
            features, config, task, n_classes, output_bias=output_bias, frozen_fields=frozen
        )
        layer = model.get_layer(EMBEDDING_LAYER)
    if plan:
        layer.set_field_tables([plan.tables.get(f) for f in features.fields])
    return model


def network_field_tables(model: keras.Model, features: FeatureEncoder) -> dict[str, dict[str, Any]]:
    """Per-field weights of either network: ``{column: {"embedding", "linear"}}``
    (``"linear"`` is None for an entity network, which has no first-order weights)."""
    if model.name == "entity":
        from embedding_core.model.entity import field_tables
    else:
        from embedding_core.model.deepfm import field_tables
    return field_tables(model, features)
