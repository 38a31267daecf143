"""DeepFM graph: inputs, outputs, named parts, and the logit as the sum of its parts."""

from __future__ import annotations

import keras  # a hard dependency: these tests never skip
import numpy as np
import pytest
from synthetic import (
    BINARY_ROLES,
    MULTICLASS_ROLES,
    REGRESSION_ROLES,
    make_binary_frame,
    make_multiclass_frame,
    make_regression_frame,
)

from embedding_core.model.config import TrainConfig
from embedding_core.model.deepfm import build_deepfm, field_tables
from embedding_core.model.features import FeatureEncoder

CONFIG = TrainConfig(embedding_dim=3, hidden_units=(8, 4), dropout=0.2)


def _parts(model, inputs):
    """Evaluate the named intermediate outputs of a built model."""
    names = [n for n in ("linear_sum", "linear_numeric", "fm", "fm_classes", "deep_out", "logit")]
    present = [n for n in names if n in {layer.name for layer in model.layers}]
    probe = keras.Model(model.inputs, [model.get_layer(n).output for n in present])
    values = probe(inputs, training=False)
    return {n: keras.ops.convert_to_numpy(v) for n, v in zip(present, values, strict=True)}


def test_binary_model_sums_linear_fm_and_deep_logits() -> None:
    frame = make_binary_frame()
    fe = FeatureEncoder().fit(frame, BINARY_ROLES)
    model = build_deepfm(fe, CONFIG, output_bias=np.array([-0.5]))
    inputs = fe.transform(frame.head(16))
    parts = _parts(model, inputs)
    total = parts["linear_sum"] + parts["linear_numeric"] + parts["fm"] + parts["deep_out"]
    np.testing.assert_allclose(parts["logit"], total, rtol=1e-5, atol=1e-6)
    prob = keras.ops.convert_to_numpy(model(inputs, training=False))
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-total)), rtol=1e-5, atol=1e-6)
    assert prob.shape == (16, 1)
    # The output bias starts at the given prior; first-order weights start at zero.
    np.testing.assert_allclose(model.get_layer("deep_out").bias.numpy(), [-0.5])
    assert np.all(parts["linear_sum"] == 0)


def test_fm_part_uses_the_shared_embedding_table() -> None:
    frame = make_binary_frame()
    fe = FeatureEncoder().fit(frame, BINARY_ROLES)
    model = build_deepfm(fe, CONFIG)
    inputs = fe.transform(frame.head(5))
    tables = field_tables(model, fe)
    assert list(tables) == ["shop", "colour"]
    assert tables["shop"]["embedding"].shape == (fe.encoders_["shop"].size, 3)
    assert tables["shop"]["linear"].shape == (fe.encoders_["shop"].size, 1)
    cat = inputs["categorical"]
    v_shop = tables["shop"]["embedding"][cat[:, 0]]
    v_colour = tables["colour"]["embedding"][cat[:, 1]]
    expected = np.sum(v_shop * v_colour, axis=1, keepdims=True)  # one pair of fields
    np.testing.assert_allclose(_parts(model, inputs)["fm"], expected, rtol=1e-5, atol=1e-7)


def test_regression_model_has_linear_output_and_no_numeric_input() -> None:
    frame = make_regression_frame()
    fe = FeatureEncoder().fit(frame, REGRESSION_ROLES)
    model = build_deepfm(fe, CONFIG)
    assert [t.name for t in model.inputs] == ["categorical"]
    assert model.get_layer("prediction").activation.__name__ == "linear"
    out = keras.ops.convert_to_numpy(model(fe.transform(frame.head(4)), training=False))
    assert out.shape == (4, 1)


