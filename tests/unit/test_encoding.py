"""CategoryEncoder: vocabulary order, reserved indices, unseen/rare/missing, JSON round-trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_core.data.encoding import (
    MISSING_LABEL,
    UNKNOWN_LABEL,
    CategoryEncoder,
    as_category_text,
)


def test_vocabulary_sorted_by_frequency_then_label():
    enc = CategoryEncoder().fit(["b", "c", "a", "c", "b", "c", "d", None])
    assert enc.labels_ == [UNKNOWN_LABEL, MISSING_LABEL, "c", "b", "a", "d"]
    assert enc.counts_ == [0, 1, 3, 2, 1, 1]
    assert enc.n_reserved_ == 2
    assert enc.missing_index_ == 1
    assert enc.size == 6


def test_known_unseen_and_missing_values_at_encode_time():
    enc = CategoryEncoder().fit(["red", "blue", "red", None])
    out = enc.transform(["blue", "green", None, np.nan, "red", pd.NA])
    assert out.tolist() == [3, 0, 1, 1, 2, 1]
    assert out.dtype == np.int32


def test_missing_at_encode_time_without_missing_in_training_is_unknown():
    enc = CategoryEncoder().fit(["a", "b"])
    assert enc.missing_index_ is None
    assert enc.n_reserved_ == 1
    assert enc.labels_ == [UNKNOWN_LABEL, "a", "b"]
    assert enc.transform([None, "a", "zzz"]).tolist() == [0, 1, 0]


def test_missing_as_category_false_folds_missing_into_unknown():
    enc = CategoryEncoder(missing_as_category=False).fit(["a", None, None, "a"])
    assert enc.labels_ == [UNKNOWN_LABEL, "a"]
    assert enc.counts_ == [2, 2]
    assert enc.transform([None, "a"]).tolist() == [0, 1]


def test_min_count_sends_rare_categories_to_unknown():
    values = ["a"] * 5 + ["b"] * 2 + ["c", "d"] + [None]
    enc = CategoryEncoder(min_count=2).fit(values)
    assert enc.labels_ == [UNKNOWN_LABEL, "a", "b"]  # one missing value is rare too
    assert enc.counts_ == [3, 5, 2]  # c, d and the missing value
    assert enc.transform(["c", "d", None, "b"]).tolist() == [0, 0, 0, 2]
    assert sum(enc.counts_) == len(values)


def test_counts_cover_every_training_row():
    rng = np.random.default_rng(0)
    values = pd.Series(rng.choice(["x", "y", "z", None], 500), dtype=object)
    enc = CategoryEncoder(min_count=3).fit(values)
    assert sum(enc.counts_) == 500
    codes = enc.transform(values)
    np.testing.assert_array_equal(np.bincount(codes, minlength=enc.size), enc.counts_)


def test_values_are_compared_as_text():
    enc = CategoryEncoder().fit([1, 2, 2, "3"])
    assert enc.labels_ == [UNKNOWN_LABEL, "2", "1", "3"]
    assert enc.transform(["1", 2, 3]).tolist() == [2, 1, 3]


def test_pandas_string_dtype_with_nan():
    values = pd.Series(["01", "1", None, "01"], dtype="str")
    enc = CategoryEncoder().fit(values)
    assert enc.labels_ == [UNKNOWN_LABEL, MISSING_LABEL, "01", "1"]  # "01" is not "1"
    assert enc.transform(values).tolist() == [2, 3, 1, 2]


@pytest.mark.parametrize("n", [50, 30_000])  # the Index lookup and Arrow's
def test_many_and_few_values_map_to_the_same_rows(n: int):
    rng = np.random.default_rng(n)
    train = [f"c{i}" for i in rng.integers(0, 3000, 20_000)] + [None] * 3
    enc = CategoryEncoder(min_count=2).fit(train)
    # known, rare, unseen, missing, and text equal to a reserved label
    pool = np.array([*train[:-3], "never-seen", "<unknown>", "c2999", None], dtype=object)
    probe = pool[rng.integers(0, len(pool), n)]
    expected = [
        enc.labels_.index(v) if v in enc.labels_[enc.n_reserved_ :] else None for v in probe
    ]
    expected = [
        enc.missing_index_ if v is None else 0 if e is None else e
        for v, e in zip(probe, expected, strict=True)
    ]
    got = enc.transform(pd.Series(probe, dtype="str"))
    assert got.tolist() == expected


def test_transform_ignores_the_series_index():
    enc = CategoryEncoder().fit(["a", "b", "b"])
    values = pd.Series(["b", "a"], index=[10, 3])
    assert enc.transform(values).tolist() == [1, 2]


def test_categories_named_like_the_reserved_labels_keep_their_own_index():
    enc = CategoryEncoder().fit(["<unknown>", "<missing>", "<unknown>", None, "<<unknown>>"])
    assert enc.transform(["<unknown>", "<missing>", None, "new"]).tolist() == [2, 4, 1, 0]
    assert not enc.is_reserved(2) and enc.is_reserved(1) and enc.is_reserved(0)
    # every label of the field is unique, so a name picked from a list is one row
    assert len(set(enc.labels_)) == enc.size
    assert enc.labels_[:2] == ["<<<unknown>>>", "<<missing>>"]
    assert enc.categories == ["<unknown>", "<<unknown>>", "<missing>"]


def test_reserved_rows_never_collide_with_a_real_category_downstream():
    """A category named "<unknown>" keeps its own vector in embed, transformers, neighbours."""
    from embedding_core.analysis.neighbours import nearest_neighbours
    from embedding_core.reuse.transformer import EmbeddingLookupEncoder

    values = ["<unknown>"] * 3 + ["<missing>"] * 2 + ["a"] * 2 + [None] * 2
    enc = CategoryEncoder().fit(values)
    table = pd.DataFrame(
        {
            "category": enc.labels_,
            "count": enc.counts_,
            "is_unknown": [i == 0 for i in range(enc.size)],
            "is_missing": [i == enc.missing_index_ for i in range(enc.size)],
            "emb_0": np.arange(enc.size, dtype=np.float32),
            "emb_1": np.arange(enc.size, dtype=np.float32) ** 2,
        }
    )
    probe = ["<unknown>", "<missing>", None, "never seen"]
    rows = enc.transform(probe)
    assert [enc.labels_[r] for r in rows[:2]] == ["<unknown>", "<missing>"]
    assert not any(enc.is_reserved(r) for r in rows[:2])
    looked_up = EmbeddingLookupEncoder(tables={"f": table}).fit_transform(
        pd.DataFrame({"f": probe})
    )
    np.testing.assert_array_equal(looked_up[:, 0], rows.astype(np.float32))
    # by name, the real category is found, and it is not its own neighbour
    real = enc.labels_.index("<unknown>")
    got = nearest_neighbours(table, "<unknown>", k=enc.size, metric="euclidean")
    assert len(got) == enc.size - 1 and table["category"][real] not in set(got["category"])


@pytest.mark.parametrize(
    "train",
    [
        pd.Series([3.0, 1.0, 3.0, np.nan]),  # integer codes in a float column
        pd.Series(["3", "1", "3", None], dtype="str"),  # as read from a CSV
        [3, 1, 3, None],  # Python ints
        pd.Series([3.0, "1", 3, None], dtype=object),  # mixed
    ],
)
def test_three_point_zero_and_three_are_one_category(train):
    enc = CategoryEncoder().fit(train)
    assert enc.categories == ["3", "1"]
    three = enc.labels_.index("3")
    probe = pd.Series([3.0, "3", 3, np.int64(3), np.float64(3.0), "3.0", " 3"], dtype=object)
    assert enc.transform(probe).tolist() == [three] * 5 + [0, 0]  # text is kept exactly
    assert enc.transform(pd.Series([3.0, np.nan])).tolist() == [three, 1]
    assert enc.transform([3.0]).tolist() == [three]


def test_floats_keep_their_fraction_when_a_column_has_one():
    assert as_category_text(pd.Series([1.5, 2.0])).tolist() == ["1.5", "2.0"]
    assert as_category_text(pd.Series([1.5, 2.0, "x"], dtype=object)).tolist() == [
        "1.5",
        "2.0",
        "x",
    ]


def test_fit_transform_equals_fit_then_transform():
    values = ["q", "r", None, "q", "s"]
    np.testing.assert_array_equal(
        CategoryEncoder(min_count=2).fit_transform(values),
        CategoryEncoder(min_count=2).fit(values).transform(values),
    )


def test_invalid_min_count():
    with pytest.raises(ValueError, match="min_count >= 1"):
        CategoryEncoder(min_count=0).fit(["a"])


def test_json_round_trip_is_exact():
    enc = CategoryEncoder(min_count=2).fit(["a, b", 'say "hi"', "a, b", "<i>x</i>", None, None])
    restored = CategoryEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    assert restored == enc
    assert restored.to_dict() == enc.to_dict()
    probe = ["a, b", 'say "hi"', "<i>x</i>", None, "new"]
    np.testing.assert_array_equal(restored.transform(probe), enc.transform(probe))


def test_repr():
    assert repr(CategoryEncoder(min_count=3)) == "CategoryEncoder(min_count=3)"
    assert "size=3" in repr(CategoryEncoder().fit(["a", "b"]))


_label = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["a", "b", "01", "1", "<unknown>", "<missing>", "x, y", '"q"', "é€"]),
    st.integers(-3, 3),
)


@settings(max_examples=80, deadline=None)
@given(
    train=st.lists(_label, max_size=40),
    probe=st.lists(_label, max_size=20),
    min_count=st.integers(1, 3),
    missing_as_category=st.booleans(),
)
def test_round_trip_property(train, probe, min_count, missing_as_category):
    enc = CategoryEncoder(min_count=min_count, missing_as_category=missing_as_category).fit(train)
    state = json.loads(json.dumps(enc.to_dict()))
    restored = CategoryEncoder.from_dict(state)
    assert restored == enc
    assert restored.to_dict() == enc.to_dict()
    for values in (train, probe):
        original = enc.transform(values)
        np.testing.assert_array_equal(restored.transform(values), original)
        assert original.dtype == np.int32
        assert ((0 <= original) & (original < enc.size)).all()
    assert sum(enc.counts_) == len(train)
    assert len(enc.labels_) == len(enc.counts_) == enc.size
    real = enc.counts_[enc.n_reserved_ :]
    assert real == sorted(real, reverse=True)
    assert all(c >= min_count for c in real)


@pytest.mark.parametrize("arrow_from", [0, 10_000])  # Arrow's lookup, the Index's
def test_positions_finds_labels_and_marks_unknown_and_missing_as_minus_one(monkeypatch, arrow_from):
    from embedding_core.data import encoding
    from embedding_core.data.encoding import positions

    monkeypatch.setattr(encoding, "_ARROW_LOOKUP_ROWS", arrow_from)
    text = pd.Series(["b", None, "zz", "a", "b"], dtype="str")
    known = pd.Index(["a", "b", "c"], dtype="str")
    assert positions(text, known).tolist() == [1, -1, -1, 0, 1]
    assert positions(text, pd.Index([], dtype="str")).tolist() == [-1] * 5
    assert positions(text.iloc[:0], known).tolist() == []
    assert positions(pd.Series([None, None], dtype="str"), known).tolist() == [-1, -1]
