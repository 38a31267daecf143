"""Training configuration: one frozen dataclass with defaults that work without tuning."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from embedding_core.model.numeric import NUMERIC_ENCODINGS

__all__ = ["TrainConfig", "MODELS"]

#: Model types ``train`` can build: DeepFM (the default) and an entity-embedding network.
MODELS = ("deepfm", "entity")


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of a DeepFM training run.

    Parameters
    ----------
    embedding_dim : int, default=8
        Size k of every category vector (shared by the FM and the deep part).
    hidden_units : tuple of int, default=(256, 128, 64)
        Layer sizes of the deep part's MLP.
    dropout : float, default=0.1
        Dropout rate after each hidden layer.
    l2_embedding : float, default=1e-6
        L2 penalty on embedding rows (per row used in a batch).
    learning_rate : float, default=3e-3
        Adam learning rate (equal or better than 1e-3 on every shared dataset, and
        fewer epochs; see README).
    batch_size : int, default=1024
        Largest batch size. On small data the batch shrinks so an epoch has at least
        20 optimiser steps (never below 16 rows); ``metrics["batch_size"]`` says what was used.
    epochs : int, default=20
        Maximum number of epochs; early stopping usually ends sooner.
    patience : int, default=2
        Epochs without validation-loss improvement before stopping (best weights kept).
    valid_fraction : float, default=0.2
        Share of the training rows held out for validation and early stopping.
    min_count : int, default=2
        Categories seen fewer times in training share the unknown vector.
    max_vocabulary : int, default=1_000_000
        Most categories kept per field (the most frequent); the others share the
        unknown vector too. Bounds the model's size on fields with millions of values.
    refit : bool, default=True
        After early stopping, train again from the initial weights (same vocabulary) on all rows,
        the validation rows included, for the best epoch count, and keep that one. The
        reported ``valid_*`` figures are those of the early-stopped model. Costs about
        a third to two thirds of the first fit; worth +0.01 test AUC on high-cardinality data
        (see README, Benchmarks). ``False`` keeps the early-stopped model.
    seed : int, default=0
        Seeds the split, the weight initialisation and the batch order.
    numeric_encoding : {"scaled", "bins", "ple"}, default="scaled"
        How numeric columns enter the model. ``"scaled"``: standardised values in the
        linear term and the MLP only. ``"bins"`` (quantile bins, a vector each) and
        ``"ple"`` (piecewise-linear encoding, Gorishniy et al. 2022) add a k-dimensional
        vector per numeric column, which the FM term pairs with the categories; see
        ``model.numeric`` and the README's benchmarks for the measured choice.
    numeric_bins : int, default=16
        Most quantile bins per numeric column for ``"bins"`` and ``"ple"``.
    model : {"deepfm", "entity"}, default="deepfm"
        ``"entity"``: an entity-embedding network (Guo & Berkhahn 2016), one table per
        field with its own size, concatenated into the MLP; no FM term, so fields need
        not share a size (see ``embedding_core.model.entity``).
    embedding_dims : dict of str to int, optional
        Entity networks only: vector size per field, overriding the default
        ``min(50, ceil(categories / 2))`` for the fields named.
    init_embeddings : str, Path or TrainedRun, optional
        Start every field the earlier run knows from its vectors, rows matched by
        category name (categories it does not know start from its unknown vector).
        A saved run directory or a ``TrainedRun``. See ``embedding_core.model.init``.
    freeze_embeddings : bool, default=False
        With ``init_embeddings``: keep the loaded tables fixed (they do not change at
        all) instead of fine-tuning them with the rest of the model.
    """

    embedding_dim: int = 8
    hidden_units: tuple[int, ...] = (256, 128, 64)
    dropout: float = 0.1
    l2_embedding: float = 1e-6
    learning_rate: float = 3e-3
    batch_size: int = 1024
    epochs: int = 20
    patience: int = 2
    valid_fraction: float = 0.2
    min_count: int = 2
    max_vocabulary: int = 1_000_000
    refit: bool = True
    seed: int = 0
    numeric_encoding: str = "scaled"
    numeric_bins: int = 16
    model: str = "deepfm"
    embedding_dims: dict[str, int] | None = None
    init_embeddings: Any = None
    freeze_embeddings: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_units", tuple(int(u) for u in self.hidden_units))
        if self.model not in MODELS:
            raise ValueError(f"Expected model in {MODELS}. Received: model={self.model!r}")
        if self.embedding_dims is not None:
            dims = {str(k): int(v) for k, v in dict(self.embedding_dims).items()}
            if any(v < 1 for v in dims.values()):
                raise ValueError(
                    f"Expected embedding_dims all > 0. Received: embedding_dims={dims}"
                )
            object.__setattr__(self, "embedding_dims", dims or None)
            if dims and self.model != "entity":
                raise ValueError(
                    "Expected embedding_dims only with model='entity' (DeepFM uses one "
                    f"embedding_dim for every field). Received: model={self.model!r}"
                )
        if isinstance(self.init_embeddings, Path):
            object.__setattr__(self, "init_embeddings", str(self.init_embeddings))
        if self.freeze_embeddings and self.init_embeddings is None:
            raise ValueError(
                "Expected init_embeddings with freeze_embeddings=True: there is nothing "
                "to freeze without a run to start from."
            )
        checks = [
            ("embedding_dim", self.embedding_dim >= 1, "> 0"),
            ("batch_size", self.batch_size >= 1, "> 0"),
            ("epochs", self.epochs >= 1, ">= 1"),
            ("patience", self.patience >= 0, ">= 0"),
            ("min_count", self.min_count >= 1, ">= 1"),
            ("max_vocabulary", self.max_vocabulary >= 1, ">= 1"),
            ("learning_rate", self.learning_rate > 0, "> 0"),
            ("l2_embedding", self.l2_embedding >= 0, ">= 0"),
            ("dropout", 0 <= self.dropout < 1, "in [0, 1)"),
            ("valid_fraction", 0 < self.valid_fraction < 1, "in (0, 1)"),
            (
                "numeric_encoding",
                self.numeric_encoding in NUMERIC_ENCODINGS,
                f"in {NUMERIC_ENCODINGS}",
            ),
            ("numeric_bins", self.numeric_bins >= 1, ">= 1"),
        ]
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"Expected {name} {rule}. Received: {name}={getattr(self, name)}")
        if any(u < 1 for u in self.hidden_units):
            raise ValueError(
                f"Expected hidden_units all > 0. Received: hidden_units={self.hidden_units}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (a ``TrainedRun`` in ``init_embeddings`` is
        written as its label, see ``init.source_label``)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["hidden_units"] = list(self.hidden_units)
        d["embedding_dims"] = dict(self.embedding_dims) if self.embedding_dims else None
        if self.init_embeddings is not None and not isinstance(self.init_embeddings, str):
            from embedding_core.model.init import source_label

            d["init_embeddings"] = source_label(self.init_embeddings)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of ``to_dict``; unknown keys are ignored (forward compatibility)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)
