"""Keras layers of the factorisation machine: the pairwise interaction term and the
per-field embedding table.

Both are registered as serialisable (package ``embedding_core``), so a saved
``.keras`` file loads with ``keras.saving.load_model(path, safe_mode=True)`` once this
module is imported, without a ``custom_objects`` dict.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

__all__ = [
    "CategoryDropout",
    "CrossEmbedding",
    "FMInteraction",
    "FieldEmbedding",
    "FrequencyBands",
    "NumericEmbedding",
    "SlotOneHot",
    "SumFields",
    "numeric_encoded_input",
]


@keras.saving.register_keras_serializable(package="embedding_core")
class FMInteraction(keras.layers.Layer):
    """Second-order factorisation-machine term over field embeddings.

    For field vectors ``v_1..v_F`` (each of size k) this computes, per example,
    ``0.5 * sum_d((sum_i v_id)^2 - sum_i v_id^2)``, which equals
    ``sum_{i<j} <v_i, v_j>`` in O(F k) instead of O(F^2 k).

    With ``field_weights=True`` it is the field-weighted FM (Pan et al., "Field-weighted
    Factorization Machines for Click-Through Rate Prediction in Display Advertising",
    WWW 2018): ``sum_{i<j} r_ij <v_i, v_j>`` with a learned weight ``r_ij`` per pair of
    fields (``pair_weights()``), starting at 1 (the plain FM), so a pair the target
    does not need can fade out through its weight. It costs O(F^2 k) per example.

    Parameters
    ----------
    reduce_sum : bool, default=True
        ``True`` sums over the k dimensions and returns shape ``(batch, 1)`` (the FM
        logit). ``False`` returns the per-dimension interaction vector
        ``(batch, k)``, e.g. to feed a ``Dense(n_classes)`` for multiclass.
    field_weights : bool, default=False
        Learn a weight per pair of fields (see above).
    **kwargs
        Standard ``keras.layers.Layer`` arguments (``name``, ``dtype``...).

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([[[1.0, 0.0], [2.0, 1.0], [0.5, 3.0]]])  # 1 example, 3 fields, k=2
    >>> float(FMInteraction()(v)[0, 0])  # <v1,v2> + <v1,v3> + <v2,v3> = 2 + 0.5 + 4
    6.5
    """

    def __init__(self, reduce_sum: bool = True, field_weights: bool = False, **kwargs: Any) -> None:
        for name, value in (("reduce_sum", reduce_sum), ("field_weights", field_weights)):
            if not isinstance(value, bool):
                raise ValueError(f"Expected {name} to be True or False. Received: {name}={value!r}")
        super().__init__(**kwargs)
        self.reduce_sum = reduce_sum
        self.field_weights = field_weights

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 3:
            raise ValueError(
                "Expected input of shape (batch, fields, embedding_dim). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        if self.field_weights:
            n = int(input_shape[1])
            # stored as a full square; only its symmetric off-diagonal part is used
            self.pair_kernel = self.add_weight(
                shape=(n, n), initializer="ones", name="pair_weights"
            )
            self._off_diagonal = 1.0 - np.eye(n, dtype="float32")
        self.built = True

    def pair_weights(self) -> np.ndarray:
        """The weight ``r_ij`` of each pair of fields, ``(F, F)`` symmetric with a zero
        diagonal; ValueError without ``field_weights``."""
        if not self.field_weights:
            raise ValueError("This FM term has no field weights (field_weights=False).")
        w = np.asarray(keras.ops.convert_to_numpy(self.pair_kernel), dtype=np.float64)
        return 0.5 * (w + w.T) * self._off_diagonal

    def call(self, inputs: Any) -> Any:
        if self.field_weights:
            # sum_{i<j} r_ij v_i * v_j = 0.5 * sum_i v_i * (sum_j r_ij v_j), per dimension;
            # as one (batch * k, F) x (F, F) product: about twice as fast as an einsum
            r = 0.5 * (self.pair_kernel + ops.transpose(self.pair_kernel)) * self._off_diagonal
            by_dim = ops.transpose(inputs, (0, 2, 1))  # (batch, k, F)
            n_slots = r.shape[0]
            mixed = ops.reshape(
                ops.matmul(ops.reshape(by_dim, (-1, n_slots)), r), ops.shape(by_dim)
            )
            interaction = 0.5 * ops.sum(by_dim * mixed, axis=2)
        else:
            square_of_sum = ops.square(ops.sum(inputs, axis=1))
            sum_of_squares = ops.sum(ops.square(inputs), axis=1)
            interaction = 0.5 * (square_of_sum - sum_of_squares)
        if self.reduce_sum:
            return ops.sum(interaction, axis=1, keepdims=True)
        return interaction

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], 1) if self.reduce_sum else (input_shape[0], input_shape[2])

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "reduce_sum": self.reduce_sum,
            "field_weights": self.field_weights,
        }


@keras.saving.register_keras_serializable(package="embedding_core")
class FieldEmbedding(keras.layers.Layer):
    """One embedding table per categorical field, stored as a single stacked matrix.

    Input: int indices of shape ``(batch, n_fields)``, column j indexing field j's
    vocabulary. Output: ``(batch, n_fields, output_dim)``. Field j's table is rows
    ``offsets[j] : offsets[j] + field_sizes[j]`` of ``embeddings`` (see
    ``field_tables``). One gather over one table is markedly faster in Keras than
    one ``Embedding`` layer per field (fewer ops to trace and run per step).

    Parameters
    ----------
    field_sizes : sequence of int
        Vocabulary size of each field (all > 0).
    output_dim : int
        Size of each vector (k for the embeddings, 1 or n_classes for first-order weights).
    embeddings_initializer : str or keras.initializers.Initializer, default="uniform"
    embeddings_regularizer : str or keras.regularizers.Regularizer, optional
        Penalty on the whole table (use ``activity_regularizer`` to penalise only the
        rows a batch uses).
    frozen_fields : sequence of bool, optional
        One flag per field: ``True`` keeps that field's rows fixed in training (no
        gradient reaches them, so an Adam-style optimiser leaves them bit for bit
        unchanged). Used for embeddings loaded from an earlier run.
    **kwargs
        Standard layer arguments (``name``, ``activity_regularizer``...).
    """

    def __init__(
        self,
        field_sizes: Sequence[int],
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        frozen_fields: Sequence[bool] | None = None,
        **kwargs: Any,
    ) -> None:
        sizes = [int(s) for s in field_sizes]
        frozen = [bool(f) for f in frozen_fields] if frozen_fields else [False] * len(sizes)
        if len(frozen) != len(sizes):
            raise ValueError(
                f"Expected one frozen flag per field ({len(sizes)}). "
                f"Received: frozen_fields={list(frozen_fields or [])}"
            )
        if not sizes or any(s < 1 for s in sizes):
            raise ValueError(
                "Expected field_sizes to be a non-empty list of sizes > 0. "
                f"Received: field_sizes={list(field_sizes)}"
            )
        if int(output_dim) < 1:
            raise ValueError(f"Expected output_dim > 0. Received: output_dim={output_dim}")
        super().__init__(**kwargs)
        self.field_sizes = sizes
        self.output_dim = int(output_dim)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype("int32")
        self.frozen_fields = frozen

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 2 or input_shape[1] != len(self.field_sizes):
            raise ValueError(
                f"Expected input of shape (batch, {len(self.field_sizes)}). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.embeddings = self.add_weight(
            shape=(int(sum(self.field_sizes)), self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            name="embeddings",
        )
        self.built = True

    def call(self, inputs: Any) -> Any:
        indices = ops.cast(inputs, "int32") + ops.convert_to_tensor(self.offsets)
        out = ops.take(self.embeddings, indices, axis=0)
        if any(self.frozen_fields):
            # Column j of the input indexes field j: stop the gradient of frozen columns.
            mask = ops.convert_to_tensor(np.array(self.frozen_fields).reshape(1, -1, 1))
            out = ops.where(mask, ops.stop_gradient(out), out)
        return out

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], len(self.field_sizes), self.output_dim)

    def field_tables(self) -> list[np.ndarray]:
        """Each field's table as a numpy array ``(field_size, output_dim)``, in field order."""
        matrix = np.asarray(self.embeddings.numpy())
        return [
            matrix[o : o + s].copy() for o, s in zip(self.offsets, self.field_sizes, strict=True)
        ]

    def set_field_tables(self, tables: Sequence[np.ndarray | None]) -> None:
        """Overwrite the tables of some fields (``None`` leaves a field as it is)."""
        matrix = np.array(self.embeddings.numpy())
        for table, o, s in zip(tables, self.offsets, self.field_sizes, strict=True):
            if table is not None:
                matrix[o : o + s] = table
        self.embeddings.assign(matrix)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "field_sizes": list(self.field_sizes),
            "output_dim": self.output_dim,
            "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": keras.regularizers.serialize(self.embeddings_regularizer),
            "frozen_fields": list(self.frozen_fields),
        }


