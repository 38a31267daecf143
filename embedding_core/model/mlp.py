"""The deep part's hidden layers, and the precision they compute in.

Both networks (``deepfm``, ``entity``) end in the same MLP: ``Dense(units, "relu")`` per
entry of ``TrainConfig.hidden_units``, each followed by dropout. Its matrix products are
most of a training step's time on a CPU. Where the CPU multiplies bfloat16 matrices in
hardware (AVX512-BF16 or AMX), the hidden layers compute in bfloat16 with float32
weights (Keras's ``"mixed_bfloat16"`` policy); the category tables, the FM and linear
terms, the output layer and the loss stay in float32. ``TrainConfig.deep_precision``
chooses (``resolve_precision``); see the README's "Training speed, round 16" for what
it measured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedding_core.model.config import TrainConfig

if TYPE_CHECKING:
    import keras

__all__ = ["hidden_layers", "deep_dtype", "resolve_precision", "native_bfloat16"]

BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
CPUINFO = Path("/proc/cpuinfo")
#: ``"auto"`` keeps float32 below this many training rows: such a fit lasts seconds
#: either way, and on german_credit (640 rows) bfloat16 cost 0.005 test AUC over 8 seeds.
BF16_MIN_ROWS = 10_000


def native_bfloat16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU has bfloat16 matrix instructions (``avx512_bf16``, ``amx_bf16``).

    Reads ``/proc/cpuinfo`` (Linux) unless ``cpuinfo`` text is given; ``False`` where
    there is none to read. Without them TensorFlow emulates bfloat16 products, which is
    slower than float32.
    """
    if cpuinfo is None:
        try:
            cpuinfo = CPUINFO.read_text(errors="replace")
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return not BF16_FLAGS.isdisjoint(value.split())
    return False


def resolve_precision(precision: str, n_rows: int | None = None) -> str:
    """``"bfloat16"`` or ``"float32"`` for ``TrainConfig.deep_precision``.

    ``"auto"`` is bfloat16 on a CPU with bfloat16 instructions, when TensorFlow sees no
    GPU, its oneDNN kernels are on (``TF_ENABLE_ONEDNN_OPTS`` not ``0``) and there are
    at least ``BF16_MIN_ROWS`` training rows (``n_rows``; ``None``: not known, counted
    as enough); float32 otherwise.
    """
    if precision != "auto":
        return precision
    if n_rows is not None and n_rows < BF16_MIN_ROWS:
        return "float32"
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip() == "0" or not native_bfloat16():
        return "float32"
    import tensorflow as tf

    return "float32" if tf.config.list_physical_devices("GPU") else "bfloat16"


def deep_dtype(precision: str) -> str:
    """The Keras dtype policy of the hidden layers for ``TrainConfig.deep_precision``."""
    return "mixed_bfloat16" if resolve_precision(precision) == "bfloat16" else "float32"


def hidden_layers(h: Any, config: TrainConfig) -> keras.KerasTensor:
    """``h`` through the hidden layers (``"deep_0"``, ``"deep_dropout_0"``, ...), in
    the precision ``deep_dtype(config.deep_precision)`` names.

    The output is in the layers' compute dtype; a float32 layer after them casts it back.
    """
    from keras import layers

    dtype = deep_dtype(config.deep_precision)
    for i, units in enumerate(config.hidden_units):
        h = layers.Dense(units, activation="relu", name=f"deep_{i}", dtype=dtype)(h)
        if config.dropout > 0:
            h = layers.Dropout(config.dropout, name=f"deep_dropout_{i}", dtype=dtype)(h)
    return h
