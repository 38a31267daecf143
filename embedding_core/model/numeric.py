"""Numeric columns as embeddings: quantile bins or piecewise-linear encoding.

With ``TrainConfig.numeric_encoding="scaled"`` a numeric column enters DeepFM only as a
standardised value (linear term and MLP), so the FM part cannot pair it with the
categories. ``"bins"`` and ``"ple"`` also give every numeric column a k-dimensional
vector per row, which joins the category vectors in the FM term and the MLP:

``"bins"``
    Quantile bins learned on the training rows; each bin has its own vector (a
    one-hot encoding times a learned table), like a category.
``"ple"``
    Piecewise-linear encoding (Gorishniy, Rubachev and Babenko, "On Embeddings for
    Numerical Features in Tabular Deep Learning", NeurIPS 2022): for bin edges
    ``b_0 < ... < b_T``, slot ``t`` holds ``clip((x - b_{t-1}) / (b_t - b_{t-1}), 0, 1)``,
    so the vector moves continuously with ``x`` through the bins' vectors.

Both encode a column as ``n_slots`` numbers: one per bin, then one missing flag (a
missing cell has only that slot set). ``"bins"`` hands the model each column's slot
index instead (int32, 4 bytes per column and row), so the bin count costs no memory:
DeepFM's numeric layers look each column's bin row up directly
(``fm_layer.NumericEmbedding(n_slots=...)``), and the entity network, which feeds the
encoding to its MLP, expands it to the one-hot in the graph (``fm_layer.SlotOneHot``),
batch by batch. ``NumericEncoder`` is pure numpy (no TensorFlow); the model side is
``fm_layer.NumericEmbedding``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

__all__ = [
    "NumericEncoder",
    "NUMERIC_ENCODINGS",
    "NUMERIC_ENCODING_LABELS",
    "NumericEncoding",
    "bins_within_budget",
]

NumericEncoding = Literal["scaled", "bins", "ple"]
#: Accepted values of ``TrainConfig.numeric_encoding``.
NUMERIC_ENCODINGS: tuple[str, ...] = ("scaled", "bins", "ple")
#: How each choice is named in the app.
NUMERIC_ENCODING_LABELS: dict[str, str] = {
    "scaled": "scaled values",
    "bins": "quantile bins, a vector each",
    "ple": "piecewise-linear vectors (PLE)",
}
#: Fewest training rows per bin on average: small data gets fewer bins (800 rows: 5),
#: which kept 16 bins from over-fitting german_credit (see README, Benchmarks).
MIN_ROWS_PER_BIN = 150
#: Largest size of the dense PLE input of all rows (float32, ``bins + 1`` slots per numeric
#: column and row); training holds about two such copies. More bins are cut to fit. (The
#: ``"bins"`` input is one slot index per column and row, whatever the bin count.)
MAX_INPUT_BYTES = 1 << 30


def bins_within_budget(n_bins: int, n_rows: int, n_columns: int) -> int:
    """The most bins per column, at most ``n_bins`` (and at least 2 of them), whose PLE input
    of ``n_rows`` x ``n_columns`` x ``(bins + 1)`` float32 stays within ``MAX_INPUT_BYTES``.

    Examples
    --------
    >>> bins_within_budget(32, 100_000, 10)
    32
    >>> bins_within_budget(32, 2_000_000, 10)
    12
    """
    cells = n_rows * n_columns
    if cells <= 0:
        return n_bins
    return int(min(n_bins, max(2, MAX_INPUT_BYTES // (4 * cells) - 1)))


class NumericEncoder:
    """Bin edges learned on training rows, and the bins/PLE encoding of new rows.

    Parameters
    ----------
    encoding : {"bins", "ple"}
    n_bins : int
        Most bins per column: quantiles, fewer when the column has fewer distinct values
        or fewer than ``MIN_ROWS_PER_BIN`` present values per bin (but at least 2).
    as_index : bool, optional
        ``transform`` returns each column's slot index instead of the dense encoding
        (``"bins"`` only). Defaults to True for ``"bins"``; encoders saved before it
        existed load as dense (``from_dict``), matching their saved models.

    Examples
    --------
    >>> enc = NumericEncoder("ple", n_bins=2).fit({"age": np.array([10.0, 20.0, 30.0, 40.0])})
    >>> enc.edges_["age"].tolist()
    [10.0, 25.0, 40.0]
    >>> enc.transform({"age": np.array([17.5, 40.0, np.nan])})[:, 0, :].tolist()
    [[0.5, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    >>> bins = NumericEncoder("bins", n_bins=2).fit({"age": np.array([10.0, 20.0, 30.0, 40.0])})
    >>> bins.transform({"age": np.array([17.5, 40.0, np.nan])})[:, 0].tolist()
    [0, 1, 2]
    """

    def __init__(
        self, encoding: NumericEncoding = "ple", n_bins: int = 16, as_index: bool | None = None
    ) -> None:
        self.encoding = encoding
        self.n_bins = n_bins
        self.as_index = encoding == "bins" if as_index is None else bool(as_index)

    def fit(self, columns: dict[str, np.ndarray]) -> NumericEncoder:
        """Learn each column's bin edges from its present (finite) training values."""
        if self.encoding not in ("bins", "ple"):
            raise ValueError(f"Expected encoding 'bins' or 'ple'. Received: {self.encoding!r}")
        if int(self.n_bins) < 1:
            raise ValueError(f"Expected n_bins >= 1. Received: n_bins={self.n_bins}")
        if self.as_index and self.encoding != "bins":
            raise ValueError(f"Expected as_index only with 'bins'. Received: {self.encoding!r}")
        self.edges_: dict[str, np.ndarray] = {}
        for col, x in columns.items():
            present = np.asarray(x, dtype=np.float64)
            present = present[np.isfinite(present)]
            if present.size == 0:
                edges = np.array([0.0, 1.0])
            else:
                n_bins = min(int(self.n_bins), max(2, present.size // MIN_ROWS_PER_BIN))
                distinct = np.unique(present)
                if len(distinct) <= n_bins:
                    # few values: one bin per value (edges between them)
                    inner = (distinct[1:] + distinct[:-1]) / 2
                    edges = np.concatenate([[distinct[0]], inner, [distinct[-1]]])
                else:
                    edges = _quantile_edges(present, n_bins)
                if len(edges) < 2 or edges[-1] <= edges[0]:  # a single value: one bin
                    edges = np.array([edges[0], edges[0] + 1.0])
            self.edges_[col] = edges
        return self

    @property
    def columns(self) -> list[str]:
        """The encoded columns, in model order."""
        return list(self.edges_)

    @property
    def n_slots(self) -> int:
        """Numbers per column: the most bins of any column, plus the missing flag."""
        return max(len(e) - 1 for e in self.edges_.values()) + 1

    def transform(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Encode raw values (``NaN`` = missing).

        Returns float32 of shape ``(n, n_columns, n_slots)``: slots past a column's own
        bins stay 0, the last slot is the missing flag. With ``as_index``: int32 of shape
        ``(n, n_columns)``, the one slot that encoding would set.
        """
        names = self.columns
        n = len(np.asarray(columns[names[0]])) if names else 0
        if self.as_index:
            out = np.empty((n, len(names)), dtype=np.int32)
            for j, col in enumerate(names):
                out[:, j] = self.bin_index(col, np.asarray(columns[col], dtype=np.float64))
            return out
        out = np.zeros((n, len(names), self.n_slots), dtype=np.float32)
        for j, col in enumerate(names):
            x = np.asarray(columns[col], dtype=np.float64)
            if self.encoding == "bins":  # bin_index already sends missing values to the flag
                out[np.arange(n), j, self.bin_index(col, x)] = 1.0
                continue
            edges = self.edges_[col]
            missing = ~np.isfinite(x)
            lower, width = edges[:-1], np.diff(edges)
            ple = np.clip((x[:, None] - lower[None, :]) / width[None, :], 0.0, 1.0)
            out[:, j, : len(edges) - 1] = np.where(missing[:, None], 0.0, ple)
            out[missing, j, -1] = 1.0
        return out

    def bin_index(self, col: str, x: np.ndarray) -> np.ndarray:
        """Each value's bin (slot) in ``col``; a missing value gets the last slot, the flag."""
        edges = self.edges_[col]
        index = np.clip(np.searchsorted(edges[1:-1], x, side="right"), 0, len(edges) - 2)
        return np.where(np.isfinite(x), index, self.n_slots - 1)

    def bin_labels(self, col: str) -> list[str]:
        """Readable names of a column's bins (``"[18, 25)"``...), for tables and charts."""
        edges = self.edges_[col]
        last = len(edges) - 2
        return [
            f"[{edges[t]:.4g}, {edges[t + 1]:.4g}{']' if t == last else ')'}"
            for t in range(len(edges) - 1)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state; ``from_dict(to_dict())`` round-trips exactly."""
        return {
            "encoding": self.encoding,
            "n_bins": int(self.n_bins),
            "as_index": self.as_index,
            "edges": {c: [float(v) for v in e] for c, e in self.edges_.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NumericEncoder:
        """Rebuild a fitted encoder from ``to_dict`` output (saved before ``as_index``
        existed: dense, like the model saved with it)."""
        enc = cls(d["encoding"], int(d["n_bins"]), as_index=bool(d.get("as_index", False)))
        enc.edges_ = {str(c): np.asarray(e, dtype=np.float64) for c, e in d["edges"].items()}
        return enc


def _quantile_edges(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-frequency bin edges in which a value repeated on many rows fills one bin only.

    Plain quantiles of a column that is mostly one value (a capital gain that is 0 on 92%
    of rows) collapse into a couple of bins, leaving the informative tail in one linear
    piece. Here each distinct value counts with at most the weight ``c`` of one bin,
    where ``c`` solves ``sum(min(count, c)) = n_bins * c``; the weighted quantiles then
    split the tail like any continuous column. Edges lie half-way between distinct values.
    """
    values, counts = np.unique(x, return_counts=True)
    cap = float(len(x)) / n_bins
    for _ in range(100):  # fixed-point iteration; decreases monotonically to the solution
        new_cap = float(np.minimum(counts, cap).sum()) / n_bins
        if new_cap >= cap * (1 - 1e-9):
            break
        cap = new_cap
    cumulative = np.cumsum(np.minimum(counts, cap))
    targets = cumulative[-1] * np.arange(1, n_bins) / n_bins * (1 - 1e-9)
    at = np.minimum(np.searchsorted(cumulative, targets), len(values) - 2)
    inner = (values[at] + values[at + 1]) / 2
    return np.unique(np.concatenate([[values[0]], inner, [values[-1]]]))
