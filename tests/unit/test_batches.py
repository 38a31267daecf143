"""array_batches: every row once per pass, a new seeded order each pass, last batch short."""

from __future__ import annotations

import numpy as np
import pytest

from embedding_core.model.batches import array_batches


def _passes(seed: int, n_passes: int) -> list[list[np.ndarray]]:
    x = {"categorical": np.arange(10, dtype="int32").reshape(10, 1) * 10}
    y = np.arange(10, dtype="float32")
    dataset, batches = array_batches(x, y, 4, seed=seed)
    assert batches == 3
    it = iter(dataset)
    out = []
    for _ in range(n_passes):
        rows = []
        for _ in range(batches):
            xb, yb = next(it)
            np.testing.assert_array_equal(xb["categorical"].numpy()[:, 0], yb.numpy() * 10)
            rows.append(yb.numpy().astype(int))
        out.append(rows)
    return out


def test_each_pass_visits_every_row_once_in_a_new_order() -> None:
    passes = _passes(seed=3, n_passes=3)
    for rows in passes:
        assert [len(b) for b in rows] == [4, 4, 2]
        assert sorted(np.concatenate(rows).tolist()) == list(range(10))
    orders = {tuple(np.concatenate(rows)) for rows in passes}
    assert len(orders) == 3


def test_same_seed_same_batches_other_seed_other_order() -> None:
    first, again = _passes(seed=3, n_passes=2), _passes(seed=3, n_passes=2)
    flat = [np.concatenate(rows) for rows in first]
    assert all(np.array_equal(a, np.concatenate(b)) for a, b in zip(flat, again, strict=True))
    other = _passes(seed=4, n_passes=1)
    assert not np.array_equal(np.concatenate(first[0]), np.concatenate(other[0]))


def test_refuses_empty_data() -> None:
    with pytest.raises(ValueError, match="rows and batch_size"):
        array_batches({"categorical": np.zeros((0, 1), "int32")}, np.zeros(0), 4, seed=0)


def test_pipelines_run_without_autotuning(tmp_path) -> None:
    """Autotuning's background thread made deleting the iterator at the end of ``fit``
    stall for seconds: both training pipelines (in memory and streamed) turn it off."""
    from embedding_core.model.streaming import _dataset, _Part

    in_memory, _ = array_batches({"categorical": np.zeros((5, 1), "int32")}, np.zeros(5), 2, seed=0)
    part = _Part(folder=tmp_path, n_fields=1, n_numeric=0, y_dtype="float32").create()
    for dataset in (in_memory, _dataset([part], 2, seed=0)):
        assert dataset.options().autotune.enabled is False
