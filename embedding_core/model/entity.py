"""The entity-embedding network (Guo & Berkhahn, 2016) as a Keras 3 functional model.

One embedding table per categorical field, each with its own size (see ``sizes``);
the field vectors are concatenated with the numeric block (and the bins/PLE encoding
of ``numeric_encoding``, when set) and fed to an MLP
(``"deep_0"``, ``"deep_1"``... then ``"deep_out"``). Unlike DeepFM there is no FM term
and no first-order weights, so fields need not share a size. Inputs and outputs are
those of ``deepfm.build_deepfm``, so training, prediction and saving are the same.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Mapping, Sequence  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers, ops  # noqa: E402

from embedding_core.data.roles import Task  # noqa: E402
from embedding_core.model.config import TrainConfig  # noqa: E402
from embedding_core.model.features import (  # noqa: E402
    CATEGORICAL_INPUT,
    NUMERIC_ENCODED_INPUT,
    NUMERIC_INPUT,
    FeatureEncoder,
)
from embedding_core.model.fm_layer import numeric_encoded_input  # noqa: E402
from embedding_core.model.mlp import hidden_layers  # noqa: E402

__all__ = ["EntityEmbedding", "build_entity", "ENTITY_LAYER"]

ENTITY_LAYER = "entity_embedding"


@keras.saving.register_keras_serializable(package="embedding_core")
class EntityEmbedding(keras.layers.Layer):
    """One embedding table per field, each of its own width, concatenated.

    Input: int indices of shape ``(batch, n_fields)``, column j indexing field j's
    vocabulary. Output: ``(batch, sum(output_dims))``, field j's vector in its own
    slice. Field j's table is the weight ``embedding_<j>`` (see ``field_tables``).

    Parameters
    ----------
    field_sizes : sequence of int
        Vocabulary size of each field (all > 0).
    output_dims : sequence of int
        Vector size of each field (all > 0).
    frozen_fields : sequence of bool, optional
        ``True`` makes that field's table a non-trainable weight (it does not change).
    embeddings_initializer : str or keras.initializers.Initializer, default="uniform"
    **kwargs
        Standard layer arguments (``name``, ``activity_regularizer``...).
    """

    def __init__(
        self,
        field_sizes: Sequence[int],
        output_dims: Sequence[int],
        frozen_fields: Sequence[bool] | None = None,
        embeddings_initializer: Any = "uniform",
        **kwargs: Any,
    ) -> None:
        sizes = [int(s) for s in field_sizes]
        dims = [int(d) for d in output_dims]
        if not sizes or any(s < 1 for s in sizes):
            raise ValueError(
                "Expected field_sizes to be a non-empty list of sizes > 0. "
                f"Received: field_sizes={list(field_sizes)}"
            )
        if len(dims) != len(sizes) or any(d < 1 for d in dims):
            raise ValueError(
                f"Expected one output_dim > 0 per field ({len(sizes)}). "
                f"Received: output_dims={list(output_dims)}"
            )
        frozen = [bool(f) for f in frozen_fields] if frozen_fields else [False] * len(sizes)
        if len(frozen) != len(sizes):
            raise ValueError(
                f"Expected one frozen flag per field ({len(sizes)}). "
                f"Received: frozen_fields={list(frozen_fields or [])}"
            )
        super().__init__(**kwargs)
        self.field_sizes = sizes
        self.output_dims = dims
        self.frozen_fields = frozen
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 2 or input_shape[1] != len(self.field_sizes):
            raise ValueError(
                f"Expected input of shape (batch, {len(self.field_sizes)}). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.tables = [
            self.add_weight(
                shape=(size, dim),
                initializer=self.embeddings_initializer,
                trainable=not frozen,
                name=f"embedding_{j}",
            )
            for j, (size, dim, frozen) in enumerate(
                zip(self.field_sizes, self.output_dims, self.frozen_fields, strict=True)
            )
        ]
        self.built = True

    def call(self, inputs: Any) -> Any:
        indices = ops.cast(inputs, "int32")
        parts = [ops.take(table, indices[:, j], axis=0) for j, table in enumerate(self.tables)]
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], int(sum(self.output_dims)))

    def field_tables(self) -> list[np.ndarray]:
        """Each field's table as a numpy array ``(field_size, output_dim)``, in field order."""
        return [np.array(table.numpy()) for table in self.tables]

    def set_field_tables(self, tables: Sequence[np.ndarray | None]) -> None:
        """Overwrite the tables of some fields (``None`` leaves a field as it is)."""
        for variable, table in zip(self.tables, tables, strict=True):
            if table is not None:
                variable.assign(np.asarray(table, dtype=variable.dtype))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "field_sizes": list(self.field_sizes),
            "output_dims": list(self.output_dims),
            "frozen_fields": list(self.frozen_fields),
            "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
        }


