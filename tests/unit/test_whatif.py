"""What-if: typical rows, single and batch predictions, scenarios, sweeps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from embedding_core.analysis.whatif import (
    baseline_row,
    compare_scenarios,
    describe_changes,
    predict_row,
    predict_rows,
    row_at,
    sweep,
    value_text,
)
from embedding_core.data.roles import Roles
from embedding_core.errors import DataError
from embedding_core.model.config import TrainConfig

ROLES = Roles(categorical=("city", "plan"), target="y", numeric=("age",), task="binary")


class FakeRun:
    """A stand-in for TrainedRun: P = sigmoid(city effect + 0.1 * (age - 40))."""

    EFFECT = {"paris": 1.0, "rome": 0.5, "oslo": -1.0, "lima": 2.0}
    COUNTS = {"paris": 500, "rome": 200, "oslo": 40, "lima": 3}

    def __init__(self, task: str = "binary") -> None:
        self.roles = Roles(("city", "plan"), "y", ("age",), task=task)  # type: ignore[arg-type]
        self.seen: list[pd.DataFrame] = []

    def _logit(self, frame: pd.DataFrame) -> np.ndarray:
        effect = frame["city"].map(self.EFFECT).fillna(0.0).to_numpy(dtype=float)
        age = frame["age"].fillna(40.0).to_numpy(dtype=float)
        return effect + 0.1 * (age - 40)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        self.seen.append(frame)
        z = self._logit(frame)
        if self.roles.task == "multiclass":
            p = np.stack([np.exp(0 * z), np.exp(z)], axis=1)
            return p / p.sum(axis=1, keepdims=True)
        return 1 / (1 + np.exp(-z))

    classes = ["no", "yes"]

    def embeddings(self, field: str) -> pd.DataFrame:
        labels = ["<unknown>", "<missing>", *self.COUNTS]
        counts = [0, 7, *self.COUNTS.values()]
        return pd.DataFrame(
            {
                "category": labels,
                "count": counts,
                "is_unknown": [True, False, False, False, False, False],
                "is_missing": [False, True, False, False, False, False],
                "emb_0": np.arange(6, dtype=np.float32),
            }
        )


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "city": ["rome", "paris", "paris", None, "oslo", "rome", "paris"],
            "plan": ["a", "b", "b", "a", "a", "b", "a"],
            "age": ["30", "50", None, "41", "20", "x", "60"],
            "y": [0, 1, 0, 1, 0, 0, 1],
        }
    )


def test_baseline_row_is_most_common_category_and_median(frame):
    row = baseline_row(frame, ROLES)
    # 'plan' ties a/b 4-3 -> a; numeric text is parsed, the bad cell ignored
    assert row == {"city": "paris", "plan": "a", "age": 41.0}
    empty = frame.assign(city=np.nan, age=np.nan)
    assert baseline_row(empty, ROLES)["city"] is None
    assert baseline_row(empty, ROLES)["age"] is None


def test_row_at_cleans_values(frame):
    assert row_at(frame, ROLES, 3) == {"city": None, "plan": "a", "age": 41.0}
    with pytest.raises(DataError, match="Row 99"):
        row_at(frame, ROLES, 99)
    with pytest.raises(DataError, match="not a number"):
        row_at(frame, ROLES, 5)


def test_predict_row_moves_with_the_changed_value():
    run = FakeRun()
    row = {"city": "paris", "plan": "a", "age": 40}
    base = predict_row(run, row)
    assert base == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert predict_row(run, {**row, "city": "oslo"}) < base
    assert predict_row(run, {**row, "age": "60"}) > base  # numbers given as text work
    assert predict_row(run, {**row, "city": "never seen"}) == pytest.approx(0.5)
    seen = run.seen[-1]
    assert list(seen.columns) == ["city", "plan", "age"] and seen["age"].dtype == np.float64
    with pytest.raises(DataError, match="'plan'"):
        predict_row(run, {"city": "paris", "age": 3})
    with pytest.raises(DataError, match="not a number"):
        predict_row(run, {**row, "age": "old"})


def test_multiclass_prediction_is_a_dict_of_probabilities():
    run = FakeRun("multiclass")
    out = predict_row(run, {"city": "lima", "plan": "a", "age": 40})
    assert set(out) == {"no", "yes"} and sum(out.values()) == pytest.approx(1.0)
    assert out["yes"] > out["no"]


def test_compare_scenarios_puts_predictions_side_by_side():
    run = FakeRun()
    base = {"city": "paris", "plan": "a", "age": 40.0}
    rows = [base, {**base, "city": "oslo"}, {**base, "age": 50.0, "plan": "b"}]
    table = compare_scenarios(run, rows, names=["now", "oslo", "older"])
    assert list(table["scenario"]) == ["now", "oslo", "older"]
    expected = predict_rows(run, rows)
    np.testing.assert_allclose(table["prediction"], expected)
    np.testing.assert_allclose(table["change"], expected - expected[0])
    assert table["changes"][0] == "(no change)"
    assert table["changes"][1] == "city: paris -> oslo"
    assert table["changes"][2] == "plan: a -> b; age: 40 -> 50"
    assert compare_scenarios(run, []).empty
    assert describe_changes(base, {**base, "city": None}, ROLES) == "city: paris -> (missing)"
    assert [value_text(v) for v in (46.0, 2.5, float("nan"), None, "x")] == [
        "46", "2.5", "(missing)", "(missing)", "x"
    ]  # fmt: skip


def test_sweep_sorts_by_prediction_and_flags_barely_seen_categories():
    run = FakeRun()
    row = {"city": "rome", "plan": "a", "age": 40.0}
    table = sweep(run, row, "city", top_n=3)
    # top 3 by count: paris, rome, oslo (lima seen 3 times is beyond top_n)
    assert list(table["category"]) == ["paris", "rome", "oslo"]
    assert list(table["count"]) == [500, 200, 40]
    assert table["prediction"].is_monotonic_decreasing
    assert list(table["is_current"]) == [False, True, False]
    full = sweep(run, row, "city", top_n=20, min_count=30)
    assert list(full["category"]) == ["lima", "paris", "rome", "oslo"]
    assert not full.set_index("category").loc["lima", "reliable"]
    assert full.set_index("category").loc["oslo", "reliable"]
    assert "<unknown>" not in set(full["category"]) and "<missing>" not in set(full["category"])
    with pytest.raises(DataError, match="not a categorical field"):
        sweep(run, row, "age")


def test_with_a_real_trained_run():
    from embedding_core.model.train import train

    rng = np.random.default_rng(0)
    n = 400
    city = rng.choice(["a", "b", "c", "d"], n)
    age = rng.normal(40, 10, n)
    y = (rng.random(n) < np.where(np.isin(city, ["a", "b"]), 0.8, 0.2)).astype(int)
    frame = pd.DataFrame({"city": city, "plan": rng.choice(["x", "y"], n), "age": age, "y": y})
    roles = Roles(("city", "plan"), "y", ("age",))
    config = TrainConfig(epochs=1, batch_size=64, hidden_units=(8,), min_count=1, seed=0)
    config = config.replace(learning_rate=0.02)
    run = train(frame, roles, config)
    row = baseline_row(frame, roles)
    p = predict_row(run, row)
    direct = run.predict(pd.DataFrame([row]))
    assert p == pytest.approx(float(direct[0]), abs=1e-6)
    swept = sweep(run, row, "city")
    assert set(swept["category"]) == {"a", "b", "c", "d"}
    top = swept.iloc[0]["category"]
    bottom = swept.iloc[-1]["category"]
    assert top in ("a", "b") and bottom in ("c", "d")
    assert predict_row(run, {**row, "city": "zzz-unseen"}) == pytest.approx(
        float(run.predict(pd.DataFrame([{**row, "city": "zzz-unseen"}]))[0]), abs=1e-6
    )
