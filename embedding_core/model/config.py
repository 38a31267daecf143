"""Training configuration: one frozen dataclass with defaults that work without tuning."""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from embedding_core.model.numeric import NUMERIC_ENCODINGS

__all__ = [
    "TrainConfig",
    "MODELS",
    "FINAL_FITS",
    "DEEP_PRECISIONS",
    "CROSSES",
    "FREQUENCY_BANDS",
    "MAX_PARAMETERS",
    "parameter_count",
    "check_model_size",
    "parse_hidden_units",
]

#: Model types ``train`` can build: DeepFM (the default) and an entity-embedding network.
MODELS = ("deepfm", "entity")

#: What ``refit`` does after early stopping (``TrainConfig.final_fit``).
FINAL_FITS = ("auto", "refit", "holdout")

#: Crossed columns (``TrainConfig.crosses``): chosen from the data, or none.
CROSSES = ("auto", "none")

#: Frequency bands of many-valued fields (``TrainConfig.frequency_bands``).
FREQUENCY_BANDS = ("auto", "none")

#: The hidden layers' precision (``TrainConfig.deep_precision``, ``model.mlp``).
DEEP_PRECISIONS = ("auto", "bfloat16", "float32")

#: Largest model (trainable weights) ``train`` builds: 50M float32 weights are 200 MB,
#: about 600 MB with the optimiser's two moment tables.
MAX_PARAMETERS = 50_000_000
MAX_EMBEDDING_DIM = 1024
MAX_HIDDEN_UNITS = 8192
MAX_HIDDEN_LAYERS = 16
MAX_BATCH_SIZE = 1 << 20
MAX_EPOCHS = 10_000
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of a DeepFM training run.

    Parameters
    ----------
    embedding_dim : int, default=16
        Size k of every category vector (shared by the FM and the deep part). 16 since
        round 5 (before: 8); measured (README, "Vector size"): it passed the adoption
        rule over seeds 0-2 on the six shared sets and hotel_adr, with the largest gains
        on the sets with many-valued fields (amazon_access, diabetes_readmission).
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
        Epochs without validation-loss improvement before stopping (best weights kept),
        below ``final_fit.BIG_TABLE_ROWS`` training rows (see ``big_table_patience``).
    big_table_patience : int or None, default=1
        Patience from ``final_fit.BIG_TABLE_ROWS`` (200,000) training rows up, where an
        epoch is hundreds of steps and one worse epoch on a large validation split is
        a clear signal. ``None``: ``patience`` at every size. Measured (README,
        "Training time"): at 1M rows x 20 fields it saves an epoch (82 -> 56-61 CPU
        seconds) at the same test AUC; patience 1 on every table lost 1.03 sd on
        amazon_access (20,972 training rows), so smaller tables keep ``patience``.
    epoch_tolerance : float, default=0.005
        When early stopping picks the epoch count (and so the final refit's), every later
        epoch whose validation loss is within this fraction of the lowest ties with it,
        and of the tied epochs the one with the highest validation AUC (accuracy for
        classes) is kept (``model.stopping``). 0: the lowest-loss epoch; regression
        always keeps it. Measured (README, "Rare categories, the tied epoch", round 13):
        planted 1,000-category field, data seed 1, neighbour precision 0.618 -> 0.647
        over eight training seeds, with the same test figures on the six shared sets and
        hotel_adr.
    valid_fraction : float, default=0.2
        Share of the training rows held out for validation and early stopping.
    min_count : int, default=2
        Categories seen fewer times in training share the unknown vector.
    max_vocabulary : int, default=1_000_000
        Most categories kept per field (the most frequent); the others share the
        unknown vector too. Bounds the model's size on fields with millions of values.
    refit : bool, default=True
        After early stopping, let the kept model learn from the validation rows too, by
        the final step ``final_fit`` names. The reported ``valid_*`` figures are those of
        the early-stopped model. ``False`` keeps the early-stopped model.
    final_fit : {"auto", "refit", "holdout"}, default="auto"
        The final step of ``refit``. ``"refit"``: train again from the initial weights
        (same vocabulary) on all rows for the best epoch count (costs a third to two
        thirds of the first fit). ``"holdout"``: continue the early-stopped model for one
        pass over the held-out validation rows only (a fifth of an epoch), so the kept
        model has seen every row. ``"auto"`` (since round 3; before, always the refit):
        the refit below ``final_fit.BIG_TABLE_ROWS`` (200,000) training rows and for
        regression at every size, the holdout pass on bigger classification tables.
        Measured (README, "Training time"): on a 1M-row x 20-field table the holdout pass
        is level with the refit (test AUC 0.8113 vs 0.8110) for 6-8 CPU seconds instead
        of about 28; on smaller tables the refit's neighbours are clearly better (the
        planted benchmark's 1,000-category field: precision@5 0.67 vs 0.57), on
        german_credit its test AUC is 0.02 higher, and on hotel_adr its RMSE 1.4 sd lower.
    average_early : bool, default=True
        After a ``"refit"`` final fit, ``predict`` averages the early-stopped model's
        predictions with the refit model's (probabilities, or values in the target's
        scale). The vectors, tables and ``model`` stay the refit model's; the early-stopped
        weights are kept with the run (``early_weights.npz``). Measured over 8 seeds
        (README, Benchmarks, "Round 22" and "Round 23"): amazon_access test AUC 0.8667 ->
        0.8693 (higher on every seed), hotel_adr RMSE 36.90 -> 36.83, no other set down
        by more than 0.2 sd, and the planted neighbours unchanged. No effect without a
        refit (``refit=False`` or the holdout pass).
    row_bias_correction : bool, default=False
        Correct Adam's moment bias per category row (embedding and first-order weight)
        by the row's own update count instead of the global step
        (``model.rare_rows.RowAdam``): without it a rare row's steps are several times
        larger than a frequent row's.
    embedding_lr_factor : float, default=1.0
        The category tables (vectors and first-order weights) learn at this multiple of
        ``learning_rate``; the MLP and other dense weights at ``learning_rate``. Measured
        (README, "Rare categories, the epoch count"): 3 moves the structure into the
        vectors (planted 1,000-category field, data seed 1: neighbour precision 0.618 ->
        0.656 over eight training seeds; amazon_access test AUC +0.006) but costs test
        AUC on tables with many small fields (diabetes_readmission -0.004), so the
        default stays 1. Worth trying when neighbours of rare categories matter most.
    fm_field_weights : bool, default=False
        Field-weighted FM term (Pan et al. 2018): a learned weight per pair of fields
        (and numeric and crossed columns) scales that pair's ``<v_a, v_b>``
        (``fm_layer.FMInteraction``), so a pair the target does not need can fade out
        through its weight; ``run.fm_pair_weights()`` gives the weights, and the
        Interactions page and report scale each pair's strength by them. Measured
        (README, "Field-weighted FM"): level test AUC on the six shared sets and
        hotel_adr and level planted neighbours over eight training seeds, for more time
        per epoch on wide tables (O(F^2 k) instead of O(F k) per row), so not the
        default.
    seed : int, default=0
        Seeds the split, the weight initialisation and the batch order.
    numeric_encoding : {"scaled", "bins", "ple"}, default="bins"
        How numeric columns enter the model. ``"scaled"``: standardised values in the
        linear term and the MLP only. ``"bins"`` (quantile bins, a vector and a
        first-order weight each) and ``"ple"`` (piecewise-linear encoding, Gorishniy et
        al. 2022) add a k-dimensional vector per numeric column, which the FM term pairs
        with the categories and the MLP reads, next to the scaled value; see
        ``model.numeric`` and the README's benchmarks for the measured choice. Streamed
        training uses ``"scaled"``.
    numeric_bins : int, default=32
        Most quantile bins per numeric column for ``"bins"`` and ``"ple"`` (fewer on
        small data: ``numeric.MIN_ROWS_PER_BIN``). 32 since round 5 (before: 16);
        measured (README, "Numeric bins"): finer thresholds closed adult's gap to
        TE+HGB. ``"bins"`` enters the model as one bin index per numeric column and row
        (4 bytes, whatever the count); PLE's input costs ``4 * (bins + 1)`` bytes, and a
        table where that passes ``numeric.MAX_INPUT_BYTES`` (1 GiB) gets fewer PLE bins,
        which the run's warnings say.
    ema_epochs : float, default=0.5
        Weight averaging: validation, early stopping and the kept model use an
        exponential moving average of the weights with this time constant in epochs
        (``model.averaging``); 0 turns it off. Measured (README, "Weight averaging"):
        0.5 (the default since round 4) passed the adoption rule over seeds 0-2 on the
        six shared sets and hotel_adr; it costs more epochs (the average keeps
        improving for longer). In-memory training only: streamed training ignores it.
    crosses : {"auto", "none"}, default="auto"
        ``"auto"``: columns of small whole numbers (a month, a day, an hour, a code:
        numeric columns with at most ``numeric_bins`` distinct values, or categorical
        fields with at most as many whole-number categories) are crossed in pairs where
        the pair's cells act on the target beyond the two columns alone
        (``model.crosses``, at most three pairs): each cell gets its own vector and
        first-order weight, like a category. DeepFM only, binary and regression
        targets; numeric columns take part with ``"bins"``. Measured (README, "Crossed
        columns"): +0.028 test AUC on a flights table whose date enters as month and
        day, numeric or categorical; level on the six shared sets.
    frequency_bands : {"auto", "none"}, default="none"
        ``"auto"``: every categorical field of at least ``frequency.MIN_CATEGORIES`` (50)
        categories also gets a vector and a first-order weight per frequency band (how
        many training rows a category has, on a log scale; ``model.frequency``), which
        join the FM term and the MLP like one more field, so a rare category is known
        to be rare. DeepFM only. Measured (README, "Frequency bands", round 17): test
        AUC +0.0057 on amazon_access over eight seeds (now ahead of TE+HGB), level on
        the other sets with such fields; but the planted benchmark's categories get
        worse neighbours, at every count (field A precision@5 0.645 -> 0.624 over eight
        seeds). So it is an option for when prediction matters more than neighbours.
    category_dropout : float, default=0.0
        In training, each row's category of a field of at least
        ``frequency.MIN_CATEGORIES`` (50) categories is replaced by the field's unknown
        row with this probability (``model.category_dropout``), so the unknown vector,
        which rare and unseen categories get at prediction, learns from every
        category's rows. DeepFM only; in [0, 1).
    deep_precision : {"auto", "bfloat16", "float32"}, default="auto"
        What the MLP's hidden layers compute in (their weights are float32 either way;
        the tables, FM and linear terms and the output stay float32; ``model.mlp``).
        ``"auto"``: bfloat16 on a CPU with bfloat16 matrix instructions (AVX512-BF16,
        AMX), without a GPU, from 10,000 training rows up; float32 otherwise
        (``mlp.resolve_precision``). ``metrics["deep_precision"]`` says which ran.
        Measured (README, "Training speed, round 16"): steady epochs 1.2-1.5x more
        rows per CPU-second, default fits of the 120k-row sets a third shorter, test
        figures within one sd of float32, planted neighbours level; below 10,000 rows
        it saved no time.
        On a CPU without those instructions ``"bfloat16"`` is emulated and slower.
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

    embedding_dim: int = 16
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
    final_fit: str = "auto"
    average_early: bool = True
    big_table_patience: int | None = 1
    epoch_tolerance: float = 0.005
    row_bias_correction: bool = False
    embedding_lr_factor: float = 1.0
    fm_field_weights: bool = False
    seed: int = 0
    numeric_encoding: str = "bins"
    numeric_bins: int = 32
    ema_epochs: float = 0.5
    crosses: str = "auto"
    frequency_bands: str = "none"
    category_dropout: float = 0.0
    deep_precision: str = "auto"
    model: str = "deepfm"
    embedding_dims: dict[str, int] | None = None
    init_embeddings: Any = None
    freeze_embeddings: bool = False

    def __post_init__(self) -> None:
        try:
            units = tuple(_whole(u) for u in self.hidden_units)
        except (TypeError, ValueError):
            raise ValueError(
                "Expected hidden_units to be whole numbers, e.g. (256, 128, 64). "
                f"Received: hidden_units={self.hidden_units!r}"
            ) from None
        object.__setattr__(self, "hidden_units", units)
        for name in ("embedding_dim", "batch_size", "epochs", "patience", "min_count", "seed"):
            if not _is_whole(getattr(self, name)):
                value = getattr(self, name)
                raise ValueError(
                    f"Expected {name} to be a whole number. Received: {name}={value!r}"
                )
        for name in ("row_bias_correction", "fm_field_weights"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                value = getattr(self, name)
                raise ValueError(f"Expected {name} to be True or False. Received: {name}={value!r}")
        for name in (
            "dropout",
            "l2_embedding",
            "learning_rate",
            "valid_fraction",
            "ema_epochs",
            "embedding_lr_factor",
            "epoch_tolerance",
            "category_dropout",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"Expected {name} to be a number. Received: {name}={value!r}")
            if not math.isfinite(value):
                raise ValueError(f"Expected a finite {name}. Received: {name}={value}")
        if self.model not in MODELS:
            raise ValueError(f"Expected model in {MODELS}. Received: model={self.model!r}")
        if self.embedding_dims is not None:
            dims = {str(k): int(v) for k, v in dict(self.embedding_dims).items()}
            if any(not 1 <= v <= MAX_EMBEDDING_DIM for v in dims.values()):
                raise ValueError(
                    f"Expected embedding_dims all in [1, {MAX_EMBEDDING_DIM}]. "
                    f"Received: embedding_dims={dims}"
                )
            object.__setattr__(self, "embedding_dims", dims or None)
            if dims and self.model != "entity":
                raise ValueError(
                    "Expected embedding_dims only with model='entity' (DeepFM uses one "
                    f"embedding_dim for every field). Received: model={self.model!r}"
                )
        if self.big_table_patience is not None and (
            not _is_whole(self.big_table_patience) or self.big_table_patience < 0
        ):
            raise ValueError(
                "Expected big_table_patience to be a whole number >= 0 or None. "
                f"Received: big_table_patience={self.big_table_patience!r}"
            )
        if isinstance(self.init_embeddings, Path):
            object.__setattr__(self, "init_embeddings", str(self.init_embeddings))
        if self.freeze_embeddings and self.init_embeddings is None:
            raise ValueError(
                "Expected init_embeddings with freeze_embeddings=True: there is nothing "
                "to freeze without a run to start from."
            )
        checks = [
            (
                "embedding_dim",
                1 <= self.embedding_dim <= MAX_EMBEDDING_DIM,
                f"in [1, {MAX_EMBEDDING_DIM}]",
            ),
            ("batch_size", 1 <= self.batch_size <= MAX_BATCH_SIZE, f"in [1, {MAX_BATCH_SIZE}]"),
            ("epochs", 1 <= self.epochs <= MAX_EPOCHS, f"in [1, {MAX_EPOCHS}]"),
            ("patience", self.patience >= 0, ">= 0"),
            ("min_count", self.min_count >= 1, ">= 1"),
            ("max_vocabulary", self.max_vocabulary >= 1, ">= 1"),
            ("learning_rate", 0 < self.learning_rate <= 10, "in (0, 10]"),
            ("embedding_lr_factor", 0 < self.embedding_lr_factor <= 100, "in (0, 100]"),
            ("l2_embedding", self.l2_embedding >= 0, ">= 0"),
            ("epoch_tolerance", 0 <= self.epoch_tolerance <= 1, "in [0, 1]"),
            ("dropout", 0 <= self.dropout < 1, "in [0, 1)"),
            ("category_dropout", 0 <= self.category_dropout < 1, "in [0, 1)"),
            ("valid_fraction", 0 < self.valid_fraction < 1, "in (0, 1)"),
            ("seed", 0 <= self.seed <= MAX_SEED, f"in [0, {MAX_SEED}]"),
            (
                "numeric_encoding",
                self.numeric_encoding in NUMERIC_ENCODINGS,
                f"in {NUMERIC_ENCODINGS}",
            ),
            ("numeric_bins", self.numeric_bins >= 1, ">= 1"),
            ("ema_epochs", 0 <= self.ema_epochs <= MAX_EPOCHS, f"in [0, {MAX_EPOCHS}]"),
            ("crosses", self.crosses in CROSSES, f"in {CROSSES}"),
            ("frequency_bands", self.frequency_bands in FREQUENCY_BANDS, f"in {FREQUENCY_BANDS}"),
            (
                "deep_precision",
                self.deep_precision in DEEP_PRECISIONS,
                f"in {DEEP_PRECISIONS}",
            ),
            ("final_fit", self.final_fit in FINAL_FITS, f"in {FINAL_FITS}"),
        ]
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"Expected {name} {rule}. Received: {name}={getattr(self, name)}")
        if not 1 <= len(self.hidden_units) <= MAX_HIDDEN_LAYERS or any(
            not 1 <= u <= MAX_HIDDEN_UNITS for u in self.hidden_units
        ):
            raise ValueError(
                f"Expected 1 to {MAX_HIDDEN_LAYERS} hidden layers of 1 to {MAX_HIDDEN_UNITS} "
                f"units. Received: hidden_units={self.hidden_units}"
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
        """Inverse of ``to_dict``; unknown keys are ignored (forward compatibility).

        A config without ``numeric_encoding`` was saved before the option existed, when
        numeric columns were always ``"scaled"``; one without ``ema_epochs`` was trained
        without weight averaging, one without ``crosses`` without crossed columns, one
        without ``fm_field_weights`` with the plain FM term, one without
        ``epoch_tolerance`` kept the lowest-loss epoch, one without ``deep_precision``
        computed its MLP in float32, one without ``frequency_bands`` had none, one
        without ``category_dropout`` dropped no category, one without ``average_early``
        predicted with the refit model alone.
        """
        known = {f.name for f in fields(cls)}
        saved = {k: v for k, v in d.items() if k in known}
        defaults = {
            "numeric_encoding": "scaled",
            "ema_epochs": 0.0,
            "crosses": "none",
            "fm_field_weights": False,
            "epoch_tolerance": 0.0,
            "deep_precision": "float32",
            "frequency_bands": "none",
            "category_dropout": 0.0,
            "average_early": False,
        }
        return cls(**{**defaults, **saved})

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _is_whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _whole(value: object) -> int:
    if _is_whole(value):
        return int(value)  # type: ignore[arg-type]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise ValueError(value)


def parse_hidden_units(text: str) -> tuple[int, ...]:
    """Hidden layer sizes written as text: whole numbers separated by commas or spaces.

    ``"256, 128, 64"`` -> ``(256, 128, 64)``. Sizes and the number of layers are checked
    by ``TrainConfig``.

    Raises
    ------
    ValueError
        If a part is not a whole number, or there is none.
    """
    parts = text.replace(",", " ").split()
    try:
        units = tuple(int(part) for part in parts)
    except ValueError:
        units = ()
    if not units:
        raise ValueError(
            "Expected hidden layer sizes as whole numbers separated by commas, e.g. "
            f"256, 128, 64. Received: {text!r}"
        )
    return units


def parameter_count(
    field_sizes: Sequence[int],
    n_numeric: int,
    n_outputs: int,
    config: TrainConfig,
    numeric_shape: tuple[int, int] = (0, 0),
    banded_fields: int = 0,
) -> int:
    """Trainable weights of the DeepFM ``build_deepfm`` would build (to check before building).

    Embedding and first-order tables, the numeric linear term, the numeric vectors of
    ``"bins"``/``"ple"`` (``numeric_shape`` = encoded columns, slots per column), the
    frequency bands' tables (``banded_fields`` fields), the FM class head, the FM field
    weights and the MLP.
    """
    from embedding_core.model.frequency import N_BANDS

    rows = sum(field_sizes) + banded_fields * N_BANDS
    total = rows * (config.embedding_dim + n_outputs) + n_numeric * n_outputs
    columns, slots = numeric_shape
    total += columns * (slots + 1) * (config.embedding_dim + n_outputs)
    columns += banded_fields  # from here on, a banded field counts as one more slot
    if n_outputs > 1:
        total += config.embedding_dim * n_outputs
    if config.fm_field_weights:
        total += (len(field_sizes) + columns) ** 2
    width = (len(field_sizes) + columns) * config.embedding_dim + n_numeric
    for units in config.hidden_units:
        total += (width + 1) * units
        width = units
    return total + (width + 1) * n_outputs


def check_model_size(
    field_sizes: Sequence[int],
    n_numeric: int,
    n_outputs: int,
    config: TrainConfig,
    max_parameters: int = MAX_PARAMETERS,
    numeric_shape: tuple[int, int] = (0, 0),
    banded_fields: int = 0,
) -> int:
    """Raise ``DataError`` if the model would exceed ``max_parameters``; return its size."""
    from embedding_core.errors import DataError

    n = parameter_count(field_sizes, n_numeric, n_outputs, config, numeric_shape, banded_fields)
    if n > max_parameters:
        raise DataError(
            f"The model would have {n:,} weights ({sum(field_sizes):,} category rows x "
            f"embedding size {config.embedding_dim}, hidden units "
            f"{','.join(map(str, config.hidden_units))}), more than the limit of "
            f"{max_parameters:,}: lower the embedding size or the hidden units, or raise "
            "the rare-category threshold (min_count) to keep fewer categories."
        )
    return n
