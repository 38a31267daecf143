"""Per-field category vocabularies: label <-> integer index, with counts.

Index 0 is reserved for "unknown" (unseen at fit time, or rarer than ``min_count``).
When ``missing_as_category`` is true and missing values were seen at least
``min_count`` times, index 1 is "missing"; otherwise missing values map to 0.
Real categories follow, most frequent first (ties broken by label).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CategoryEncoder", "UNKNOWN_LABEL", "MISSING_LABEL"]

UNKNOWN_LABEL = "<unknown>"
MISSING_LABEL = "<missing>"
UNKNOWN_INDEX = 0


def _as_labels(values: pd.Series | np.ndarray | list[Any]) -> pd.Series:
    """Values as an object Series of str, with missing entries as None."""
    s = pd.Series(values, copy=False).astype(object)
    missing = s.isna()
    s = s.where(missing, s.map(str))
    return s.where(~missing, None)


class CategoryEncoder:
    """Vocabulary of one categorical field, learned on training rows only.

    Parameters
    ----------
    min_count : int, default=1
        Categories seen fewer times than this in training map to the unknown index.
    missing_as_category : bool, default=True
        Give missing values their own index (when seen at least ``min_count`` times).

    Examples
    --------
    >>> enc = CategoryEncoder().fit(["a", "b", "a", None])
    >>> enc.labels_
    ['<unknown>', '<missing>', 'a', 'b']
    >>> enc.transform(["a", "zzz", None]).tolist()
    [2, 0, 1]
    """

    def __init__(self, min_count: int = 1, missing_as_category: bool = True) -> None:
        self.min_count = min_count
        self.missing_as_category = missing_as_category

    def fit(self, values: pd.Series | np.ndarray | list[Any]) -> CategoryEncoder:
        """Learn the vocabulary from training values; returns ``self``."""
        if self.min_count < 1:
            raise ValueError(f"Expected min_count >= 1. Received: min_count={self.min_count}")
        labels = _as_labels(values)
        n_missing = int(labels.isna().sum())
        counts = labels.dropna().value_counts()
        frame = pd.DataFrame({"label": counts.index.astype(object), "count": counts.to_numpy()})
        frame = frame.sort_values(["count", "label"], ascending=[False, True], kind="mergesort")
        kept = frame[frame["count"] >= self.min_count]
        rare_total = int(frame.loc[frame["count"] < self.min_count, "count"].sum())

        self.labels_: list[str] = [UNKNOWN_LABEL]
        self.counts_: list[int] = [rare_total]
        self.missing_index_: int | None = None
        if self.missing_as_category and n_missing >= self.min_count and n_missing > 0:
            self.missing_index_ = 1
            self.labels_.append(MISSING_LABEL)
            self.counts_.append(n_missing)
        else:
            self.counts_[UNKNOWN_INDEX] += n_missing
        self.n_reserved_ = len(self.labels_)
        self.labels_.extend(kept["label"].tolist())
        self.counts_.extend(int(c) for c in kept["count"])
        self._build_index()
        return self

    def _build_index(self) -> None:
        self.index_: dict[str, int] = {
            label: i for i, label in enumerate(self.labels_) if i >= self.n_reserved_
        }

    @property
    def size(self) -> int:
        """Number of rows the embedding table needs (reserved indices included)."""
        return len(self.labels_)

    def transform(self, values: pd.Series | np.ndarray | list[Any]) -> np.ndarray:
        """Map values to indices (int32); unseen and rare values give 0."""
        labels = _as_labels(values)
        missing = labels.isna().to_numpy()
        idx = labels.map(self.index_).fillna(UNKNOWN_INDEX).to_numpy(dtype=np.int64, copy=True)
        if self.missing_index_ is not None:
            idx[missing] = self.missing_index_
        else:
            idx[missing] = UNKNOWN_INDEX
        return idx.astype(np.int32)

    def fit_transform(self, values: pd.Series | np.ndarray | list[Any]) -> np.ndarray:
        """``fit`` then ``transform`` on the same values."""
        return self.fit(values).transform(values)

    def is_reserved(self, index: int) -> bool:
        """True for the unknown and missing indices."""
        return index < self.n_reserved_

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state; ``from_dict(to_dict())`` round-trips exactly."""
        return {
            "min_count": self.min_count,
            "missing_as_category": self.missing_as_category,
            "labels": list(self.labels_),
            "counts": list(self.counts_),
            "missing_index": self.missing_index_,
            "n_reserved": self.n_reserved_,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CategoryEncoder:
        """Rebuild a fitted encoder from ``to_dict`` output."""
        enc = cls(min_count=int(d["min_count"]), missing_as_category=bool(d["missing_as_category"]))
        enc.labels_ = [str(x) for x in d["labels"]]
        enc.counts_ = [int(x) for x in d["counts"]]
        enc.missing_index_ = None if d["missing_index"] is None else int(d["missing_index"])
        enc.n_reserved_ = int(d["n_reserved"])
        enc._build_index()
        return enc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CategoryEncoder) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        fitted = f", size={self.size}" if hasattr(self, "labels_") else ""
        return f"CategoryEncoder(min_count={self.min_count}{fitted})"