def build_entity(
    features: FeatureEncoder,
    config: TrainConfig,
    task: Task | None = None,
    n_classes: int | None = None,
    *,
    embedding_dims: Mapping[str, int],
    frozen_fields: Sequence[str] = (),
    output_bias: np.ndarray | None = None,
) -> keras.Model:
    """Build (not compile) an entity-embedding network for ``features.transform`` inputs.

    Parameters
    ----------
    features : FeatureEncoder
        Fitted; gives the field vocabularies and the numeric width.
    config : TrainConfig
        ``hidden_units``, ``dropout`` and ``l2_embedding`` are used (the L2 penalty
        applies to the vectors a batch uses).
    task, n_classes, output_bias
        As for ``deepfm.build_deepfm``.
    embedding_dims : mapping of str to int
        Vector size of every field (``sizes.resolve_embedding_dims``).
    frozen_fields : sequence of str, optional
        Fields whose tables do not train.

    Returns
    -------
    keras.Model
        Same inputs and output as ``build_deepfm``; named ``"entity"``.
    """
    task = task or features.task
    n_out = int(n_classes or len(features.classes_)) if task == "multiclass" else 1
    fields = features.fields
    missing = [f for f in fields if f not in embedding_dims]
    if missing:
        raise ValueError(f"Expected a size for every field. Missing: {missing}")

    cat_in = keras.Input(shape=(len(fields),), dtype="int32", name=CATEGORICAL_INPUT)
    inputs = {CATEGORICAL_INPUT: cat_in}
    activity = keras.regularizers.L2(config.l2_embedding) if config.l2_embedding > 0 else None
    h = EntityEmbedding(
        features.field_sizes,
        [embedding_dims[f] for f in fields],
        frozen_fields=[f in frozen_fields for f in fields],
        activity_regularizer=activity,
        name=ENTITY_LAYER,
    )(cat_in)
    parts = [h]
    if features.n_numeric_inputs:
        num_in = keras.Input(shape=(features.n_numeric_inputs,), name=NUMERIC_INPUT)
        inputs[NUMERIC_INPUT] = num_in
        parts.append(num_in)
    numeric_encoder = features.numeric_encoder_
    if numeric_encoder is not None:  # bins / PLE (numeric_encoding): straight into the MLP
        inputs[NUMERIC_ENCODED_INPUT], dense = numeric_encoded_input(
            numeric_encoder, NUMERIC_ENCODED_INPUT
        )
        parts.append(layers.Flatten(name="numeric_encoded_flat")(dense))
    if len(parts) > 1:
        h = layers.Concatenate(name="deep_concat")(parts)
    h = hidden_layers(h, config)
    bias_init: str | keras.initializers.Initializer = "zeros"
    if output_bias is not None:
        bias_init = keras.initializers.Constant(np.asarray(output_bias, dtype="float32").ravel())
    logit = layers.Dense(n_out, bias_initializer=bias_init, name="deep_out")(h)
    activation = {"binary": "sigmoid", "multiclass": "softmax"}.get(task, "linear")
    out = layers.Activation(activation, name="prediction")(logit)
    return keras.Model(inputs=inputs, outputs=out, name="entity")


def field_tables(model: keras.Model, features: FeatureEncoder) -> dict[str, dict[str, Any]]:
    """Per-field vectors of an entity network, keyed by column name.

    Returns
    -------
    dict
        ``{column: {"embedding": (size, d_column) float32, "linear": None}}`` (no
        first-order weights in this model).
    """
    emb = model.get_layer(ENTITY_LAYER).field_tables()
    return {col: {"embedding": emb[j], "linear": None} for j, col in enumerate(features.fields)}
