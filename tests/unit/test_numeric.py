"""Numeric columns as embeddings: the bins/PLE encoding, its layer, training and saving."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import BINARY_ROLES, TINY_CONFIG, make_binary_frame

from embedding_core.model.config import TrainConfig
from embedding_core.model.numeric import NumericEncoder


def _ple_reference(x: float, edges: list[float]) -> list[float]:
    """Piecewise-linear encoding of one value, slot by slot, as the paper defines it."""
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=False):
        if x < lo:
            out.append(0.0)
        elif x >= hi:
            out.append(1.0)
        else:
            out.append((x - lo) / (hi - lo))
    return out


def test_ple_matches_the_definition_and_flags_missing() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(size=1000)
    enc = NumericEncoder("ple", n_bins=6).fit({"x": train})
    edges = enc.edges_["x"].tolist()
    assert len(edges) == 7 and edges == sorted(edges)
    values = np.array([edges[0] - 1.0, edges[2], (edges[3] + edges[4]) / 2, edges[-1] + 5, np.nan])
    encoded = enc.transform({"x": values})
    assert encoded.shape == (5, 1, 7)
    for row, x in zip(encoded[:4, 0], values[:4], strict=True):
        np.testing.assert_allclose(row[:-1], _ple_reference(float(x), edges), atol=1e-6)
        assert row[-1] == 0.0
    assert encoded[4, 0].tolist() == [0.0] * 6 + [1.0]


def test_bins_are_one_hot_quantiles_and_few_values_get_one_bin_each() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 100, 1000)
    flag = rng.integers(0, 2, 1000).astype(float)
    enc = NumericEncoder("bins", n_bins=4, as_index=False).fit({"x": x, "flag": flag})
    out = enc.transform({"x": x, "flag": flag})
    assert out.shape == (1000, 2, 5)  # 4 bins + missing slot (flag has 2 bins, padded)
    np.testing.assert_array_equal(out.sum(axis=2), 1.0)
    shares = out[:, 0, :4].mean(axis=0)
    np.testing.assert_allclose(shares, 0.25, atol=0.01)  # quantile bins hold a quarter each
    assert out[flag == 0, 1, 0].all() and out[flag == 1, 1, 1].all()
    assert enc.bin_labels("flag") == ["[0, 0.5)", "[0.5, 1]"]


def test_bins_enter_as_the_index_of_the_one_hot_slot() -> None:
    rng = np.random.default_rng(5)
    values = {"x": rng.normal(size=2000), "few": rng.integers(0, 3, 2000).astype(float)}
    values["x"][::7] = np.nan
    values["few"][::11] = np.inf  # not a number either: missing
    index_enc = NumericEncoder("bins", n_bins=8).fit(values)
    dense_enc = NumericEncoder("bins", n_bins=8, as_index=False).fit(values)
    assert index_enc.as_index and not NumericEncoder("ple").as_index
    index = index_enc.transform(values)
    assert index.dtype == np.int32 and index.shape == (2000, 2)
    np.testing.assert_array_equal(index, dense_enc.transform(values).argmax(axis=2))
    assert (index[::7, 0] == index_enc.n_slots - 1).all()  # missing: the flag's slot
    with pytest.raises(ValueError, match="as_index only with 'bins'"):
        NumericEncoder("ple", as_index=True).fit(values)


def test_slot_one_hot_layer_rebuilds_the_dense_encoding() -> None:
    from embedding_core.model.fm_layer import SlotOneHot

    values = {"x": np.random.default_rng(6).normal(size=500)}
    values["x"][:3] = np.nan
    index_enc = NumericEncoder("bins", n_bins=6).fit(values)
    dense = NumericEncoder("bins", n_bins=6, as_index=False).fit(values).transform(values)
    out = np.asarray(SlotOneHot(index_enc.n_slots)(index_enc.transform(values)))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, dense)


def test_a_value_on_most_rows_fills_one_bin_and_the_tail_gets_the_rest() -> None:
    rng = np.random.default_rng(3)
    x = np.where(rng.random(5000) < 0.9, 0.0, rng.lognormal(8, 1, 5000))  # capital-gain-like
    enc = NumericEncoder("bins", n_bins=8, as_index=False).fit({"x": x})
    edges = enc.edges_["x"]
    assert len(edges) == 9 and edges[0] == 0.0 and 0.0 < edges[1] < x[x > 0].min()
    shares = enc.transform({"x": x})[:, 0, :8].mean(axis=0)
    assert shares[0] == pytest.approx((x == 0).mean())
    np.testing.assert_allclose(shares[1:], shares[1:].mean(), rtol=0.1)  # tail split evenly


def test_small_data_gets_fewer_bins() -> None:
    x = np.random.default_rng(4).normal(size=800)
    assert len(NumericEncoder("bins", n_bins=16).fit({"x": x}).edges_["x"]) == 6  # 800 // 150
    assert len(NumericEncoder("bins", n_bins=3).fit({"x": x}).edges_["x"]) == 4
    assert len(NumericEncoder("bins", n_bins=16).fit({"x": x[:20]}).edges_["x"]) == 3


def test_numeric_encoder_round_trips_through_json() -> None:
    enc = NumericEncoder("ple", n_bins=3).fit({"a": np.arange(10.0), "b": np.array([np.nan, 2.0])})
    again = NumericEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    values = {"a": np.array([-1.0, 4.5, 20.0]), "b": np.array([2.0, np.nan, 3.0])}
    encoded = enc.transform(values)
    assert np.isfinite(encoded).all()  # "b" has a single value: one bin, no zero width
    np.testing.assert_array_equal(again.transform(values), encoded)
    bins = NumericEncoder("bins", n_bins=3).fit({"a": np.arange(10.0)})
    saved = json.loads(json.dumps(bins.to_dict()))
    assert NumericEncoder.from_dict(saved).as_index
    saved.pop("as_index")  # written before the index input: dense, like its saved model
    assert not NumericEncoder.from_dict(saved).as_index


def test_numeric_embedding_layer_is_a_per_column_linear_map() -> None:
    from embedding_core.model.fm_layer import NumericEmbedding

    rng = np.random.default_rng(2)
    x = rng.random((3, 2, 5)).astype("float32")
    layer = NumericEmbedding(4)
    out = np.asarray(layer(x))
    kernel, bias = (np.asarray(w) for w in layer.get_weights())
    expected = np.stack([x[:, j] @ kernel[j] + bias[j] for j in range(2)], axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="output_dim > 0"):
        NumericEmbedding(0)


def test_numeric_embedding_looks_up_slot_indices_like_their_one_hot() -> None:
    from embedding_core.model.fm_layer import NumericEmbedding

    rng = np.random.default_rng(3)
    index = rng.integers(0, 5, size=(7, 3)).astype("int32")
    dense = NumericEmbedding(4)
    expected = np.asarray(dense(np.eye(5, dtype="float32")[index]))
    lookup = NumericEmbedding(4, n_slots=5)
    lookup.build((None, 3))
    lookup.set_weights(dense.get_weights())
    np.testing.assert_array_equal(np.asarray(lookup(index)), expected)
    assert NumericEmbedding.from_config(lookup.get_config()).n_slots == 5
    assert "n_slots" not in dense.get_config()  # dense layers of earlier runs load unchanged
    with pytest.raises(ValueError, match="n_slots > 0"):
        NumericEmbedding(4, n_slots=0)
    with pytest.raises(ValueError, match="slot indices of shape"):
        NumericEmbedding(4, n_slots=5).build((None, 3, 5))


def test_config_rejects_an_unknown_numeric_encoding() -> None:
    with pytest.raises(ValueError, match="numeric_encoding"):
        TrainConfig(numeric_encoding="splines")
    assert TrainConfig().numeric_encoding == "bins" and TrainConfig().numeric_bins == 32


def test_ple_run_pairs_numerics_in_the_fm_term_and_round_trips(tmp_path: Path) -> None:
    from embedding_core.model.run import TrainedRun
    from embedding_core.model.train import train

    frame = make_binary_frame()
    run = train(frame, BINARY_ROLES, TINY_CONFIG.replace(numeric_encoding="ple", epochs=1))
    fm_input = run.model.get_layer("fm").input
    assert fm_input.shape[1] == len(BINARY_ROLES.categorical) + len(BINARY_ROLES.numeric)
    saved = run.save(tmp_path / "ple")
    loaded = TrainedRun.load(saved)
    assert loaded.config.numeric_encoding == "ple"
    np.testing.assert_array_equal(loaded.predict(frame.head(30)), run.predict(frame.head(30)))


def test_runs_saved_before_numeric_encodings_still_load(tmp_path: Path) -> None:
    from embedding_core.model.run import TrainedRun
    from embedding_core.model.train import train

    config = TINY_CONFIG.replace(numeric_encoding="scaled", epochs=1)
    saved = train(make_binary_frame(), BINARY_ROLES, config).save(tmp_path / "scaled")
    old = shutil.copytree(saved, tmp_path / "old")
    for name, key in (("features.json", "numeric_encoder"), ("config.json", "numeric_encoding")):
        data = json.loads((old / name).read_text())
        data.pop(key)  # as written before the option existed
        data.pop("numeric_bins", None)
        (old / name).write_text(json.dumps(data))
    run = TrainedRun.load(old)
    assert run.config.numeric_encoding == "scaled" and run.features.numeric_encoder_ is None
    frame = make_binary_frame().head(20)
    expected = TrainedRun.load(saved).predict(frame)
    np.testing.assert_array_equal(run.predict(pd.DataFrame(frame)), expected)


def test_bins_shrink_to_keep_their_input_within_the_memory_budget() -> None:
    from embedding_core.model.numeric import MAX_INPUT_BYTES, bins_within_budget

    assert bins_within_budget(32, 100_000, 10) == 32
    bins = bins_within_budget(32, 2_000_000, 10)
    assert 2 <= bins < 32
    assert 2_000_000 * 10 * (bins + 1) * 4 <= MAX_INPUT_BYTES < 2_000_000 * 10 * (bins + 2) * 4
    assert bins_within_budget(32, 10**9, 10) == 2  # never fewer than two bins...
    assert bins_within_budget(1, 10**9, 10) == 1  # ...nor more than asked for
    assert bins_within_budget(32, 0, 0) == 32


def test_a_table_too_big_for_its_ple_bins_trains_with_fewer_and_says_so(monkeypatch) -> None:
    import embedding_core.model.numeric as numeric
    from embedding_core.model.train import train

    frame = make_binary_frame(n=3000)  # enough rows for 16 bins by MIN_ROWS_PER_BIN
    n_numeric = len(BINARY_ROLES.numeric)
    # room for exactly 3 bins (4 slots with the missing flag) per numeric column
    monkeypatch.setattr(numeric, "MAX_INPUT_BYTES", 4 * len(frame) * n_numeric * 4)
    run = train(frame, BINARY_ROLES, TINY_CONFIG.replace(numeric_encoding="ple", epochs=1))
    assert run.features.numeric_encoder_.n_slots == 4
    assert any("3 bins each instead of 32" in w for w in run.warnings)
    # "bins" enters as one index per column and row: no budget to keep, all its bins
    run = train(frame, BINARY_ROLES, TINY_CONFIG.replace(numeric_encoding="bins", epochs=1))
    assert run.features.numeric_encoder_.n_slots > 4  # as many as its ~2,400 fitting rows allow
    assert not any("bins each instead of" in w for w in run.warnings)


def test_bins_as_indices_train_the_model_of_the_dense_one_hot(tmp_path: Path, monkeypatch) -> None:
    import functools

    from embedding_core.model.run import TrainedRun
    from embedding_core.model.train import train

    frame = make_binary_frame()
    config = TINY_CONFIG.replace(numeric_encoding="bins", epochs=2)
    run = train(frame, BINARY_ROLES, config)
    # the numeric layers look the bins' rows up: no one-hot layer in the graph
    assert "numeric_encoded_one_hot" not in [layer.name for layer in run.model.layers]
    assert run.model.get_layer("numeric_embedding").n_slots == run.features.numeric_encoder_.n_slots
    with monkeypatch.context() as patch:  # the dense one-hot input of earlier rounds
        dense_init = functools.partialmethod(NumericEncoder.__init__, as_index=False)
        patch.setattr(NumericEncoder, "__init__", dense_init)
        dense = train(frame, BINARY_ROLES, config)
    assert not dense.features.numeric_encoder_.as_index
    # the same forward numbers; only the gradient sums over a batch in another order
    np.testing.assert_allclose(dense.predict(frame), run.predict(frame), rtol=0, atol=1e-6)
    # a run saved with the dense input (no "as_index" written) loads and predicts as before
    saved = dense.save(tmp_path / "dense")
    features = json.loads((saved / "features.json").read_text())
    features["numeric_encoder"].pop("as_index")
    (saved / "features.json").write_text(json.dumps(features))
    np.testing.assert_array_equal(TrainedRun.load(saved).predict(frame), dense.predict(frame))
