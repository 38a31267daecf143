"""The FM interaction term against brute force, and the custom layers' Keras contract."""

from __future__ import annotations

import itertools

import keras  # a hard dependency: these tests never skip
import numpy as np
import pytest

from embedding_core.model.fm_layer import FieldEmbedding, FMInteraction, SumFields


def brute_force_fm(v: np.ndarray) -> np.ndarray:
    """sum over field pairs i < j of <v_i, v_j>, per example, by explicit loops."""
    out = np.zeros(v.shape[0])
    for b in range(v.shape[0]):
        for i, j in itertools.combinations(range(v.shape[1]), 2):
            out[b] += float(np.dot(v[b, i], v[b, j]))
    return out


def brute_force_fm_vector(v: np.ndarray) -> np.ndarray:
    """Per-dimension pairwise products summed over field pairs, by explicit loops."""
    out = np.zeros((v.shape[0], v.shape[2]))
    for b in range(v.shape[0]):
        for i, j in itertools.combinations(range(v.shape[1]), 2):
            out[b] += v[b, i] * v[b, j]
    return out


@pytest.mark.parametrize(("batch", "fields", "dim"), [(1, 2, 1), (5, 3, 4), (7, 10, 8)])
def test_fm_matches_double_loop(batch: int, fields: int, dim: int) -> None:
    v = np.random.default_rng(fields).normal(size=(batch, fields, dim))
    got = keras.ops.convert_to_numpy(FMInteraction()(v.astype("float32")))
    assert got.shape == (batch, 1)
    np.testing.assert_allclose(got[:, 0], brute_force_fm(v), rtol=1e-4, atol=1e-4)


def test_fm_vector_matches_double_loop() -> None:
    v = np.random.default_rng(3).normal(size=(4, 5, 3))
    got = keras.ops.convert_to_numpy(FMInteraction(reduce_sum=False)(v.astype("float32")))
    assert got.shape == (4, 3)
    np.testing.assert_allclose(got, brute_force_fm_vector(v), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got.sum(axis=1), brute_force_fm(v), rtol=1e-4, atol=1e-4)


