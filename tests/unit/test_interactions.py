"""Field x field interaction strengths of the FM term, and their plain-language reading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from embedding_core.analysis.interactions import (
    describe_top_pairs,
    field_interactions,
    top_pairs,
)
from embedding_core.errors import DataError


def make_table(vectors: np.ndarray, counts: np.ndarray | None = None) -> pd.DataFrame:
    n, k = vectors.shape
    frame = pd.DataFrame(
        {
            "index": np.arange(n),
            "category": pd.array([f"c{i}" for i in range(n)], dtype="str"),
            "count": np.ones(n, dtype=np.int64) if counts is None else np.asarray(counts),
            "is_unknown": np.arange(n) == 0,
        }
    )
    for j in range(k):
        frame[f"emb_{j}"] = vectors[:, j].astype(np.float32)
    return frame


def random_tables(sizes: list[int], k: int = 4, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    return {
        f"f{i}": make_table(rng.normal(size=(n, k)), rng.integers(0, 50, size=n))
        for i, n in enumerate(sizes)
    }


def brute_force(tables: dict[str, pd.DataFrame], signed: bool) -> np.ndarray:
    """Explicit double loop over the categories of every pair of fields."""
    fields = list(tables)
    out = np.full((len(fields), len(fields)), np.nan)
    for i, fa in enumerate(fields):
        for j, fb in enumerate(fields):
            if i == j:
                continue
            a, b = tables[fa], tables[fb]
            va = a.filter(like="emb_").to_numpy(np.float64)
            vb = b.filter(like="emb_").to_numpy(np.float64)
            pa = a["count"].to_numpy(np.float64) / a["count"].sum()
            pb = b["count"].to_numpy(np.float64) / b["count"].sum()
            total = 0.0
            for x in range(len(a)):
                for y in range(len(b)):
                    dot = sum(va[x, d] * vb[y, d] for d in range(va.shape[1]))
                    total += pa[x] * pb[y] * (dot if signed else abs(dot))
            out[i, j] = total
    return out


@pytest.mark.parametrize("signed", [False, True])
def test_matches_double_loop_over_categories(signed: bool) -> None:
    tables = random_tables([3, 7, 5, 12])
    got = field_interactions(tables, signed=signed)
    assert got.index.tolist() == got.columns.tolist() == ["f0", "f1", "f2", "f3"]
    assert np.allclose(got.to_numpy(), brute_force(tables, signed), rtol=1e-5, equal_nan=True)
    assert np.isnan(np.diag(got.to_numpy())).all()
    assert np.allclose(got.to_numpy(), got.to_numpy().T, equal_nan=True)


@pytest.mark.parametrize("signed", [False, True])
def test_pair_weights_scale_each_pair(signed: bool) -> None:
    tables = random_tables([3, 7, 5])
    names = ["f0", "f1", "f2"]
    r = pd.DataFrame(
        [[0.0, 2.0, -0.5], [2.0, 0.0, 0.0], [-0.5, 0.0, 0.0]], index=names, columns=names
    )
    plain = field_interactions(tables, signed=signed).to_numpy()
    got = field_interactions(tables, signed=signed, pair_weights=r.loc[::-1, ::-1]).to_numpy()
    scale = (r.to_numpy() if signed else np.abs(r.to_numpy())).copy()
    np.fill_diagonal(scale, np.nan)
    np.testing.assert_allclose(got, plain * scale, rtol=1e-6)
    assert got[1, 2] == 0  # a pair whose weight faded out does not interact


def test_block_wise_product_matches_double_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    from embedding_core.analysis import interactions

    monkeypatch.setattr(interactions, "_BLOCK", 10)  # a few rows of the product at a time
    tables = random_tables([9, 13, 4], seed=3)
    got = field_interactions(tables)
    assert np.allclose(got.to_numpy(), brute_force(tables, False), rtol=1e-5, equal_nan=True)


def test_orthogonal_fields_do_not_interact_and_scaling_is_linear() -> None:
    rng = np.random.default_rng(1)
    a = np.c_[rng.normal(size=(6, 2)), np.zeros((6, 2))]  # lives in dims 0-1
    b = np.c_[np.zeros((5, 2)), rng.normal(size=(5, 2))]  # lives in dims 2-3
    c = rng.normal(size=(4, 4))
    tables = {"a": make_table(a), "b": make_table(b), "c": make_table(c)}
    m = field_interactions(tables)
    assert m.loc["a", "b"] == 0.0
    assert m.loc["a", "c"] > 0 and m.loc["b", "c"] > 0
    doubled = dict(tables, c=make_table(2 * c))
    m2 = field_interactions(doubled)
    assert np.isclose(m2.loc["a", "c"], 2 * m.loc["a", "c"], rtol=1e-6)


def test_frequent_categories_weigh_more() -> None:
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[1.0, 0.0]])
    m = field_interactions({"a": make_table(a, [9, 1]), "b": make_table(b, [5])})
    assert np.isclose(m.loc["a", "b"], 0.9)
    m = field_interactions({"a": make_table(a, [1, 9]), "b": make_table(b, [5])})
    assert np.isclose(m.loc["a", "b"], 0.1)


def test_zero_counts_fall_back_to_uniform_weights() -> None:
    a = np.array([[1.0, 0.0], [3.0, 0.0]])
    b = np.array([[1.0, 0.0]])
    m = field_interactions({"a": make_table(a, [0, 0]), "b": make_table(b, [0])})
    assert np.isclose(m.loc["a", "b"], 2.0)


def test_signed_and_absolute_differ_when_signs_cancel() -> None:
    a = np.array([[1.0], [-1.0]])
    b = np.array([[1.0]])
    tables = {"a": make_table(a), "b": make_table(b)}
    assert field_interactions(tables).loc["a", "b"] == 1.0
    assert field_interactions(tables, signed=True).loc["a", "b"] == 0.0


def test_different_vector_sizes_raise() -> None:
    tables = {"a": make_table(np.ones((2, 3))), "b": make_table(np.ones((2, 4)))}
    with pytest.raises(DataError, match="different vector sizes"):
        field_interactions(tables)


def test_missing_vectors_raise() -> None:
    tables = random_tables([3, 3])
    tables["f1"] = tables["f1"].drop(columns=["emb_0", "emb_1", "emb_2", "emb_3"])
    with pytest.raises(DataError, match="f1"):
        field_interactions(tables)


def test_handles_36_fields_of_800_categories() -> None:
    # Scale check only (speed lives in benchmarks/): finite, symmetric, right shape.
    tables = random_tables([800] * 36, k=8, seed=2)
    m = field_interactions(tables).to_numpy()
    off = ~np.eye(36, dtype=bool)
    assert m.shape == (36, 36) and np.isfinite(m[off]).all()
    assert np.allclose(m[off], m.T[off])


def matrix(values: dict[tuple[str, str], float], fields: list[str]) -> pd.DataFrame:
    m = pd.DataFrame(np.nan, index=fields, columns=fields)
    for (a, b), v in values.items():
        m.loc[a, b] = m.loc[b, a] = v
    return m


def test_top_pairs_named_in_order_with_ratio_and_share() -> None:
    fields = ["age", "job", "diag_1", "diag_2"]
    m = matrix(
        {
            ("diag_1", "diag_2"): 6.0,
            ("age", "job"): 3.0,
            ("job", "diag_1"): 1.0,
            ("age", "diag_1"): 1.0,
            ("age", "diag_2"): 0.5,
            ("job", "diag_2"): 0.5,
        },
        fields,
    )
    sentences = describe_top_pairs(m, n=3)
    assert len(sentences) == 3
    assert sentences[0].startswith("`diag_1` and `diag_2` interact most strongly")
    assert "6.0 times a typical pair" in sentences[0]  # median of the 6 pairs is 1.0
    assert "50% of all interaction" in sentences[0]  # 6 / 12
    assert sentences[1].startswith("Next come `age` and `job`")
    assert "25%" in sentences[1]
    assert sentences[2].startswith("Then `age` and `diag_1`")  # tie: first in field order
    assert len(describe_top_pairs(m, n=1)) == 1
    assert len(describe_top_pairs(m, n=10)) == 6


def test_top_pairs_on_real_output_and_odd_names() -> None:
    tables = random_tables([3, 4, 5])
    tables = {"a`b": tables["f0"], "x\ny": tables["f1"], "z": tables["f2"]}
    sentences = describe_top_pairs(field_interactions(tables), n=2)
    assert len(sentences) == 2
    for s in sentences:
        assert s.count("`") == 4 and "\n" not in s


def test_top_pairs_edge_cases() -> None:
    assert "only one categorical field" in describe_top_pairs(matrix({}, ["a"]))[0]
    one = describe_top_pairs(matrix({("a", "b"): 0.25}, ["a", "b"]))
    assert len(one) == 1 and "only pair" in one[0] and "0.25" in one[0]
    zero = describe_top_pairs(
        matrix({("a", "b"): 0.0, ("a", "c"): 0.0, ("b", "c"): 0.0}, list("abc"))
    )
    assert len(zero) == 1 and "None of the fields interact" in zero[0]


def test_top_pairs_rank_every_pair_once_with_its_share_and_ratio() -> None:
    m = matrix({("a", "b"): 1.0, ("a", "c"): -4.0, ("b", "c"): 3.0, ("c", "d"): 2.0}, list("abcd"))
    pairs = top_pairs(m)  # (a, d) and (b, d) have no value: left out
    assert list(zip(pairs["field_a"], pairs["field_b"], strict=True)) == [
        ("a", "c"), ("b", "c"), ("c", "d"), ("a", "b")
    ]  # fmt: skip
    assert np.allclose(pairs["share"], [0.4, 0.3, 0.2, 0.1])
    assert np.allclose(pairs["vs_typical"], [1.6, 1.2, 0.8, 0.4])  # median pair 2.5
    assert len(top_pairs(m, 2)) == 2 and top_pairs(matrix({}, ["a"])).empty
