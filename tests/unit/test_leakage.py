"""Columns that give the target away: the held-out check, the suggestion, the notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from embedding_core.data.leakage import LEAK_SCORE, _auc, leak_score, leaking_columns
from embedding_core.data.profile import suggest_roles, suggested_leaks
from embedding_core.data.roles import Roles
from embedding_core.data.validation import validate_roles

N = 3_000


def _bookings(seed: int = 0) -> pd.DataFrame:
    """Text columns as ``read_csv`` gives them: an honest signal (``market``), an ID,
    and two columns written after the outcome (``status`` and ``nights_paid``)."""
    rng = np.random.default_rng(seed)
    market = rng.choice(["online", "agent", "direct", "group"], size=N)
    p = np.select([market == "online", market == "group"], [0.55, 0.45], 0.15)
    cancelled = rng.random(N) < p
    status = np.where(cancelled, np.where(rng.random(N) < 0.05, "No-Show", "Canceled"), "Out")
    nights = np.where(cancelled, 0, rng.integers(1, 15, size=N))
    return pd.DataFrame(
        {
            "booking_id": [f"b{i:05d}" for i in range(N)],
            "market": market,
            "lead_days": rng.integers(0, 300, size=N).astype(str),
            "status": status,
            "nights_paid": nights.astype(str),
            "cancelled": np.where(cancelled, "yes", "no"),
        }
    )


def test_post_outcome_columns_are_leaks_and_honest_ones_are_not() -> None:
    frame = _bookings()
    y = frame["cancelled"]
    scores = {c: leak_score(frame[c], y, "binary") for c in frame.columns[:-1]}
    assert scores["status"].score == pytest.approx(1.0)
    assert scores["nights_paid"].score >= LEAK_SCORE and scores["nights_paid"].metric == "AUC"
    assert 0.6 < scores["market"].score < 0.9  # a real signal, far from perfect
    assert scores["booking_id"].score == pytest.approx(0.5, abs=0.02)  # unseen ids: the prior
    assert abs(scores["lead_days"].score - 0.5) < 0.05
    found = leaking_columns(frame, "cancelled", list(frame.columns[:-1]), "binary")
    assert [leak.column for leak in found] == ["status", "nights_paid"]


def test_a_strong_honest_column_is_not_a_leak() -> None:
    """The UCI mushroom table's odor (8,124 rows, its real counts): edible or poisonous
    from the smell alone is right for 98.5% of mushrooms, a fact known before eating."""
    counts = {("a", "e"): 400, ("l", "e"): 400, ("n", "e"): 3408, ("n", "p"): 120,
              ("c", "p"): 192, ("y", "p"): 576, ("f", "p"): 2160, ("m", "p"): 36,
              ("p", "p"): 256, ("s", "p"): 576}  # fmt: skip
    rows = [key for key, n in counts.items() for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["odor", "class"])
    leak = leak_score(frame["odor"], frame["class"], "binary")
    assert 0.98 < leak.score < LEAK_SCORE
    assert leaking_columns(frame, "class", ["odor"], "binary") == []


def test_a_number_that_orders_the_target_is_caught_by_its_order() -> None:
    """Every value distinct, so the per-value means learn nothing on the other half:
    only the order gives it away."""
    rng = np.random.default_rng(1)
    y = rng.random(N) < 0.3
    paid = np.where(y, rng.uniform(0, 10, N), rng.uniform(20, 900, N)).round(6)
    leak = leak_score(pd.Series(paid.astype(str), name="paid"), pd.Series(y.astype(str)), "binary")
    assert leak.score == pytest.approx(1.0)


def test_classes_need_near_perfect_accuracy_against_the_majority_guess() -> None:
    rng = np.random.default_rng(2)
    classes = rng.choice(["<30", ">30", "NO"], size=N)
    derived = pd.Series(np.where(classes == "NO", "none", "some_" + classes), name="code")
    assert leak_score(derived, pd.Series(classes), "multiclass").score == 1.0
    found = leaking_columns(
        pd.DataFrame({"code": derived, "y": classes}), "y", ["code"], "multiclass"
    )
    assert [leak.metric for leak in found] == ["accuracy"]
    # 99.5% of one class: a useless column is 99.5% accurate too, and is not a leak
    rare = np.where(rng.random(N) < 0.005, "b", "a")
    useless = pd.Series(rng.choice(["x", "y"], size=N), name="noise")
    frame = pd.DataFrame({"noise": useless, "y": rare})
    assert leak_score(useless, frame["y"], "multiclass").score >= 0.99
    assert leaking_columns(frame, "y", ["noise"], "multiclass") == []


def test_regression_by_value_means_and_by_rank() -> None:
    rng = np.random.default_rng(3)
    stars = rng.integers(1, 6, size=N)
    price = rng.lognormal(4, 0.5, size=N)
    frame = pd.DataFrame(
        {
            "label": [f"{s} stars" for s in stars],
            "stars": stars.astype(str),
            "price_eur": (price * 0.93).round(6).astype(str),  # another currency
            "shop": rng.choice(["a", "b", "c"], size=N),
            "price": price.round(6).astype(str),
        }
    )
    by_stars = leaking_columns(frame, "stars", ["label", "shop"], "regression")
    assert [(leak.column, leak.metric) for leak in by_stars] == [("label", "R²")]
    assert by_stars[0].score == pytest.approx(1.0, abs=1e-3)
    by_price = leaking_columns(frame, "price", ["price_eur", "shop", "stars"], "regression")
    assert [(leak.column, leak.metric) for leak in by_price] == [("price_eur", "rank correlation")]


def test_no_verdict_on_too_few_rows_or_one_class() -> None:
    tiny = pd.Series(["a", "b"] * 10)
    assert leak_score(tiny, tiny, "binary") is None
    column = pd.Series(["a", "b"] * 100)
    assert leak_score(column, pd.Series(["1"] * 200), "binary") is None


def test_auc_matches_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(4)
    y = (rng.random(500) < 0.4).astype(float)
    score = rng.integers(0, 7, size=500).astype(float)  # many ties
    assert _auc(y, score) == pytest.approx(roc_auc_score(y, score))


def test_the_suggestion_leaves_leaks_out_and_says_why() -> None:
    frame = _bookings()
    roles = suggest_roles(frame, target="cancelled")
    assert roles is not None
    assert "market" in roles.categorical
    assert not {"status", "nights_paid"} & {*roles.categorical, *roles.numeric}
    from embedding_core.data.profile import profile_columns

    leaks = suggested_leaks(frame, "cancelled", profile_columns(frame))
    assert [leak.column for leak in leaks] == ["status", "nights_paid"]
    text = leaks[0].sentence("cancelled")
    assert "'status'" in text and "'cancelled'" in text and "leakage" in text


def test_choosing_a_leak_anyway_trains_with_a_warning() -> None:
    frame = _bookings()
    roles = Roles(categorical=("market", "status"), target="cancelled")
    warnings = validate_roles(frame, roles).warnings
    leaks = [w for w in warnings if "leakage" in w]
    assert len(leaks) == 1 and "'status'" in leaks[0]
    clean = validate_roles(frame, Roles(categorical=("market",), target="cancelled")).warnings
    assert not [w for w in clean if "leakage" in w]


def test_the_cli_profile_and_train_say_so_on_stderr(tmp_path, capsys) -> None:
    from embedding_core.cli import main

    path = tmp_path / "bookings.csv"
    _bookings().to_csv(path, index=False)
    assert main(["profile", "--data", str(path)]) == 0
    out, err = capsys.readouterr()
    command = out.split("suggested (check the target):")[1]
    assert "--target cancelled" in command and "status" not in command
    notes = err.strip().splitlines()
    assert [n for n in notes if n.startswith("note: Column 'status'") and "leakage" in n]
    assert [n for n in notes if n.startswith("note: Column 'nights_paid'")]

    argv = ["train", "--data", str(path), "--categorical", "market,status", "--target",
            "cancelled", "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert [n for n in err.splitlines() if n.startswith("note: Column 'status'")], err
    assert [n for n in err.splitlines() if n.startswith("note: The model is almost perfect")]


def test_the_check_is_a_public_call() -> None:
    import embedding_core as ec

    frame = _bookings()
    found = ec.leaking_columns(frame, "cancelled", ["market", "status"], "binary")
    assert [(leak.column, leak.metric) for leak in found] == [("status", "AUC")]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_hostile_cells_give_a_score_or_none_never_an_error(task: str) -> None:
    weird = ["", " ", "nan", "inf", "-inf", "1e309", "__NA__", None, "0", "1", "=1+1",
             "\x00", "a" * 5000, "1,5", "-0"]  # fmt: skip
    targets = {
        "binary": ["a", "b"],
        "multiclass": ["a", "b", "c"],
        "regression": ["1", "2.5", "inf", "3"],
    }
    rng = np.random.default_rng(0)
    for n in (0, 3, 39, 40, 120):
        column = pd.Series(rng.choice(np.array(weird, dtype=object), n), name="c")
        target = pd.Series(rng.choice(targets[task], n), name="y")
        leak = leak_score(column, target, task)
        assert leak is None or 0.0 <= leak.score <= 1.0 + 1e-9


def test_a_run_too_good_to_trust_is_flagged() -> None:
    from embedding_core.analysis.signal import MAX_SCORE, too_good

    assert "AUC 1.000" in too_good({"valid_auc": 1.0}, "binary")
    assert too_good({"valid_auc": MAX_SCORE - 0.001}, "binary") is None
    assert "R²" in too_good({"valid_r2": 0.9995}, "regression")
    perfect = {"valid_accuracy": 1.0, "baseline_accuracy": 0.5}
    assert "accuracy" in too_good(perfect, "multiclass")
    # 99.95% of one class: predicting it is as good, nothing gives the target away
    assert too_good({"valid_accuracy": 1.0, "baseline_accuracy": 0.9995}, "multiclass") is None
    assert (
        too_good({}, "binary") is None and too_good({"valid_auc": float("nan")}, "binary") is None
    )


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_a_column_scores_the_same_typed_or_as_text(task: str) -> None:
    """Numbers, their text and a mixed object column of both (``7`` next to ``"7"``:
    one value) score alike; missing cells are one more value in each."""
    rng = np.random.default_rng(5)
    numbers = pd.Series(rng.integers(0, 40, size=N).astype(float), name="code")
    numbers[rng.random(N) < 0.1] = np.nan
    text = numbers.map(lambda v: np.nan if pd.isna(v) else str(int(v))).astype("str")
    mixed = pd.Series(
        [None if pd.isna(v) else (str(int(v)) if i % 2 else int(v)) for i, v in enumerate(numbers)],
        dtype=object,
    )
    assert mixed.dtype == object and {type(v) for v in mixed.dropna()} == {int, str}
    base = numbers.fillna(-1).to_numpy() % 7
    target = {
        "binary": pd.Series(np.where((base + rng.random(N) * 3) > 4, "yes", "no")),
        "multiclass": pd.Series(np.array(["a", "b", "c"])[(base % 3).astype(int)]),
        "regression": pd.Series(base + rng.normal(size=N)),
    }[task]
    scores = [leak_score(column, target, task) for column in (numbers, text, mixed)]
    assert scores[0].score > 0.55  # the column carries signal: the codes matter
    assert scores[0].score == pytest.approx(scores[1].score, abs=1e-12)
    assert scores[2].score == pytest.approx(scores[1].score, abs=1e-12)
