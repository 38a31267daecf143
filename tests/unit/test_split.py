"""train_valid_split: deterministic, disjoint, covering, stratified."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_core.data.split import train_valid_split


def _check_partition(train: np.ndarray, valid: np.ndarray, n_rows: int) -> None:
    assert train.dtype == np.int64 and valid.dtype == np.int64
    assert len(train) > 0 and len(valid) > 0
    assert (np.diff(train) > 0).all() and (np.diff(valid) > 0).all()  # sorted, no repeats
    assert np.intersect1d(train, valid).size == 0
    np.testing.assert_array_equal(np.union1d(train, valid), np.arange(n_rows))


def test_partition_and_size():
    train, valid = train_valid_split(1000, valid_fraction=0.2, seed=0)
    _check_partition(train, valid, 1000)
    assert len(valid) == 200


def test_same_seed_same_split_other_seed_other_split():
    a = train_valid_split(500, seed=7)
    b = train_valid_split(500, seed=7)
    c = train_valid_split(500, seed=8)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_split_is_not_just_the_last_rows():
    _, valid = train_valid_split(1000, seed=0)
    assert valid.min() < 500 < valid.max()


def test_stratified_keeps_class_proportions():
    labels = np.array(["yes"] * 50 + ["no"] * 950)
    _, valid = train_valid_split(1000, valid_fraction=0.2, seed=1, stratify=labels)
    assert (labels[valid] == "yes").sum() == 10
    assert (labels[valid] == "no").sum() == 190


def test_stratified_with_mixed_label_types_and_missing():
    labels = np.array([1, "1", None, 2.5] * 25, dtype=object)
    train, valid = train_valid_split(100, valid_fraction=0.2, seed=0, stratify=labels)
    _check_partition(train, valid, 100)


def test_two_rows_give_one_each():
    train, valid = train_valid_split(2, valid_fraction=0.01)
    _check_partition(train, valid, 2)
    train, valid = train_valid_split(2, valid_fraction=0.99)
    _check_partition(train, valid, 2)


def test_tiny_fraction_still_gives_a_validation_row():
    train, valid = train_valid_split(10, valid_fraction=0.01, stratify=["a", "b"] * 5)
    assert len(valid) == 1


def test_huge_fraction_still_leaves_a_training_row():
    train, valid = train_valid_split(4, valid_fraction=0.9, stratify=["a", "a", "b", "b"])
    _check_partition(train, valid, 4)
    assert len(train) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_rows": 1}, "n_rows >= 2"),
        ({"n_rows": 10, "valid_fraction": 0.0}, "valid_fraction"),
        ({"n_rows": 10, "valid_fraction": 1.0}, "valid_fraction"),
        ({"n_rows": 10, "stratify": [0, 1, 0]}, "stratify of length 10"),
    ],
)
def test_invalid_arguments(kwargs, match):
    n_rows = kwargs.pop("n_rows")
    with pytest.raises(ValueError, match=match):
        train_valid_split(n_rows, **kwargs)


@settings(max_examples=150, deadline=None)
@given(
    n_rows=st.integers(2, 3000),
    valid_fraction=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**32 - 1),
    n_classes=st.one_of(st.none(), st.integers(1, 6)),
    skew=st.floats(0.0, 3.0),
)
def test_split_properties(n_rows, valid_fraction, seed, n_classes, skew):
    stratify = None
    if n_classes is not None:  # labels with skewed class sizes, drawn from the seed
        weights = np.exp(-skew * np.arange(n_classes))
        rng = np.random.default_rng(seed)
        stratify = rng.choice(n_classes, size=n_rows, p=weights / weights.sum())
    train, valid = train_valid_split(
        n_rows, valid_fraction=valid_fraction, seed=seed, stratify=stratify
    )
    _check_partition(train, valid, n_rows)
    again = train_valid_split(n_rows, valid_fraction=valid_fraction, seed=seed, stratify=stratify)
    np.testing.assert_array_equal(again[0], train)
    np.testing.assert_array_equal(again[1], valid)
    if stratify is None:
        assert abs(len(valid) - valid_fraction * n_rows) <= 1
    else:
        for label in np.unique(stratify):
            in_class = int((stratify == label).sum())
            in_valid = int((stratify[valid] == label).sum())
            assert abs(in_valid - valid_fraction * in_class) <= 1
