"""Embedding tables: columns, counts and target means on the fitted rows, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import TINY_CONFIG

from embedding_core.data.split import train_valid_split
from embedding_core.errors import DataError
from embedding_core.model.embeddings import (
    EMB_PREFIX,
    TABLE_COLUMNS,
    embedding_columns,
    vectors,
)
from embedding_core.model.features import target_text


def _training_rows(frame: pd.DataFrame, target: str, stratify: bool = True) -> pd.DataFrame:
    labels = target_text(frame[target]).to_numpy(dtype=str) if stratify else None
    train_idx, _ = train_valid_split(
        len(frame),
        valid_fraction=TINY_CONFIG.valid_fraction,
        seed=TINY_CONFIG.seed,
        stratify=labels,
    )
    return frame.iloc[train_idx]


def test_tables_have_the_documented_columns_and_types(tiny_binary_run) -> None:
    tables = tiny_binary_run.tables()
    assert list(tables) == ["shop", "colour"]
    k = tiny_binary_run.embedding_dim
    for table in tables.values():
        assert list(table.columns) == [*TABLE_COLUMNS, *[f"{EMB_PREFIX}{d}" for d in range(k)]]
        assert table["index"].tolist() == list(range(len(table)))
        assert table["count"].dtype == np.int64
        assert table["is_unknown"].dtype == bool and table["is_missing"].dtype == bool
        assert all(table[c].dtype == np.float32 for c in embedding_columns(table))
        assert table["is_unknown"].tolist()[0] is True and table["is_unknown"].sum() == 1
        assert table["category"].iloc[0] == "<unknown>"
        assert vectors(table).shape == (len(table), k)
        assert np.isfinite(table["first_order"]).all()


def _check_counts(run, rows: pd.DataFrame) -> None:
    table = run.embeddings("colour").set_index("category")
    for colour, part in rows.groupby("colour"):
        assert table.loc[colour, "count"] == len(part)
        assert table.loc[colour, "target_mean"] == pytest.approx((part["y"] == "yes").mean())
    shop = run.embeddings("shop")
    assert shop["count"].sum() == len(rows)
    missing = shop[shop["is_missing"]]
    assert len(missing) == 1 and missing["category"].iloc[0] == "<missing>"
    assert missing["count"].iloc[0] == rows["shop"].isna().sum()


def test_counts_and_target_means_come_from_all_rows_after_the_refit(
    tiny_binary_run, binary_frame: pd.DataFrame
) -> None:
    assert tiny_binary_run.metrics["refit"] is True
    assert tiny_binary_run.metrics["refit_rows"] == len(binary_frame)
    _check_counts(tiny_binary_run, binary_frame)


def test_without_refit_counts_come_from_the_training_split(binary_frame: pd.DataFrame) -> None:
    from synthetic import BINARY_ROLES

    from embedding_core.model.train import train

    run = train(binary_frame, BINARY_ROLES, TINY_CONFIG.replace(refit=False, epochs=1))
    train_rows = _training_rows(binary_frame, "y")
    assert run.metrics["refit"] is False and len(train_rows) == run.metrics["n_train"]
    _check_counts(run, train_rows)


def test_regression_target_mean_is_in_user_scale(tiny_regression_run, regression_frame) -> None:
    train_rows = regression_frame  # the refit fits all rows
    table = tiny_regression_run.embeddings("region").set_index("category")
    expected = train_rows.assign(p=train_rows["price"].astype(float)).groupby("region")["p"].mean()
    for region, mean in expected.items():
        assert table.loc[region, "target_mean"] == pytest.approx(mean, rel=1e-6)


def test_multiclass_tables_have_no_target_mean_or_first_order(tiny_multiclass_run) -> None:
    table = tiny_multiclass_run.embeddings("kind")
    assert table["target_mean"].isna().all() and table["first_order"].isna().all()
    assert table.loc[~table["is_unknown"], "count"].gt(0).all()


def test_tables_are_copies(tiny_binary_run) -> None:
    table = tiny_binary_run.embeddings("colour")
    table.loc[:, "count"] = -1
    assert (tiny_binary_run.embeddings("colour")["count"] >= 0).all()


def test_vectors_needs_embedding_columns() -> None:
    with pytest.raises(DataError, match="no emb_"):
        vectors(pd.DataFrame({"category": ["a"]}))
    table = pd.DataFrame({"emb_1": [2.0], "emb_0": [1.0], "emb_10": [3.0]})
    assert vectors(table).tolist() == [[1.0, 2.0, 3.0]]
