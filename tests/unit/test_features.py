"""FeatureEncoder: vocabularies, numeric block, target coding, names and persistence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from synthetic import BINARY_ROLES, make_binary_frame

from embedding_core.data.roles import Roles
from embedding_core.errors import DataError
from embedding_core.model.features import (
    FeatureEncoder,
    sanitise_name,
)


def test_sanitised_input_names_are_keras_safe_and_unique() -> None:
    frame = pd.DataFrame(
        {
            "a/b": ["x", "y"],
            "a b": ["y", "y"],
            "1st": ["z", "z"],
            "categorical": ["w", "v"],
            "t": ["1", "0"],
        }
    )
    roles = Roles(("a/b", "a b", "1st", "categorical"), "t", task="binary")
    fe = FeatureEncoder().fit(frame, roles, min_count=1)
    names = [fe.input_name(c) for c in roles.categorical]
    assert names == ["a_b", "a_b_2", "f_1st", "categorical_2"]
    assert all(n.replace("_", "").isalnum() for n in names)
    assert sanitise_name("savings_account/bonds") == "savings_account_bonds"
    with pytest.raises(KeyError):
        fe.input_name("nope")


def test_transform_shapes_unknown_and_missing_categories() -> None:
    frame = make_binary_frame()
    fe = FeatureEncoder().fit(frame, BINARY_ROLES, min_count=2)
    inputs = fe.transform(frame)
    assert set(inputs) == {"categorical", "numeric"}
    assert inputs["categorical"].shape == (len(frame), 2)
    assert inputs["categorical"].dtype == np.int32
    assert inputs["numeric"].shape == (len(frame), 2) and inputs["numeric"].dtype == np.float32

    new = pd.DataFrame({"shop": ["never-seen", None, "s01"], "colour": ["c1"] * 3, "x": ["1"] * 3})
    cat = fe.transform(new)["categorical"]
    shop = fe.encoders_["shop"]
    assert cat[0, 0] == 0  # unknown
    assert cat[1, 0] == (shop.missing_index_ or 0)
    assert cat[2, 0] == shop.labels_.index("s01")
    assert fe.field_sizes == [fe.encoders_["shop"].size, fe.encoders_["colour"].size]


def test_numeric_block_is_standardised_with_missing_flags() -> None:
    frame = pd.DataFrame({"c": list("aabb"), "n": ["1", "3", "", "5"], "t": ["0", "1", "0", "1"]})
    fe = FeatureEncoder().fit(frame, Roles(("c",), "t", ("n",), "binary"), min_count=1)
    block = fe.transform(frame)["numeric"]
    assert fe.numeric_mean_["n"] == pytest.approx(3.0)
    np.testing.assert_allclose(
        block[:, 0], [-2 / fe.numeric_std_["n"], 0, 0, 2 / fe.numeric_std_["n"]]
    )
    np.testing.assert_array_equal(block[:, 1], [0, 0, 1, 0])
    with pytest.raises(DataError, match="not numbers"):
        fe.transform(frame.assign(n=["1", "two", "3", "4"]))


def test_missing_column_raises_data_error() -> None:
    frame = make_binary_frame()
    fe = FeatureEncoder().fit(frame, BINARY_ROLES)
    with pytest.raises(DataError, match="'colour'"):
        fe.transform(frame.drop(columns="colour"))


@pytest.mark.parametrize(
    ("labels", "positive"),
    [
        (["0", "1", "0", "0"], "1"),
        ([0.0, 1.0, 1.0, 1.0], "1"),
        (["no", "yes", "yes", "yes"], "yes"),
        (["good", "bad", "good", "good"], "bad"),  # no hint: the rarer class
        ([True, False, False, True], "True"),
    ],
)
def test_binary_positive_label(labels: list, positive: str) -> None:
    frame = pd.DataFrame({"c": list("abcd"), "t": labels})
    fe = FeatureEncoder().fit(frame, Roles(("c",), "t", task="binary"), min_count=1)
    assert fe.positive_label_ == positive
    assert fe.classes_[1] == positive and len(fe.classes_) == 2
    y = fe.encode_target(frame["t"])
    assert y.dtype == np.float32
    assert y.tolist() == [float(v == positive) for v in fe_labels(frame)]


def fe_labels(frame: pd.DataFrame) -> list[str]:
    from embedding_core.model.features import target_text

    return target_text(frame["t"]).tolist()


def test_multiclass_and_regression_targets() -> None:
    frame = pd.DataFrame({"c": list("abcdef"), "t": ["10", "2", "2", "1", "10", "1"]})
    fe = FeatureEncoder().fit(frame, Roles(("c",), "t", task="multiclass"), min_count=1)
    assert fe.classes_ == ["1", "2", "10"]  # numeric order
    assert fe.encode_target(frame["t"]).tolist() == [2, 1, 1, 0, 2, 0]
    assert fe.n_outputs == 3
    with pytest.raises(DataError, match="does not know"):
        fe.encode_target(pd.Series(["3"]))

    fe = FeatureEncoder().fit(frame, Roles(("c",), "t", task="regression"), min_count=1)
    z = fe.encode_target(frame["t"])
    assert abs(float(z.mean())) < 1e-6 and float(z.std()) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(fe.decode_target(z), [10, 2, 2, 1, 10, 1], rtol=1e-5)
    np.testing.assert_allclose(fe.target_values(frame["t"]), [10, 2, 2, 1, 10, 1], rtol=1e-5)


def test_to_dict_round_trips_through_json() -> None:
    frame = make_binary_frame()
    fe = FeatureEncoder().fit(frame, BINARY_ROLES)
    back = FeatureEncoder.from_dict(json.loads(json.dumps(fe.to_dict())))
    assert back.to_dict() == fe.to_dict()
    for key, value in fe.transform(frame).items():
        np.testing.assert_array_equal(back.transform(frame)[key], value)
    np.testing.assert_array_equal(back.encode_target(frame["y"]), fe.encode_target(frame["y"]))


def test_single_class_target_raises_data_error() -> None:
    frame = pd.DataFrame({"c": list("ab"), "t": ["1", "1"]})
    with pytest.raises(DataError, match="does not fit a binary task"):
        FeatureEncoder().fit(frame, Roles(("c",), "t", task="binary"))


def test_unfitted_encoder_says_so() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        FeatureEncoder().transform(pd.DataFrame({"a": [1]}))


@pytest.mark.parametrize("numeric_encoding", ["scaled", "bins"])
@pytest.mark.parametrize("min_count", [1, 3])
def test_fit_transform_on_some_rows_equals_fit_on_them_then_transform_all(
    numeric_encoding: str, min_count: int
) -> None:
    frame = make_binary_frame()
    rng = np.random.default_rng(3)
    frame.loc[rng.choice(len(frame), 30, replace=False), "shop"] = None  # missing cells
    frame.loc[:4, "colour"] = ["only-in-valid"] * 5
    rows = np.sort(rng.choice(np.arange(5, len(frame)), len(frame) // 2, replace=False))
    options = {"min_count": min_count, "numeric_encoding": numeric_encoding}
    reference = FeatureEncoder().fit(frame.iloc[rows], BINARY_ROLES, **options)
    expected = reference.transform(frame)
    fe = FeatureEncoder()
    got = fe.fit_transform(frame, BINARY_ROLES, rows=rows, **options)
    assert fe.to_dict() == reference.to_dict()
    assert set(got) == set(expected)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name])
        assert got[name].dtype == expected[name].dtype
    assert (got["categorical"][:5, 1] == 0).all()  # unseen in the rows fitted on: unknown
    everything = FeatureEncoder().fit_transform(frame, BINARY_ROLES, **options)
    np.testing.assert_array_equal(
        everything["categorical"],
        fe.fit(frame, BINARY_ROLES, **options).transform(frame)["categorical"],
    )
