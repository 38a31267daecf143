"""Vocabularies and numeric statistics of a table too big for memory, in one streaming pass.

``scan_vocabulary`` reads a ``TableSource`` batch by batch and returns the same
``FeatureEncoder`` that ``FeatureEncoder.fit`` would learn from the training rows held
in memory: the same text normalisation (``as_category_text``), the same vocabulary
rule (``category_encoder_from_counts``: ``min_count``, then the ``max_vocabulary`` most
frequent), the same numeric parsing and target coding. Only the per-category counts,
running moments of the numeric columns and the target's labels are kept, so memory
depends on the number of categories, not of rows.

The training rows are those ``split_mask`` leaves out of validation. A
``StreamVocabulary`` also records how many training and validation rows each file
holds: a distributed run uses them to give every worker the same number of steps.
``save``/``load`` write and read it as one JSON file (the ``vocab`` command's output),
which every worker of a distributed run reads so that all agree on category indices.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from embedding_core.data.roles import Roles, Task
from embedding_core.data.stream import TableSource
from embedding_core.errors import DataError
from embedding_core.model.features import FeatureEncoder

__all__ = ["StreamVocabulary", "scan_vocabulary", "VOCABULARY_FORMAT"]

VOCABULARY_FORMAT = "embedding_core.stream_vocabulary/1"
#: Distinct target labels tracked; beyond this the target can only be numeric.
_MAX_TARGET_LABELS = 1_000
#: Merge the per-batch category counts of a field once this many entries pile up.
_MERGE_ENTRIES = 2_000_000

StatusCallback = Callable[[str], None]


@dataclass
class StreamVocabulary:
    """What one pass over a table learned, enough to encode any of its rows.

    Attributes
    ----------
    features : FeatureEncoder
        Vocabularies, numeric scaling and target coding from the training rows.
    files : list of dict
        Per file, in source order: ``name``, ``train_rows``, ``valid_rows`` (rows with
        a target).
    valid_fraction, seed : float, int
        The ``split_mask`` parameters that chose the validation rows.
    dropped_rows : int
        Rows left out because their target was missing.
    warnings : list of str
        What the user should know (as ``validate_roles`` warns), after what the reading
        did (``read_csv``'s notes: numbers read from decimal commas...).
    """

    features: FeatureEncoder
    files: list[dict[str, Any]]
    valid_fraction: float
    seed: int
    dropped_rows: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def train_rows(self) -> int:
        """Training rows over all files."""
        return int(sum(f["train_rows"] for f in self.files))

    @property
    def valid_rows(self) -> int:
        """Validation rows over all files."""
        return int(sum(f["valid_rows"] for f in self.files))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "format": VOCABULARY_FORMAT,
            "features": self.features.to_dict(),
            "files": [dict(f) for f in self.files],
            "valid_fraction": self.valid_fraction,
            "seed": self.seed,
            "dropped_rows": self.dropped_rows,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StreamVocabulary:
        """Inverse of ``to_dict``."""
        return cls(
            features=FeatureEncoder.from_dict(d["features"]),
            files=[
                {
                    "name": str(f["name"]),
                    "train_rows": int(f["train_rows"]),
                    "valid_rows": int(f["valid_rows"]),
                }
                for f in d["files"]
            ],
            valid_fraction=float(d["valid_fraction"]),
            seed=int(d["seed"]),
            dropped_rows=int(d.get("dropped_rows", 0)),
            warnings=[str(w) for w in d.get("warnings", [])],
        )

    def save(self, path: str | Path) -> Path:
        """Write the vocabulary file (JSON); returns its path."""
        out = Path(path)
        if out.parent and not out.parent.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.to_dict()) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path) -> StreamVocabulary:
        """Read a file written by ``save`` (the ``vocab`` command).

        Raises
        ------
        DataError
            The file is missing or is not a vocabulary file.
        """
        source = Path(path)
        try:
            d = json.loads(source.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(
                f"Cannot read the vocabulary file {source} ({exc}): write it with the "
                "vocab command."
            ) from exc
        if not isinstance(d, dict) or d.get("format") != VOCABULARY_FORMAT:
            raise DataError(
                f"{source} is not a vocabulary file written by the vocab command: "
                "write it again with `python -m embedding_core vocab`."
            )
        try:
            return cls.from_dict(d)
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{source} is damaged ({exc}): write it again.") from exc

    def check_matches(self, source: TableSource, roles: Roles) -> None:
        """Raise ``DataError`` if this vocabulary was made for other files or columns."""
        names = list(source.names)
        if names != [f["name"] for f in self.files]:
            raise DataError(
                "The vocabulary file was written for other data files "
                f"({len(self.files)} files, not these {len(names)}): run vocab again on "
                "the same --data."
            )
        known = self.features.roles_
        if (known.categorical, known.numeric, known.target) != (
            roles.categorical,
            roles.numeric,
            roles.target,
        ):
            raise DataError(
                "The vocabulary file was written for other columns: pass the same "
                "--categorical, --numeric and --target to vocab and train."
            )


class _Moments:
    """Count, mean and sum of squared deviations, merged batch by batch (Chan et al.)."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, x: np.ndarray) -> None:
        x = x[np.isfinite(x)]
        if not x.size:
            return
        n_b, mean_b = x.size, float(x.mean())
        m2_b = float(((x - mean_b) ** 2).sum())
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * self.n * n_b / n
        self.n = n

    @property
    def std(self) -> float:
        return float(np.sqrt(self.m2 / self.n)) if self.n else 1.0


class _Counts:
    """Category counts of one field, merged from per-batch counts."""

    def __init__(self) -> None:
        self.parts: list[pd.Series] = []
        self.entries = 0
        self.missing = 0

    def add(self, text: pd.Series) -> None:
        self.missing += int(text.isna().sum())
        counts = text.value_counts(dropna=True, sort=False)
        self.parts.append(counts)
        self.entries += len(counts)
        if self.entries > _MERGE_ENTRIES and len(self.parts) > 1:
            self.parts = [self.total()]
            self.entries = len(self.parts[0])

    def total(self) -> pd.Series:
        if not self.parts:
            return pd.Series([], dtype="int64")
        if len(self.parts) == 1:
            return self.parts[0]
        return pd.concat(self.parts).groupby(level=0, sort=False).sum()


def scan_vocabulary(
    source: TableSource,
    roles: Roles,
    *,
    min_count: int = 2,
    max_vocabulary: int | None = 1_000_000,
    valid_fraction: float = 0.2,
    seed: int = 0,
    max_rows: int | None = None,
    on_status: StatusCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> StreamVocabulary:
    """One pass over ``source``: vocabularies, numeric scaling and target coding.

    Parameters
    ----------
    source : TableSource
        From ``open_table``.
    roles : Roles
        The columns; ``roles.task`` may be ``None`` (inferred from the target's values).
    min_count, max_vocabulary : int
        The vocabulary rule (see ``category_encoder_from_counts``).
    valid_fraction, seed : float, int
        The validation split (``split_mask``); statistics come from the other rows.
    max_rows : int, optional
        Read at most this many rows (from the first files).
    on_status : callable, optional
        Receives a line of text now and then (rows read, rows per second).
    should_stop : callable, optional
        Checked at every batch: returning True stops the pass (``TrainingCancelled``).

    Returns
    -------
    StreamVocabulary

    Raises
    ------
    TrainingCancelled
        ``should_stop`` returned True.
    DataError
        As ``validate_roles`` would: bad roles, text in a numeric column, a target that
        does not fit the task, too few rows.
    """
    from embedding_core.data.encoding import as_category_text, category_encoder_from_counts
    from embedding_core.data.leakage import MAX_ROWS, leaking_columns
    from embedding_core.data.validation import MIN_ROWS, check_roles
    from embedding_core.data.values import parse_numeric
    from embedding_core.model.features import input_names, target_classes, target_text

    check_roles(pd.Index(source.columns), roles)
    counts = {c: _Counts() for c in roles.categorical}
    numeric = {c: _Moments() for c in roles.numeric}
    numeric_missing = dict.fromkeys(roles.numeric, 0)
    target_moments = _Moments()
    target_counts: pd.Series = pd.Series([], dtype="int64")
    target_overflow = False
    target_bad: list[str] = []
    files = [{"name": name, "train_rows": 0, "valid_rows": 0} for name in source.names]
    rows_read = dropped = 0
    first_rows: list[pd.DataFrame] = []  # the leak check's rows (leakage.MAX_ROWS at most)
    n_first = 0
    read_notes: list[str] = []  # numbers read from decimal commas, lines read as cp1252

    for batch in source.split_batches(
        roles.features,
        roles.target,
        valid_fraction=valid_fraction,
        seed=seed,
        max_rows=max_rows,
        should_stop=should_stop,
        on_status=on_status,
        label="vocabulary",
        notes=read_notes,
    ):
        frame, valid, keep = batch.frame, batch.valid, batch.labelled
        rows_read += len(frame)
        dropped += int((~keep).sum())
        train = keep & ~valid
        files[batch.file]["train_rows"] += int(train.sum())
        files[batch.file]["valid_rows"] += int((keep & valid).sum())
        kept = frame[keep]
        train_rows = frame[train]
        if n_first < MAX_ROWS:
            first_rows.append(kept.iloc[: MAX_ROWS - n_first])
            n_first += len(first_rows[-1])
        for c in roles.categorical:
            counts[c].add(as_category_text(train_rows[c]))
        for c in roles.numeric:
            numbers, bad = parse_numeric(kept[c])
            if bad:
                raise DataError(
                    f"The numeric column '{c}' contains values that are not numbers "
                    f"({', '.join(repr(b) for b in bad[:5])}): fix them, or use '{c}' as a "
                    "categorical column instead."
                )
            numeric_missing[c] += int(numbers.isna().sum())
            numeric[c].add(numbers[~valid[keep]].to_numpy())
        labels = target_text(train_rows[roles.target])
        if not target_overflow:
            target_counts = pd.concat([target_counts, labels.value_counts()]).groupby(level=0).sum()
            target_overflow = len(target_counts) > _MAX_TARGET_LABELS
        numbers, bad = parse_numeric(train_rows[roles.target])
        target_bad.extend(bad[:5])
        target_moments.add(numbers.to_numpy())

    n_rows = rows_read - dropped
    if n_rows < MIN_ROWS:
        raise DataError(
            f"{source.label} has only {n_rows:,} rows with a target value, but at least "
            f"{MIN_ROWS:,} are needed to train: use more data."
        )
    if not sum(f["train_rows"] for f in files) or not sum(f["valid_rows"] for f in files):
        raise DataError(f"{source.label} is too small to hold out validation rows: use more data.")
    task = _stream_task(roles, target_counts, target_overflow, target_bad)
    warnings = list(read_notes)
    if dropped:
        warnings.append(
            f"{dropped:,} of {rows_read:,} rows have no value for the target "
            f"'{roles.target}' and were left out."
        )
    for c in roles.numeric:
        if numeric[c].n == 0:
            raise DataError(
                f"The numeric column '{c}' has no values: leave it out of the numeric columns."
            )
        if numeric_missing[c]:
            share = numeric_missing[c] / n_rows
            warnings.append(
                f"Numeric column '{c}' is missing in {share:.1%} of rows; "
                "those cells are filled with its average and flagged."
            )

    head = pd.concat(first_rows, ignore_index=True)  # as in memory: warn, and train
    for leak in leaking_columns(head, roles.target, list(roles.features), task):
        warnings.append(leak.sentence(roles.target))
    resolved = replace(roles, task=task)
    state: dict[str, Any] = {
        "roles": resolved.to_dict(),
        "input_names": input_names(resolved.features),
        "encoders": {
            c: category_encoder_from_counts(
                counts[c].total(),
                counts[c].missing,
                min_count=min_count,
                max_vocabulary=max_vocabulary,
            ).to_dict()
            for c in roles.categorical
        },
        "numeric_mean": {c: numeric[c].mean for c in roles.numeric},
        "numeric_std": {c: _usable_std(numeric[c].std) for c in roles.numeric},
        "classes": [],
        "positive_label": None,
        "target_mean": 0.0,
        "target_std": 1.0,
    }
    if task == "regression":
        state["target_mean"] = target_moments.mean
        state["target_std"] = _usable_std(target_moments.std)
    else:
        state["classes"] = target_classes(target_counts, task)
        if task == "binary":
            state["positive_label"] = state["classes"][1]
    return StreamVocabulary(
        features=FeatureEncoder.from_dict(state),
        files=files,
        valid_fraction=valid_fraction,
        seed=seed,
        dropped_rows=dropped,
        warnings=warnings,
    )


def _usable_std(std: float) -> float:
    return std if std > 0 and np.isfinite(std) else 1.0


def _stream_task(roles: Roles, target_counts: pd.Series, overflow: bool, bad: list[str]) -> Task:
    """The task from the target's distinct labels, by the rules of ``validate_roles``."""
    from embedding_core.data.task import infer_task, resolve_task

    distinct = pd.Series([str(v) for v in target_counts.index], name=roles.target, dtype=object)
    if overflow and not bad and roles.task in (None, "regression"):
        return "regression"
    if roles.task is None:
        return infer_task(distinct)
    return resolve_task(distinct, roles.task)
