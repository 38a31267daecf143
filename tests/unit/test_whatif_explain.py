"""Why a what-if prediction moved, neighbour sweeps, and the default class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from embedding_core.analysis.whatif_explain import (
    contributions,
    default_class,
    neighbour_sweep,
)
from embedding_core.data.roles import Roles
from embedding_core.errors import DataError

CITY = {"paris": 1.0, "rome": 0.9, "oslo": -1.0, "lima": 2.0}
VECTORS = {"paris": (1.0, 0.1), "rome": (0.9, 0.2), "oslo": (-1.0, 0.0), "lima": (0.2, 1.0)}


class Run:
    """P = sigmoid(city + plan + 0.1 * (age - 40) + city*plan interaction)."""

    def __init__(self, task: str = "binary") -> None:
        self.roles = Roles(("city", "plan"), "y", ("age",), task=task)  # type: ignore[arg-type]

    def _z(self, frame: pd.DataFrame) -> np.ndarray:
        city = frame["city"].map(CITY).fillna(0.0).to_numpy(dtype=float)
        plan = (frame["plan"] == "b").to_numpy(dtype=float)
        age = frame["age"].fillna(40.0).to_numpy(dtype=float)
        return city + plan + 0.1 * (age - 40) + city * plan

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        z = self._z(frame)
        if self.roles.task == "multiclass":
            p = np.stack([np.zeros_like(z), z, -z], axis=1)
            p = np.exp(p)
            return p / p.sum(axis=1, keepdims=True)
        return 1 / (1 + np.exp(-z))

    classes = ["a", "b", "c"]

    def embeddings(self, field: str) -> pd.DataFrame:
        names = list(VECTORS)
        vec = np.array([VECTORS[n] for n in names])
        return pd.DataFrame(
            {
                "category": ["<unknown>", *names],
                "count": [0, 500, 200, 40, 3],
                "is_unknown": [True, False, False, False, False],
                "is_missing": [False] * 5,
                "emb_0": [0.0, *vec[:, 0]],
                "emb_1": [0.0, *vec[:, 1]],
            }
        )


def _p(z: float) -> float:
    return 1 / (1 + np.exp(-z))


def test_contributions_reset_each_changed_value():
    run = Run()
    base = {"city": "oslo", "plan": "a", "age": 40.0}
    edited = {"city": "paris", "plan": "b", "age": 40.0}
    parts = contributions(run, base, edited)
    assert list(parts["column"]) == ["city", "plan"]  # age did not change
    end = _p(1.0 + 1.0 + 1.0)
    by = parts.set_index("column")
    # in context: reset one value in the edited row
    assert by.loc["city", "in context"] == pytest.approx(end - _p(-1.0 + 1.0 - 1.0))
    assert by.loc["plan", "in context"] == pytest.approx(end - _p(1.0))
    # alone: change only that value on the starting row
    assert by.loc["city", "alone"] == pytest.approx(_p(1.0) - _p(-1.0))
    assert by.loc["plan", "alone"] == pytest.approx(_p(-1.0 + 1.0 - 1.0) - _p(-1.0))
    assert contributions(run, base, base).empty


def test_neighbour_sweep_tries_the_nearest_categories_first():
    run = Run()
    row = {"city": "paris", "plan": "a", "age": 40.0}
    swept = neighbour_sweep(run, row, "city", k=2)
    assert list(swept["category"]) == ["rome", "lima"]  # most similar vectors first
    assert swept["similarity"].is_monotonic_decreasing
    assert swept.loc[0, "prediction"] == pytest.approx(_p(0.9))
    assert swept.loc[0, "change"] == pytest.approx(_p(0.9) - _p(1.0))
    assert list(swept["reliable"]) == [True, False]
    with pytest.raises(DataError, match="not a category the model learned"):
        neighbour_sweep(run, {**row, "city": "tokyo"}, "city")
    with pytest.raises(DataError, match="not a categorical field"):
        neighbour_sweep(run, row, "age")


def test_multiclass_explains_one_class_and_defaults_to_the_most_frequent():
    run = Run("multiclass")
    base = {"city": "oslo", "plan": "a", "age": 40.0}
    edited = {**base, "city": "paris"}
    with pytest.raises(DataError, match="choose one of a, b, c"):
        contributions(run, base, edited, target_class="zebra")
    assert contributions(run, base, edited, target_class="b")["in context"].iloc[0] > 0
    assert contributions(run, base, edited, target_class="c")["in context"].iloc[0] < 0
    target = pd.Series(["c", "a", "c", "b", None, "c"])
    assert default_class(run, target) == "c"
    assert default_class(run, None) is None
    assert default_class(Run(), target) is None  # not multiclass