@keras.saving.register_keras_serializable(package="embedding_core")
class SumFields(keras.layers.Layer):
    """Sum over the field axis: ``(batch, fields, d) -> (batch, d)``."""

    def call(self, inputs: Any) -> Any:
        return ops.sum(inputs, axis=1)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="embedding_core")
class NumericEmbedding(keras.layers.Layer):
    """A vector per numeric column from its bins/PLE encoding (``model.numeric``).

    Input: ``(batch, n_columns, n_slots)`` encodings; output ``(batch, n_columns,
    output_dim)``: column j's vector is ``sum_s x[j, s] * kernel[j, s] + bias[j]``. With
    one-hot bins that is a lookup in a per-column table of bin vectors; with piecewise-
    linear encoding it moves continuously through them.

    With ``n_slots`` the input is instead one slot index per column, ``(batch,
    n_columns)`` (``NumericEncoder.as_index``), and the layer looks the rows up directly:
    the same vectors as the one-hot product, without building the one-hot or
    multiplying by its zeros (on the default sample the numeric part was a fifth of a
    training step's op time that way).

    Parameters
    ----------
    output_dim : int
        Size of each vector (k, or 1 / n_classes for first-order weights).
    kernel_initializer : str or keras.initializers.Initializer, default="uniform"
    n_slots : int, optional
        Slots per column when the input is slot indices; ``None``: a dense encoding.
    **kwargs
        Standard layer arguments (``name``...).
    """

    def __init__(
        self,
        output_dim: int,
        kernel_initializer: Any = "uniform",
        n_slots: int | None = None,
        **kwargs: Any,
    ) -> None:
        if int(output_dim) < 1:
            raise ValueError(f"Expected output_dim > 0. Received: output_dim={output_dim}")
        if n_slots is not None and int(n_slots) < 1:
            raise ValueError(f"Expected n_slots > 0. Received: n_slots={n_slots}")
        super().__init__(**kwargs)
        self.output_dim = int(output_dim)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.n_slots = None if n_slots is None else int(n_slots)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if self.n_slots is not None:
            if len(input_shape) != 2 or input_shape[1] is None:
                raise ValueError(
                    "Expected slot indices of shape (batch, n_columns). "
                    f"Received: input_shape={tuple(input_shape)}"
                )
            n_columns, n_slots = int(input_shape[1]), self.n_slots
            self.offsets = (np.arange(n_columns) * n_slots).astype("int32")
        elif len(input_shape) != 3 or input_shape[1] is None or input_shape[2] is None:
            raise ValueError(
                "Expected input of shape (batch, n_columns, n_slots). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        else:
            n_columns, n_slots = int(input_shape[1]), int(input_shape[2])
        self.kernel = self.add_weight(
            shape=(n_columns, n_slots, self.output_dim),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(n_columns, self.output_dim), initializer="zeros", name="bias"
        )
        self.built = True

    def call(self, inputs: Any) -> Any:
        if self.n_slots is None:
            return ops.einsum("bcs,csd->bcd", inputs, self.kernel) + self.bias
        rows = ops.reshape(self.kernel, (-1, self.output_dim))
        indices = ops.cast(inputs, "int32") + ops.convert_to_tensor(self.offsets)
        return ops.take(rows, indices, axis=0) + self.bias

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], input_shape[1], self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = {
            **super().get_config(),
            "output_dim": self.output_dim,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
        if self.n_slots is not None:  # absent for a dense input, as in earlier saved runs
            config["n_slots"] = self.n_slots
        return config


@keras.saving.register_keras_serializable(package="embedding_core")
class SlotOneHot(keras.layers.Layer):
    """Slot indices ``(batch, n_columns)`` to the one-hot ``(batch, n_columns, n_slots)``.

    The ``"bins"`` encoding enters the model as one index per numeric column
    (``NumericEncoder.as_index``). Where a layer needs the dense encoding (the entity
    network's MLP; DeepFM runs saved before ``NumericEmbedding(n_slots=...)``), it is
    built here, one batch at a time, so the data in memory holds 4 bytes per column and
    row instead of ``4 * n_slots``. The result is the same float32 one-hot the encoder
    would have built, so what follows computes the same numbers.

    Parameters
    ----------
    n_slots : int
        Slots per column (``NumericEncoder.n_slots``).
    **kwargs
        Standard layer arguments (``name``...).
    """

    def __init__(self, n_slots: int, **kwargs: Any) -> None:
        if int(n_slots) < 1:
            raise ValueError(f"Expected n_slots > 0. Received: n_slots={n_slots}")
        super().__init__(**kwargs)
        self.n_slots = int(n_slots)

    def call(self, inputs: Any) -> Any:
        return ops.one_hot(ops.cast(inputs, "int32"), self.n_slots, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape, self.n_slots)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_slots": self.n_slots}


@keras.saving.register_keras_serializable(package="embedding_core")
class CrossEmbedding(keras.layers.Layer):
    """A vector per cell of crossed columns (``model.crosses``), looked up by index.

    Input: integer codes ``(batch, n_columns)``: the categorical fields' vocabulary
    indices followed by the numeric columns' bin indices (``NumericEncoder.as_index``).
    Output ``(batch, n_pairs, output_dim)``: for the pair ``(i, j)`` of sizes
    ``(size_i, size_j)``, the row of cell ``code_i * size_j + code_j`` in that pair's
    table of ``size_i * size_j`` rows. Each crossed pair enters the model like one more
    field: its vector joins the others in the FM and the MLP, its first-order weight the
    linear term.

    Parameters
    ----------
    output_dim : int
        Size of each vector (k, or 1 / n_classes for first-order weights).
    pairs : sequence of (int, int)
        Column positions of each crossed pair in the input.
    sizes : sequence of (int, int)
        Codes per column of each pair (a field's vocabulary size, a column's slots).
    kernel_initializer : str or keras.initializers.Initializer, default="uniform"
    **kwargs
        Standard layer arguments (``name``...).

    Examples
    --------
    >>> layer = CrossEmbedding(1, pairs=[(0, 1)], sizes=[(2, 3)], kernel_initializer="zeros")
    >>> _ = layer.build((None, 2))
    >>> layer.kernel.assign(np.arange(6, dtype="float32").reshape(6, 1))  # doctest: +ELLIPSIS
    <...>
    >>> ops.convert_to_numpy(layer(np.array([[1, 2]]))).ravel().tolist()  # cell 1 * 3 + 2
    [5.0]
    """

    def __init__(
        self,
        output_dim: int,
        pairs: Sequence[Sequence[int]],
        sizes: Sequence[Sequence[int]],
        kernel_initializer: Any = "uniform",
        **kwargs: Any,
    ) -> None:
        if int(output_dim) < 1:
            raise ValueError(f"Expected output_dim > 0. Received: output_dim={output_dim}")
        pairs = [(int(i), int(j)) for i, j in pairs]
        sizes = [(int(m), int(n)) for m, n in sizes]
        if not pairs or any(i == j or min(i, j) < 0 for i, j in pairs):
            raise ValueError(f"Expected pairs of two different columns. Received: pairs={pairs}")
        if len(sizes) != len(pairs) or any(min(size) < 1 for size in sizes):
            raise ValueError(
                f"Expected a positive (size, size) per pair. Received: sizes={sizes} for "
                f"{len(pairs)} pairs"
            )
        super().__init__(**kwargs)
        self.output_dim = int(output_dim)
        self.pairs = pairs
        self.sizes = sizes
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 2 or input_shape[1] is None:
            raise ValueError(
                "Expected codes of shape (batch, n_columns). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        if max(max(pair) for pair in self.pairs) >= int(input_shape[1]):
            raise ValueError(
                f"Expected pairs of the {input_shape[1]} input columns. Received: {self.pairs}"
            )
        cells = [m * n for m, n in self.sizes]
        self.kernel = self.add_weight(
            shape=(sum(cells), self.output_dim),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.first = np.array([i for i, _ in self.pairs], dtype="int32")
        self.second = np.array([j for _, j in self.pairs], dtype="int32")
        self.strides = np.array([n for _, n in self.sizes], dtype="int32")
        self.offsets = np.concatenate([[0], np.cumsum(cells)[:-1]]).astype("int32")
        self.built = True

    def call(self, inputs: Any) -> Any:
        codes = ops.cast(inputs, "int32")
        first = ops.take(codes, ops.convert_to_tensor(self.first), axis=1)
        second = ops.take(codes, ops.convert_to_tensor(self.second), axis=1)
        cells = first * ops.convert_to_tensor(self.strides) + second
        return ops.take(self.kernel, cells + ops.convert_to_tensor(self.offsets), axis=0)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], len(self.pairs), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "output_dim": self.output_dim,
            "pairs": [list(pair) for pair in self.pairs],
            "sizes": [list(size) for size in self.sizes],
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


@keras.saving.register_keras_serializable(package="embedding_core")
class FrequencyBands(keras.layers.Layer):
    """Each chosen field's vocabulary index -> the frequency band of that category
    (``model.frequency``), by lookup in a fixed table.

    Input: vocabulary indices ``(batch, n_fields)``. Output: int32 bands ``(batch,
    len(positions))``, one column per chosen field, ready for a ``FieldEmbedding`` of
    ``frequency.N_BANDS`` rows per field. The table (a band per vocabulary row of each
    chosen field, ``set_bands``) is a non-trainable weight, so a saved model keeps it.

    Parameters
    ----------
    positions : sequence of int
        Input columns of the chosen fields.
    field_sizes : sequence of int
        Vocabulary size of each chosen field.
    **kwargs
        Standard layer arguments (``name``...).

    Examples
    --------
    >>> layer = FrequencyBands(positions=[1], field_sizes=[3])
    >>> _ = layer.build((None, 2))
    >>> layer.set_bands([np.array([0, 5, 9])])
    >>> ops.convert_to_numpy(layer(np.array([[7, 2], [7, 1]]))).ravel().tolist()
    [9, 5]
    """

    def __init__(self, positions: Sequence[int], field_sizes: Sequence[int], **kwargs: Any) -> None:
        positions = [int(p) for p in positions]
        sizes = [int(s) for s in field_sizes]
        if not positions or len(sizes) != len(positions) or min(sizes) < 1 or min(positions) < 0:
            raise ValueError(
                "Expected a column position and a positive size per chosen field. "
                f"Received: positions={positions}, field_sizes={sizes}"
            )
        super().__init__(**kwargs)
        self.positions = positions
        self.field_sizes = sizes
        self.offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype("int32")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 2 or input_shape[1] is None or max(self.positions) >= input_shape[1]:
            raise ValueError(
                f"Expected indices of shape (batch, n_fields) with n_fields > "
                f"{max(self.positions)}. Received: input_shape={tuple(input_shape)}"
            )
        self.bands = self.add_weight(
            shape=(sum(self.field_sizes),),
            initializer="zeros",
            dtype="int32",
            trainable=False,
            name="bands",
        )
        self.built = True

    def set_bands(self, bands: Sequence[np.ndarray]) -> None:
        """Set the band of every vocabulary row, one array per chosen field."""
        sizes = [len(b) for b in bands]
        if sizes != self.field_sizes:
            raise ValueError(f"Expected bands of sizes {self.field_sizes}. Received: {sizes}")
        self.bands.assign(np.concatenate(bands).astype("int32"))

    def call(self, inputs: Any) -> Any:
        codes = ops.take(ops.cast(inputs, "int32"), ops.convert_to_tensor(self.positions), axis=1)
        return ops.take(self.bands, codes + ops.convert_to_tensor(self.offsets), axis=0)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], len(self.positions))

    def compute_output_spec(self, inputs: Any) -> Any:
        return keras.KerasTensor((inputs.shape[0], len(self.positions)), dtype="int32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "positions": list(self.positions),
            "field_sizes": list(self.field_sizes),
        }


