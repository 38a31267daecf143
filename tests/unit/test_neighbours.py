"""Nearest neighbours of a category in the original embedding space."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from embedding_core.analysis.neighbours import nearest_neighbours, similarity_matrix
from embedding_core.errors import DataError

COLUMNS = ["category", "similarity", "distance", "count", "target_mean", "reliable"]


def make_table(vectors: np.ndarray, names: list[str] | None = None, counts=None) -> pd.DataFrame:
    n, k = vectors.shape
    names = names or ["<unknown>", "<missing>"] + [f"cat_{i}" for i in range(2, n)]
    counts = np.arange(n, dtype=np.int64) * 10 if counts is None else np.asarray(counts)
    frame = pd.DataFrame(
        {
            "index": np.arange(n),
            "category": pd.array(names, dtype="str"),
            "count": counts,
            "target_mean": np.linspace(0.0, 1.0, n),
            "first_order": np.zeros(n),
            "is_unknown": np.arange(n) == 0,
            "is_missing": np.arange(n) == 1,
        }
    )
    for j in range(k):
        frame[f"emb_{j}"] = vectors[:, j].astype(np.float32)
    return frame


def random_table(n: int = 25, k: int = 6, seed: int = 0) -> pd.DataFrame:
    return make_table(np.random.default_rng(seed).normal(size=(n, k)))


def test_cosine_matches_manual_computation() -> None:
    table = random_table()
    x = table[[f"emb_{j}" for j in range(6)]].to_numpy(np.float64)
    q = 7
    manual = {}
    for i in range(len(x)):
        if i != q:
            dot = sum(x[q, d] * x[i, d] for d in range(6))
            norms = math.sqrt(sum(v * v for v in x[q])) * math.sqrt(sum(v * v for v in x[i]))
            manual[table["category"][i]] = dot / norms
    expected = sorted(manual.items(), key=lambda kv: -kv[1])[:10]

    got = nearest_neighbours(table, "cat_7", k=10)
    assert list(got.columns) == COLUMNS
    assert got["category"].tolist() == [name for name, _ in expected]
    assert np.allclose(got["similarity"], [s for _, s in expected], atol=1e-12)
    assert np.allclose(got["distance"], 1 - got["similarity"])


def test_euclidean_distance_and_similarity() -> None:
    table = random_table(seed=1)
    x = table[[f"emb_{j}" for j in range(6)]].to_numpy(np.float64)
    got = nearest_neighbours(table, "cat_3", k=24, metric="euclidean")
    manual = {table["category"][i]: math.dist(x[3], x[i]) for i in range(len(x)) if i != 3}
    assert len(got) == 24 and "cat_3" not in set(got["category"])
    assert np.allclose(got["distance"], [manual[c] for c in got["category"]], atol=1e-12)
    assert np.all(np.diff(got["distance"]) >= 0)
    assert np.allclose(got["similarity"], 1 / (1 + got["distance"]))
    assert np.all(np.diff(got["similarity"]) <= 0)


def test_neighbours_stay_in_planted_cluster() -> None:
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(3, 8)) * 3
    truth = np.repeat(np.arange(3), 10)
    x = centres[truth] + rng.normal(scale=0.05, size=(30, 8))
    table = make_table(x)
    for metric in ("cosine", "euclidean"):
        for q in (2, 15, 29):
            got = nearest_neighbours(table, f"cat_{q}", k=9, metric=metric)
            idx = [
                int(c.split("_")[1]) if c.startswith("cat_") else int(c == "<missing>")
                for c in got["category"]
            ]
            assert (truth[idx] == truth[q]).all(), (metric, q)


def test_returns_all_others_when_k_is_large_and_query_excluded() -> None:
    table = random_table(n=5)
    got = nearest_neighbours(table, "<unknown>", k=100)
    assert len(got) == 4
    assert "<unknown>" not in set(got["category"])
    assert got.index.tolist() == [0, 1, 2, 3]


def test_reliable_flag_and_columns() -> None:
    table = random_table(n=6)  # counts 0, 10, ..., 50
    got = nearest_neighbours(table, "cat_2", k=5, reliable_min_count=30)
    by_name = got.set_index("category")
    for _, row in table.iterrows():
        if row["category"] != "cat_2":
            assert by_name.loc[row["category"], "reliable"] == (row["count"] >= 30)
            assert by_name.loc[row["category"], "count"] == row["count"]
            assert by_name.loc[row["category"], "target_mean"] == row["target_mean"]
    assert got["reliable"].dtype == bool and got["count"].dtype == np.int64


def test_reserved_rows_can_be_excluded() -> None:
    table = random_table(n=8)
    names = set(nearest_neighbours(table, "cat_4", k=10)["category"])
    assert {"<unknown>", "<missing>"} <= names
    names = set(nearest_neighbours(table, "cat_4", k=10, include_reserved=False)["category"])
    assert names == {"cat_2", "cat_3", "cat_5", "cat_6", "cat_7"}


def test_reserved_rows_no_training_row_used_can_be_left_out() -> None:
    """Unknown with count 0 (never trained) is dropped, missing with rows is kept, and k
    neighbours are still listed."""
    vectors = np.random.default_rng(3).normal(size=(12, 4))
    vectors[0] = vectors[5] * 2  # the unused unknown row would be the closest to cat_5
    vectors[1] = vectors[5] * 3  # so would the used missing row
    table = make_table(vectors, counts=[0, 7, *range(10, 110, 10)])
    assert nearest_neighbours(table, "cat_5", k=2)["category"].tolist()[0] in (
        "<unknown>",
        "<missing>",
    )
    got = nearest_neighbours(table, "cat_5", k=4, include_unused=False)
    assert "<unknown>" not in got["category"].tolist()
    assert "<missing>" == got["category"].iloc[0]
    assert len(got) == 4


def test_zero_vectors_get_zero_cosine_not_nan() -> None:
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    table = make_table(x)
    got = nearest_neighbours(table, "<unknown>", k=3)
    assert got["similarity"].tolist() == [0.0, 0.0, 0.0]
    got = nearest_neighbours(table, "cat_3", k=3)
    assert not got["similarity"].isna().any()
    assert got["category"].tolist()[:2] == ["cat_2", "<missing>"]  # ties: more frequent first


def test_unknown_category_suggests_close_names() -> None:
    names = ["<unknown>", "<missing>", "services", "management", "admin.", "retired"]
    table = make_table(np.eye(6), names=names)
    with pytest.raises(DataError, match="servics") as info:
        nearest_neighbours(table, "servics", field="job")
    assert "'services'" in str(info.value) and "job" in str(info.value)
    with pytest.raises(DataError) as info:
        nearest_neighbours(table, "ADMIN")
    assert "'admin.'" in str(info.value)
    with pytest.raises(DataError, match="no category 'zzzz'"):
        nearest_neighbours(table, "zzzz")


def test_vector_columns_read_in_numeric_order() -> None:
    x = np.random.default_rng(3).normal(size=(12, 12))
    table = make_table(x)
    shuffled = table[
        list(table.columns[:7]) + [f"emb_{j}" for j in (10, 2, 11, 0, 1, 3, 4, 5, 6, 7, 8, 9)]
    ]
    a = nearest_neighbours(table, "cat_5", metric="euclidean")
    b = nearest_neighbours(shuffled, "cat_5", metric="euclidean")
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    "kwargs",
    [{"metric": "manhattan"}, {"k": 0}],
)
def test_bad_arguments_raise(kwargs: dict) -> None:
    with pytest.raises(DataError):
        nearest_neighbours(random_table(), "cat_2", **kwargs)


def test_table_without_vectors_raises() -> None:
    table = random_table().drop(columns=[f"emb_{j}" for j in range(6)])
    with pytest.raises(DataError, match="emb_"):
        nearest_neighbours(table, "cat_2")


def test_similarity_matrix_agrees_with_neighbours() -> None:
    table = random_table(n=10)
    x = table[[f"emb_{j}" for j in range(6)]].to_numpy(np.float64)
    for metric in ("cosine", "euclidean"):
        sim = similarity_matrix(x, metric)
        assert np.allclose(sim, sim.T) and np.allclose(np.diag(sim), 1.0)
        got = nearest_neighbours(table, "cat_4", k=9, metric=metric)
        pos = {c: i for i, c in enumerate(table["category"])}
        assert np.allclose(got["similarity"], sim[4, [pos[c] for c in got["category"]]])
