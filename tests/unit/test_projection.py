"""Projections (PCA, t-SNE, UMAP), sampling for projection, and k-means cluster labels."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from embedding_core.analysis.clustering import cluster_labels
from embedding_core.analysis.projection import project, sample_for_projection
from embedding_core.errors import DataError


def planted_clusters(
    n_per: int = 20, n_clusters: int = 3, k: int = 8, spread: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points around ``n_clusters`` well-separated centres, with their true labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, k)) * 3.0
    truth = np.repeat(np.arange(n_clusters), n_per)
    x = centres[truth] + rng.normal(scale=spread, size=(len(truth), k))
    return x, truth


def nn_same_cluster(y: np.ndarray, truth: np.ndarray) -> float:
    """Share of points whose nearest other point (in ``y``) has the same true label."""
    d = np.linalg.norm(y[:, None, :] - y[None, :, :], axis=2)
    np.fill_diagonal(d, np.inf)
    return float((truth[d.argmin(axis=1)] == truth).mean())


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two labelings group the points identically (up to renaming)."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def make_table(counts: list[int], unknown_first: bool = True) -> pd.DataFrame:
    n = len(counts)
    names = [f"c{i}" for i in range(n)]
    is_unknown = np.zeros(n, dtype=bool)
    if unknown_first:
        names[0] = "<unknown>"
        is_unknown[0] = True
    return pd.DataFrame(
        {
            "index": np.arange(n),
            "category": pd.array(names, dtype="str"),
            "count": np.asarray(counts, dtype=np.int64),
            "is_unknown": is_unknown,
            "emb_0": np.arange(n, dtype=np.float32),
        }
    )


# --------------------------------------------------------------------------- PCA


def test_pca_matches_sklearn_up_to_sign() -> None:
    from sklearn.decomposition import PCA

    x = np.random.default_rng(1).normal(size=(50, 8))
    ours = project(x, "pca", 3)
    ref = PCA(n_components=3, svd_solver="full").fit_transform(x)
    for j in range(3):
        assert np.allclose(np.abs(ours[:, j]), np.abs(ref[:, j]), atol=1e-9)
        assert np.allclose(ours[:, j], ref[:, j], atol=1e-9) or np.allclose(
            ours[:, j], -ref[:, j], atol=1e-9
        )
    # deterministic sign convention: the largest |value| on each axis is positive
    assert (ours[np.abs(ours).argmax(axis=0), range(3)] > 0).all()


def test_pca_keeps_distances_of_planar_data() -> None:
    rng = np.random.default_rng(2)
    basis = np.linalg.qr(rng.normal(size=(8, 2)))[0]  # orthonormal 2-D plane in 8-D
    x = rng.normal(size=(30, 2)) @ basis.T + 5.0
    y = project(x, "pca", 2)
    dx = np.linalg.norm(x[:, None] - x[None], axis=2)
    dy = np.linalg.norm(y[:, None] - y[None], axis=2)
    assert np.allclose(dx, dy, atol=1e-9)


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_tiny_inputs_give_finite_coordinates(method: str, n: int) -> None:
    # t-SNE and UMAP fall back to PCA below 4 points, so this never runs UMAP itself.
    x = np.random.default_rng(n).normal(size=(n, 8))
    y = project(x, method, 2)  # type: ignore[arg-type]
    assert y.shape == (n, 2)
    assert np.isfinite(y).all()
    if n == 1:
        assert (y == 0).all()
    if n == 2:  # two points: on a line, second axis empty
        assert y[0, 0] != 0 and np.isclose(y[0, 0], -y[1, 0])
        assert (y[:, 1] == 0).all()


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_identical_vectors_project_to_zeros(method: str) -> None:
    x = np.tile(np.arange(8.0), (10, 1))
    y = project(x, method, 3)  # type: ignore[arg-type]
    assert y.shape == (10, 3)
    assert (y == 0).all()


def test_components_beyond_rank_are_zero() -> None:
    x = np.random.default_rng(3).normal(size=(3, 8))  # 3 points: rank 2 after centring
    y = project(x, "pca", 3)
    assert (y[:, 2] == 0).all()
    assert (np.abs(y[:, :2]) > 0).any(axis=0).all()
    k2 = np.random.default_rng(4).normal(size=(20, 2))  # 2-D vectors, 3-D requested
    y = project(k2, "pca", 3)
    assert (y[:, 2] == 0).all()


@pytest.mark.parametrize(
    "vectors, kwargs",
    [
        (np.array([[np.nan, 1.0], [0.0, 1.0]]), {}),
        (np.array([[np.inf, 1.0], [0.0, 1.0]]), {}),
        (np.arange(5.0), {}),
        (np.ones((4, 2)), {"method": "mds"}),
        (np.ones((4, 2)), {"n_components": 4}),
        (np.random.default_rng(0).normal(size=(10, 2)), {"method": "tsne", "perplexity": 0}),
    ],
)
def test_bad_input_raises_data_error(vectors: np.ndarray, kwargs: dict) -> None:
    with pytest.raises(DataError):
        project(vectors, **kwargs)


# --------------------------------------------------------------------------- t-SNE, UMAP


def test_tsne_separates_planted_clusters_and_is_seeded() -> None:
    x, truth = planted_clusters(n_per=20, n_clusters=3)
    y = project(x, "tsne", 2, seed=1)
    assert y.shape == (60, 2) and np.isfinite(y).all()
    assert nn_same_cluster(y, truth) == 1.0
    assert np.array_equal(y, project(x, "tsne", 2, seed=1))


def test_tsne_clamps_perplexity_and_handles_3d_from_2d_vectors() -> None:
    x, truth = planted_clusters(n_per=4, n_clusters=2, k=2)  # 8 points, perplexity 30 > n - 1
    y = project(x, "tsne", 3, perplexity=30.0, max_iter=250)  # random init: k < n_components
    assert y.shape == (8, 3) and np.isfinite(y).all()


def test_umap_separates_planted_clusters_without_importing_tensorflow() -> None:
    # The only UMAP fit in the unit tests: its first call compiles numba code (~15 s).
    tf_before = "tensorflow" in sys.modules
    x, truth = planted_clusters(n_per=15, n_clusters=3)
    y = project(x, "umap", 2, n_neighbors=50, min_dist=0.1)  # n_neighbors clamped to n - 1
    assert y.shape == (45, 2) and np.isfinite(y).all()
    assert nn_same_cluster(y, truth) == 1.0
    if not tf_before:
        assert "tensorflow" not in sys.modules
    # umap's numba kernels now cache to disk, so the next process skips compiling them
    from numba.core.caching import NullCache

    assert not isinstance(sys.modules["umap.umap_"].smooth_knn_dist._cache, NullCache)
    with pytest.raises(DataError):
        project(x, "umap", n_neighbors=1)


# --------------------------------------------------------------------------- sampling


def test_sample_keeps_most_frequent_and_unknown_in_order() -> None:
    table = make_table([1, 30, 3, 50, 2, 40, 7])
    kept, note = sample_for_projection(table, 4, method="tsne")
    # unknown (count 1) always kept, then the 3 most frequent (c3, c5, c1), in row order
    assert kept["category"].tolist() == ["<unknown>", "c1", "c3", "c5"]
    assert "4 most frequent of 7" in note and "t-SNE" in note
    left = (3 + 2 + 7) / table["count"].sum()
    assert f"{left:.1%}" in note


def test_sample_is_a_no_op_when_small_enough() -> None:
    table = make_table([5, 4, 3])
    for cap in (None, 3, 10):
        kept, note = sample_for_projection(table, cap)
        assert kept is table and note == ""


def test_sample_breaks_ties_with_seed() -> None:
    table = make_table([10] * 40, unknown_first=False)
    picks = {
        tuple(sample_for_projection(table, 5, seed=s)[0]["category"].tolist()) for s in range(6)
    }
    assert len(picks) > 1  # different seeds pick different equally frequent categories
    first = sample_for_projection(table, 5, seed=3)[0]
    assert first.equals(sample_for_projection(table, 5, seed=3)[0])


# --------------------------------------------------------------------------- clustering


def test_auto_clusters_recover_planted_groups() -> None:
    x, truth = planted_clusters(n_per=25, n_clusters=4, spread=0.1, seed=5)
    labels = cluster_labels(x, seed=0)
    assert labels.dtype == np.int64
    assert len(set(labels.tolist())) == 4
    assert same_partition(labels, truth)


def test_fixed_clusters_numbered_by_size() -> None:
    x, truth = planted_clusters(n_per=10, n_clusters=2, seed=6)
    x = np.r_[x[:10], x[10:], x[10:] + 0.01]  # second group twice as large
    labels = cluster_labels(x, n_clusters=2)
    assert (labels[10:] == 0).all() and (labels[:10] == 1).all()


def test_cosine_clusters_by_direction_not_length() -> None:
    rng = np.random.default_rng(7)
    dirs = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]])
    truth = np.repeat(np.arange(3), 12)
    scale = rng.uniform(0.1, 10.0, size=(36, 1))  # lengths vary far more than directions
    x = (dirs[truth] + rng.normal(scale=0.02, size=(36, 4))) * scale
    assert same_partition(cluster_labels(x, metric="cosine"), truth)
    assert not same_partition(cluster_labels(x, n_clusters=3, metric="euclidean"), truth)


@pytest.mark.parametrize(
    "x, n_clusters",
    [
        (np.zeros((0, 4)), None),
        (np.ones((1, 4)), None),
        (np.eye(2, 4), None),
        (np.ones((10, 4)), None),
        (np.ones((10, 4)), 3),
    ],
)
def test_degenerate_clustering_gives_one_cluster(x: np.ndarray, n_clusters: int | None) -> None:
    labels = cluster_labels(x, n_clusters)
    assert labels.shape == (len(x),)
    assert (labels == 0).all()


def test_clusters_clamped_to_distinct_vectors() -> None:
    x = np.repeat(np.eye(3, 4), 4, axis=0)  # 3 distinct points, each 4 times
    labels = cluster_labels(x, n_clusters=8)
    assert same_partition(labels, np.repeat(np.arange(3), 4))
    with pytest.raises(DataError):
        cluster_labels(x, n_clusters=0)
