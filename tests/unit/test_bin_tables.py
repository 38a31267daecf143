"""Numeric columns' bins as categories: tables built from the network, saved and loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import BINARY_ROLES, TINY_CONFIG, make_binary_frame

from embedding_core.errors import DataError
from embedding_core.model.bin_tables import MISSING_BIN
from embedding_core.model.embeddings import TABLE_COLUMNS, vectors


@pytest.fixture(scope="module")
def bins_run():
    from embedding_core.model.train import train

    frame = make_binary_frame(n=1200)
    return train(frame, BINARY_ROLES, TINY_CONFIG.replace(numeric_encoding="bins", epochs=1))


def test_a_bins_run_explores_its_numeric_bins_like_categories(bins_run) -> None:
    run = bins_run
    assert run.binned_columns == ["x"] and "x" not in run.fields  # fields stay categorical
    table = run.embeddings("x")
    encoder = run.features.numeric_encoder_
    assert list(table.columns[: len(TABLE_COLUMNS)]) == list(TABLE_COLUMNS)
    assert table["category"].tolist() == [*encoder.bin_labels("x"), MISSING_BIN]
    assert table["index"].iloc[-1] == encoder.n_slots - 1 and table["is_missing"].iloc[-1]
    assert not table["is_unknown"].any()
    # every fitting row counted once (the refit fits on all training rows)
    assert table["count"].sum() == run.metrics["refit_rows"]
    assert table.loc[table["count"] > 0, "target_mean"].between(0, 1).all()
    # the vectors are what the network adds for each bin: kernel row plus column bias
    kernel, bias = run.model.get_layer("numeric_embedding").get_weights()
    np.testing.assert_allclose(
        vectors(table), kernel[0, table["index"].to_numpy()] + bias[0], rtol=1e-6
    )
    assert np.isfinite(table["first_order"]).all()


def test_bins_map_raw_values_and_survive_save_and_load(bins_run, tmp_path: Path) -> None:
    from embedding_core.model.run import TrainedRun

    run = bins_run
    table = run.embeddings("x")
    rows = run.category_rows("x", ["-100", "100", "", "not a number"])
    assert rows.tolist() == [0, table["index"].iloc[-2], table["index"].iloc[-1]] + [
        table["index"].iloc[-1]
    ]
    loaded = TrainedRun.load(run.save(tmp_path / "bins"))
    assert loaded.binned_columns == ["x"]
    pd.testing.assert_frame_equal(loaded.embeddings("x"), table)
    with pytest.raises(DataError, match="not a categorical field"):
        loaded.embeddings("nope")


def test_runs_without_bin_vectors_have_no_binned_columns(tmp_path: Path) -> None:
    from embedding_core.model.run import TrainedRun
    from embedding_core.model.train import train

    frame = make_binary_frame()
    for config in (
        TINY_CONFIG.replace(numeric_encoding="scaled", epochs=1),
        TINY_CONFIG.replace(numeric_encoding="ple", epochs=1),
        TINY_CONFIG.replace(model="entity", numeric_encoding="bins", epochs=1),
    ):
        run = train(frame, BINARY_ROLES, config)
        assert run.binned_columns == []
        saved = run.save(tmp_path / config.model / config.numeric_encoding)
        assert not (saved / "numeric_bins.parquet").exists()
        assert TrainedRun.load(saved).binned_columns == []


def test_bin_tables_travel_in_a_run_store_zip(bins_run, tmp_path: Path) -> None:
    from embedding_core.model.store import RunStore

    store = RunStore(tmp_path / "mine")
    record = store.save(bins_run, name="bins")
    other = RunStore(tmp_path / "theirs")
    imported = other.import_zip(store.zip_bytes(record.id), name="from a colleague")
    assert imported.ok
    opened = other.open(imported.id)
    pd.testing.assert_frame_equal(opened.embeddings("x"), bins_run.embeddings("x"))


def test_neighbours_of_a_category_among_another_fields_categories_or_bins(bins_run) -> None:
    from embedding_core.analysis.neighbours import _cosine, nearest_neighbours

    shops, bins = bins_run.embeddings("shop"), bins_run.embeddings("x")
    query = shops.sort_values("count").iloc[-1]["category"]
    found = nearest_neighbours(shops, query, k=50, among=bins)
    assert sorted(found["category"]) == sorted(bins["category"])  # every bin, the query not
    q = vectors(shops[shops["category"] == query])
    expected = _cosine(vectors(bins).astype(float), q.astype(float))[:, 0]
    by_name = dict(zip(bins["category"], expected, strict=True))
    assert found["similarity"].tolist() == pytest.approx([by_name[c] for c in found["category"]])
    assert found["similarity"].is_monotonic_decreasing
    with pytest.raises(DataError, match="different sizes"):
        nearest_neighbours(shops, query, among=bins.drop(columns=["emb_0"]))