def test_multiclass_model_gives_per_class_logits_and_probabilities() -> None:
    frame = make_multiclass_frame()
    fe = FeatureEncoder().fit(frame, MULTICLASS_ROLES)
    model = build_deepfm(fe, CONFIG, output_bias=np.log([0.2, 0.3, 0.5]))
    inputs = fe.transform(frame.head(6))
    parts = _parts(model, inputs)
    assert parts["fm_classes"].shape == (6, 3) and parts["linear_sum"].shape == (6, 3)
    total = parts["linear_sum"] + parts["fm_classes"] + parts["deep_out"]
    np.testing.assert_allclose(parts["logit"], total, rtol=1e-5, atol=1e-6)
    prob = keras.ops.convert_to_numpy(model(inputs, training=False))
    assert prob.shape == (6, 3)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-5)
    assert field_tables(model, fe)["kind"]["linear"].shape[1] == 3


def test_l2_penalty_is_a_model_loss_only_when_asked() -> None:
    frame = make_binary_frame()
    fe = FeatureEncoder().fit(frame, BINARY_ROLES)
    inputs = fe.transform(frame.head(8))
    with_l2 = build_deepfm(fe, CONFIG.replace(l2_embedding=1e-3))
    without = build_deepfm(fe, CONFIG.replace(l2_embedding=0.0))
    with_l2(inputs, training=True)
    without(inputs, training=True)
    assert len(with_l2.losses) == 1 and float(with_l2.losses[0]) > 0
    assert len(without.losses) == 0


def test_traced_scoring_splits_rows_evenly_and_traces_one_shape(monkeypatch) -> None:
    from embedding_core.model import deepfm

    frame = make_binary_frame()
    fe = FeatureEncoder().fit(frame, BINARY_ROLES)
    model = build_deepfm(fe, CONFIG)
    model.compile(loss="binary_crossentropy")
    inputs = fe.transform(frame.head(101))
    monkeypatch.setattr(deepfm, "PREDICT_CHUNK", 40)  # 101 rows -> 3 chunks of 34 (last padded)
    shapes: list[int] = []
    score = model.predict_on_batch
    monkeypatch.setattr(
        model, "predict_on_batch", lambda x: shapes.append(len(x["categorical"])) or score(x)
    )
    traced = deepfm.predict_raw(model, inputs, traced=True)
    assert shapes == [34, 34, 34]
    eager = deepfm.predict_raw(model, inputs)
    assert traced.shape == eager.shape == (101, 1)
    np.testing.assert_allclose(traced, eager, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("encoding", ["scaled", "bins", "ple"])
@pytest.mark.parametrize(
    ("make", "roles"),
    [
        (make_binary_frame, BINARY_ROLES),
        (make_multiclass_frame, MULTICLASS_ROLES),
        (make_regression_frame, REGRESSION_ROLES),
    ],
)
def test_size_check_counts_every_trainable_weight(make, roles, encoding: str) -> None:
    """The check before building counts exactly what ``build_deepfm`` then makes."""
    from embedding_core.model.networks import check_network_size

    config = CONFIG.replace(numeric_encoding=encoding)
    fe = FeatureEncoder().fit(make(), roles, numeric_encoding=encoding)
    model = build_deepfm(fe, config)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert check_network_size(fe, config) == trainable


def test_default_vector_size_is_the_documented_one() -> None:
    """k = 16 by default (config docstring, CLI help, README); the built table follows it."""
    from embedding_core.cli import _config, build_parser

    assert TrainConfig().embedding_dim == 16
    argv = ["train", "--data", "d.csv", "--categorical", "a", "--target", "y", "--out", "o"]
    parser = build_parser()
    assert _config(parser.parse_args(argv)).embedding_dim == 16
    train_help = parser._subparsers._group_actions[0].choices["train"].format_help()
    assert "vector size k (default 16)" in " ".join(train_help.split())
    frame = make_binary_frame()
    fe = FeatureEncoder().fit(frame, BINARY_ROLES)
    model = build_deepfm(fe, TrainConfig(hidden_units=(8,)))
    assert field_tables(model, fe)["shop"]["embedding"].shape == (fe.encoders_["shop"].size, 16)
