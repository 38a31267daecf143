"""compare_runs (Procrustes, overlap@k, movement) and stability on constructed tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from embedding_core.analysis.compare import (
    chance_note,
    chance_overlap,
    compare_runs,
    overlap_at_k,
    procrustes_rotation,
    top_k_sets,
)
from embedding_core.analysis.neighbours import nearest_neighbours
from embedding_core.analysis.stability import neighbour_votes, stability, stability_all_fields
from embedding_core.errors import DataError


def _table(vecs: np.ndarray, names: list[str], counts: list[int] | None = None) -> pd.DataFrame:
    """An embedding table as a run hands it out, with the reserved unknown row first."""
    k = vecs.shape[1]
    rows = pd.DataFrame(vecs, columns=[f"emb_{d}" for d in range(k)])
    rows.insert(0, "category", names)
    rows.insert(1, "count", counts if counts is not None else [100] * len(names))
    rows.insert(2, "is_unknown", False)
    unknown = pd.DataFrame(
        {"category": ["<unknown>"], "count": [5], "is_unknown": [True]}
        | {f"emb_{d}": [0.0] for d in range(k)}
    )
    return pd.concat([unknown, rows], ignore_index=True)


def _rotation(k: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(k, k)))
    return q


@pytest.fixture
def base() -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 6)), [f"c{i:02d}" for i in range(40)]


def test_procrustes_recovers_a_known_rotation_exactly(base) -> None:
    a, _ = base
    q = _rotation(6, 1)
    np.testing.assert_allclose(procrustes_rotation(a, a @ q), q, atol=1e-10)
    # weights: a row with weight 0 does not pull the fit, however wrong it is
    b = a @ q
    b[0] = 100.0
    w = np.ones(len(a))
    w[0] = 0
    np.testing.assert_allclose(procrustes_rotation(a, b, w), q, atol=1e-10)
    assert not np.allclose(procrustes_rotation(a, b), q, atol=1e-3)


def test_a_rotated_copy_has_not_moved_and_keeps_every_neighbour(base) -> None:
    a, names = base
    result = compare_runs(_table(a, names), _table(a @ _rotation(6, 2), names), "f", k=5)
    assert len(result) == 40
    assert result.attrs == {"k": 5, "shared": 40, "field": "f", "chance": 5 / 39}
    np.testing.assert_allclose(result["moved"], 0.0, atol=1e-5)  # float32 tables
    assert (result["overlap"] == 1.0).all() and result["in_a"].all() and result["in_b"].all()


def test_moved_categories_come_first_weighted_by_frequency(base) -> None:
    a, names = base
    b = a.copy()
    b[[3, 7]] = b[[7, 3]]  # two categories swap places
    b[10] += 4.0  # a frequent category moves
    b[11] += 4.0  # a rare one moves the same distance
    counts = [100] * 40
    counts[10], counts[11] = 300, 2
    result = compare_runs(_table(a, names, counts), _table(b, names, counts), "f", k=5)
    top = result["category"].head(3).tolist()
    assert top[0] == "c10" and set(top[1:]) == {"c03", "c07"}
    by_name = result.set_index("category")
    assert by_name.loc["c11", "moved"] == pytest.approx(by_name.loc["c10", "moved"], rel=0.2)
    assert by_name.loc["c11", "moved_weighted"] < by_name.loc["c03", "moved_weighted"]
    assert by_name.loc["c00", "moved"] < 0.5  # the rest barely moves once aligned


def test_categories_of_one_run_only_are_listed_last(base) -> None:
    a, names = base
    result = compare_runs(_table(a[:30], names[:30]), _table(a[5:], names[5:]), "f", k=3)
    assert result.attrs["shared"] == 25
    tail = result.tail(15)
    assert set(tail["category"]) == set(names[:5] + names[30:])
    assert tail["moved"].isna().all() and tail["overlap"].isna().all()
    assert (tail.loc[~tail["in_b"], "count_b"] == 0).all()
    assert "<unknown>" not in set(result["category"])


def test_overlap_at_k_on_constructed_neighbour_lists() -> None:
    first = np.array([[1, 2], [0, 2], [0, 1]])
    second = np.array([[2, 1], [2, 3], [3, 4]])
    np.testing.assert_allclose(overlap_at_k(first, second), [1.0, 0.5, 0.0])
    # on a line, each point's nearest neighbours are the adjacent points
    line = np.array([[1.0, 0.0], [1.0, 0.1], [1.0, 0.3], [1.0, 0.7], [1.0, 1.5]])
    np.testing.assert_array_equal(top_k_sets(line, 1, "euclidean")[:, 0], [1, 0, 1, 2, 3])


def test_refusals(base) -> None:
    a, names = base
    with pytest.raises(DataError, match="different vector sizes"):
        compare_runs(_table(a, names), _table(a[:, :4], names), "f")
    with pytest.raises(DataError, match="share 1"):
        compare_runs(_table(a[:2], names[:2]), _table(a[1:3], names[1:3]), "f")
    with pytest.raises(DataError, match="at least two runs"):
        stability([_table(a, names)], "f")


def test_stability_badges(base) -> None:
    a, names = base
    counts = [100] * 38 + [3, 3]
    same = [_table(a @ _rotation(6, s), names, counts) for s in range(3)]
    result = stability(same, "f", k=5)
    line = 5 / 39 + 0.5 * (1 - 5 / 39)
    assert result.attrs == {
        "k": 5, "runs": 3, "field": "f", "chance": 5 / 39, "line": line, "asked_k": 5
    }  # fmt: skip
    assert (result["overlap"] == 1.0).all()
    badges = result.set_index("category")["reliability"]
    assert (badges[names[:38]] == "stable").all() and (badges[names[38:]] == "too rare").all()

    rng = np.random.default_rng(5)
    noisy = [_table(rng.normal(size=a.shape), names, counts) for _ in range(3)]
    shaky = stability(noisy, "f", k=5)
    assert shaky["overlap"].mean() < 0.4
    assert (shaky.loc[shaky["count"] >= 30, "reliability"] == "unstable").mean() > 0.8


def test_neighbour_votes_count_runs(base) -> None:
    a, names = base
    tables = [_table(a, names), _table(a @ _rotation(6, 3), names)]
    b = a.copy()
    b[0] = -b[0]  # in the third run c00 has other neighbours
    tables.append(_table(b, names))
    votes = neighbour_votes(tables, "f", "c00", k=4)
    first = nearest_neighbours(tables[0], "c00", k=4)["category"].tolist()
    assert all(votes[n] >= 2 for n in first)  # the rotated copy agrees
    assert sum(votes.values()) == 12 and min(votes.values()) >= 1
    assert sum(v == 1 for v in votes.values()) >= 2  # the third run disagrees


def test_all_fields_stacks_and_skips_what_cannot_be_compared(base) -> None:
    a, names = base

    class Run:
        fields = ["f", "g"]

        def __init__(self, table: pd.DataFrame) -> None:
            self.table = table

        def embeddings(self, field: str) -> pd.DataFrame:
            return self.table if field == "f" else self.table.head(2)

    out = stability_all_fields([Run(_table(a, names)), Run(_table(a, names))], k=3)
    assert set(out["field"]) == {"f"} and len(out) == 40 and (out["k"] == 3).all()


def test_agreement_says_how_much_random_vectors_would_give(base) -> None:
    """Overlap@k on a field of few categories is high by construction: random vectors
    share k / (n - 1) of their neighbours on average. Measured, and said."""
    rng = np.random.default_rng(0)
    n, k = 12, 10
    names = [f"c{i}" for i in range(n)]
    tables = [
        stability([_table(rng.normal(size=(n, 6)), names) for _ in range(3)], "f", k=k)
        for _ in range(30)
    ]
    # the verdict uses 5 of the 11 others (10 would be 91% agreement by chance alone)
    assert {t.attrs["k"] for t in tables} == {5} and tables[0].attrs["asked_k"] == 10
    assert abs(np.mean([t["overlap"].mean() for t in tables]) - chance_overlap(5, n)) < 0.03
    # random vectors are not "stable": the line is half way from chance to agreement
    badges = pd.concat(tables)["reliability"]
    assert (badges == "stable").mean() < 0.1
    assert tables[0].attrs["line"] == pytest.approx(5 / 11 + 0.5 * 6 / 11)
    note = chance_note(k, n)
    assert note is not None and "12 categories" in note and "91%" in note
    assert "smaller k" in note
    assert chance_note(5, 1000) is None and chance_note(3, 12) is None  # 27%: below the line
    a, names40 = base
    compared = compare_runs(_table(a, names40), _table(a @ _rotation(6, 1), names40), "f", k=5)
    assert compared.attrs["chance"] == chance_overlap(5, 40)