def brute_force_weighted(v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Per-dimension sum over field pairs i < j of r_ij * v_i * v_j, by explicit loops."""
    out = np.zeros((v.shape[0], v.shape[2]))
    for b in range(v.shape[0]):
        for i, j in itertools.combinations(range(v.shape[1]), 2):
            out[b] += r[i, j] * v[b, i] * v[b, j]
    return out


def test_field_weighted_fm_starts_as_the_plain_fm() -> None:
    v = np.random.default_rng(4).normal(size=(6, 5, 3)).astype("float32")
    layer = FMInteraction(field_weights=True)
    got = keras.ops.convert_to_numpy(layer(v))
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(FMInteraction()(v)), rtol=1e-5)
    r = layer.pair_weights()
    np.testing.assert_array_equal(r, 1.0 - np.eye(5))


@pytest.mark.parametrize("reduce_sum", [True, False])
def test_field_weighted_fm_matches_double_loop(reduce_sum: bool) -> None:
    rng = np.random.default_rng(5)
    v = rng.normal(size=(4, 6, 3))
    layer = FMInteraction(reduce_sum=reduce_sum, field_weights=True)
    layer.build(v.shape)
    stored = rng.normal(size=(6, 6))  # not symmetric: the pair's weight is the mean of both
    layer.pair_kernel.assign(stored.astype("float32"))
    r = 0.5 * (stored + stored.T) * (1.0 - np.eye(6))
    np.testing.assert_allclose(layer.pair_weights(), r, rtol=1e-6)
    got = keras.ops.convert_to_numpy(layer(v.astype("float32")))
    want = brute_force_weighted(v, r)
    want = want.sum(axis=1, keepdims=True) if reduce_sum else want
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_field_weighted_fm_learns_to_drop_a_pair() -> None:
    """Three fields, the target made of the pair (0, 1) only: the (0, 2) and (1, 2)
    weights shrink from their initial 1 while (0, 1) grows (checked over seeds 0-4: 1.6-1.8
    against 0.2-0.65)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n = 4096
    codes = rng.integers(0, 4, size=(n, 3)).astype("int32")
    signs = np.array([1.0, -1.0, 1.0, -1.0])
    y = (signs[codes[:, 0]] * signs[codes[:, 1]] > 0).astype("float32")
    inp = keras.Input((3,), dtype="int32")
    emb = FieldEmbedding([4, 4, 4], 2, embeddings_initializer="glorot_uniform")(inp)
    fm = FMInteraction(field_weights=True)
    out = keras.layers.Activation("sigmoid")(fm(emb))
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    model.fit(codes, y, epochs=20, batch_size=256, verbose=0)
    r = np.abs(fm.pair_weights())
    assert r[0, 1] > 1.2 and max(r[0, 2], r[1, 2]) < 0.8


def test_fm_single_field_has_no_interaction() -> None:
    v = np.ones((2, 1, 3), dtype="float32")
    assert np.all(keras.ops.convert_to_numpy(FMInteraction()(v)) == 0)


def test_fm_get_config_round_trip() -> None:
    layer = FMInteraction(reduce_sum=False, name="fm_test")
    config = layer.get_config()
    assert config["reduce_sum"] is False
    clone = FMInteraction.from_config(config)
    assert clone.name == "fm_test" and clone.reduce_sum is False
    v = np.random.default_rng(0).normal(size=(3, 4, 2)).astype("float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(v)), keras.ops.convert_to_numpy(clone(v))
    )
    serialised = keras.saving.serialize_keras_object(layer)
    assert serialised["registered_name"] == "embedding_core>FMInteraction"
    weighted = FMInteraction.from_config(FMInteraction(field_weights=True).get_config())
    assert weighted.field_weights is True
    with pytest.raises(ValueError, match="no field weights"):
        clone.pair_weights()


def test_fm_validates_arguments_and_shapes() -> None:
    with pytest.raises(ValueError, match="Expected reduce_sum"):
        FMInteraction(reduce_sum="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected field_weights"):
        FMInteraction(field_weights=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected input of shape"):
        FMInteraction()(np.ones((2, 3), dtype="float32"))


def test_field_embedding_looks_up_each_field_in_its_own_table() -> None:
    layer = FieldEmbedding([3, 5, 2], 4, embeddings_initializer="glorot_uniform")
    idx = np.array([[0, 4, 1], [2, 0, 0]], dtype="int32")
    out = keras.ops.convert_to_numpy(layer(idx))
    tables = layer.field_tables()
    assert [t.shape for t in tables] == [(3, 4), (5, 4), (2, 4)]
    assert out.shape == (2, 3, 4)
    for b in range(2):
        for f in range(3):
            np.testing.assert_array_equal(out[b, f], tables[f][idx[b, f]])
    # Distinct fields' index 0 are distinct rows of the stacked matrix.
    assert not np.array_equal(tables[0][0], tables[1][0])


def test_field_embedding_config_round_trip_and_validation() -> None:
    layer = FieldEmbedding([2, 3], 2, embeddings_initializer="zeros", name="emb")
    clone = FieldEmbedding.from_config(layer.get_config())
    assert clone.field_sizes == [2, 3] and clone.output_dim == 2 and clone.name == "emb"
    with pytest.raises(ValueError, match="field_sizes"):
        FieldEmbedding([2, 0], 2)
    with pytest.raises(ValueError, match="output_dim"):
        FieldEmbedding([2], 0)
    with pytest.raises(ValueError, match=r"Expected input of shape \(batch, 2\)"):
        FieldEmbedding([2, 3], 2)(np.zeros((1, 3), dtype="int32"))


def test_sum_fields() -> None:
    x = np.arange(12, dtype="float32").reshape(2, 3, 2)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(SumFields()(x)), x.sum(axis=1))


def test_model_with_custom_layers_reloads_in_safe_mode(tmp_path) -> None:
    inp = keras.Input((3,), dtype="int32", name="categorical")
    emb = FieldEmbedding([4, 4, 4], 3, embeddings_initializer="glorot_uniform")(inp)
    fm = FMInteraction(field_weights=True)
    out = keras.layers.Add()([fm(emb), SumFields()(FieldEmbedding([4, 4, 4], 1)(inp))])
    model = keras.Model(inp, out)
    fm.pair_kernel.assign(np.arange(9, dtype="float32").reshape(3, 3))  # not the initial ones
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    idx = np.array([[0, 1, 2], [3, 3, 3]], dtype="int32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model(idx)), keras.ops.convert_to_numpy(loaded(idx))
    )
    (loaded_fm,) = [layer for layer in loaded.layers if isinstance(layer, FMInteraction)]
    np.testing.assert_array_equal(loaded_fm.pair_weights(), fm.pair_weights())
