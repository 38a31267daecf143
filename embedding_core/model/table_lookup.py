"""Look up categories in one field's saved embedding table (reuse and warm starts)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from embedding_core.data.encoding import as_category_text, lookup_rows
from embedding_core.errors import DataError
from embedding_core.model.embeddings import vectors

__all__ = ["TableLookup"]


class TableLookup:
    """Category -> row of one field's saved embedding table, with its fallbacks.

    Unseen categories get the table's unknown row, missing values its missing row (or
    the unknown row when the table has none); reserved rows are found by their flags,
    never by their label.

    Parameters
    ----------
    field : str
        The field's name (for messages).
    table : DataFrame
        The field's table as ``TrainedRun.embeddings(field)`` gives it.
    """

    def __init__(self, field: str, table: pd.DataFrame) -> None:
        needed = {"category", "is_unknown"}
        if not needed <= set(table.columns):
            raise DataError(
                f"The embedding table of '{field}' has no category/is_unknown/emb_* columns; "
                "pass tables from a trained run (run.embeddings(field))."
            )
        unknown = table["is_unknown"].astype(bool).to_numpy()
        if unknown.sum() != 1:
            raise DataError(
                f"The embedding table of '{field}' must have exactly one unknown row "
                f"(found {int(unknown.sum())})."
            )
        missing = (
            table["is_missing"].astype(bool).to_numpy()
            if "is_missing" in table.columns
            else np.zeros(len(table), dtype=bool)
        )
        self.vectors = vectors(table, field=field)
        self.dim = self.vectors.shape[1]
        self.unknown_row = int(np.flatnonzero(unknown)[0])
        self.missing_row = int(np.flatnonzero(missing)[0]) if missing.any() else self.unknown_row
        real = np.flatnonzero(~(unknown | missing))
        labels = pd.Index(table["category"].to_numpy()[real], dtype="str")
        last = ~labels.duplicated(keep="last")  # a repeated label means its last row
        self.known, self.known_rows = labels[last], real[last]

    def rows(self, values: pd.Series) -> np.ndarray:
        """Row of the table for each value."""
        return lookup_rows(
            as_category_text(values),
            self.known,
            self.known_rows,
            unknown_row=self.unknown_row,
            missing_row=self.missing_row,
        )

    def transform(self, values: pd.Series) -> np.ndarray:
        """Vector for each value, shape ``(len(values), dim)``."""
        return self.vectors[self.rows(values)]