@keras.saving.register_keras_serializable(package="embedding_core")
class CategoryDropout(keras.layers.Layer):
    """In training, a chosen field's category index becomes the unknown row's (0) with
    probability ``rate``, for each row and field independently; at prediction the
    indices pass unchanged (``model.category_dropout``).

    Input and output: vocabulary indices ``(batch, n_fields)``, int32.

    Parameters
    ----------
    rate : float
        In [0, 1).
    fields : sequence of bool
        One per input column: whether its categories are dropped.
    seed : int, optional
        Seeds the masks (the same seed, the same masks).
    **kwargs
        Standard layer arguments (``name``...).

    Examples
    --------
    >>> layer = CategoryDropout(0.5, fields=[True, False], seed=0)
    >>> x = np.full((1000, 2), 7, dtype="int32")
    >>> out = ops.convert_to_numpy(layer(x, training=True))
    >>> bool((out[:, 0] == 0).any()), int(out[:, 1].min())
    (True, 7)
    >>> int(ops.convert_to_numpy(layer(x)).min())
    7
    """

    def __init__(
        self, rate: float, fields: Sequence[bool], seed: int | None = None, **kwargs: Any
    ) -> None:
        if not 0 <= rate < 1 or not len(fields):
            raise ValueError(
                "Expected a rate in [0, 1) and one flag per field. "
                f"Received: rate={rate}, fields={list(fields)}"
            )
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.fields = [bool(f) for f in fields]
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        indices = ops.cast(inputs, "int32")
        if not training or self.rate == 0:
            return indices
        chosen = ops.convert_to_tensor(np.asarray(self.fields))
        draw = keras.random.uniform(ops.shape(indices), seed=self.seed_generator)
        return ops.where(ops.logical_and(draw < self.rate, chosen), 0, indices)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(input_shape)

    def compute_output_spec(self, inputs: Any, training: bool | None = None) -> Any:
        return keras.KerasTensor(inputs.shape, dtype="int32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "fields": self.fields, "seed": self.seed}


def numeric_encoded_input(encoder: Any, name: str, *, one_hot: bool = True) -> tuple[Any, Any]:
    """The model input for a ``NumericEncoder``'s output and the encoding layers read.

    Returns ``(input, encoding)``: with ``encoder.as_index`` an int32 input of slot
    indices and, as the encoding, its ``SlotOneHot`` expansion (``one_hot=False``: the
    indices themselves, for ``NumericEmbedding(n_slots=...)``); otherwise (PLE, and runs
    saved before the index input) one float32 input that is already dense.
    """
    n_columns, n_slots = len(encoder.columns), encoder.n_slots
    if not encoder.as_index:
        enc_in = keras.Input(shape=(n_columns, n_slots), name=name)
        return enc_in, enc_in
    enc_in = keras.Input(shape=(n_columns,), dtype="int32", name=name)
    if not one_hot:
        return enc_in, enc_in
    return enc_in, SlotOneHot(n_slots, name=f"{name}_one_hot")(enc_in)
