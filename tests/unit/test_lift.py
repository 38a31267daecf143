"""Lift: metrics, splits, the JSON contract, agreement with plain scikit-learn, no leakage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss, r2_score, roc_auc_score, root_mean_squared_error
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler, TargetEncoder
from threadpoolctl import threadpool_limits

from embedding_core.analysis import lift
from embedding_core.analysis.lift import LiftResult, run_lift, runner, score
from embedding_core.analysis.lift.scoring import bootstrap_weights
from embedding_core.analysis.lift.summary import summarise
from embedding_core.analysis.lift.verdict import verdict
from embedding_core.data.roles import Roles
from embedding_core.data.split import train_valid_split
from embedding_core.errors import DataError, TrainingCancelled
from embedding_core.model.config import TrainConfig

TINY = TrainConfig(epochs=1, batch_size=256, hidden_units=(16,), min_count=1, seed=0)


def _frame(n: int = 600, seed: int = 0, noise: bool = False, regression: bool = False):
    rng = np.random.default_rng(seed)
    a = rng.choice([f"a{i}" for i in range(8)], n)
    b = rng.choice([f"b{i}" for i in range(40)], n)
    x = rng.normal(size=n)
    signal = np.isin(a, ["a0", "a1", "a2"]) * 1.5 + (np.char.str_len(b) % 2) - 0.8 + 0.5 * x
    frame = pd.DataFrame({"a": a, "b": b, "x": x})
    frame.loc[::13, "x"] = np.nan
    frame.loc[::17, "a"] = np.nan
    if regression:
        frame["y"] = signal + rng.normal(size=n) * 0.5
    elif noise:
        frame["y"] = rng.integers(0, 2, n)
    else:
        frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-2 * signal))).astype(int)
    return frame


ROLES = Roles(categorical=("a", "b"), target="y", numeric=("x",))


# ----------------------------------------------------------------------------- metrics


def test_score_matches_sklearn_plain_and_weighted():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.random(300), 2)  # ties on purpose
    assert score("auc", y, p)[0] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert score("logloss", y, p)[0] == pytest.approx(log_loss(y, p), abs=1e-12)
    yr, pr = rng.normal(size=300), rng.normal(size=300)
    assert score("rmse", yr, pr)[0] == pytest.approx(root_mean_squared_error(yr, pr), abs=1e-12)
    assert score("r2", yr, pr)[0] == pytest.approx(r2_score(yr, pr), abs=1e-12)
    yc = rng.integers(0, 3, 300)
    pc = rng.random((300, 3))
    pc /= pc.sum(axis=1, keepdims=True)
    assert score("auc_ovr", yc, pc)[0] == pytest.approx(
        roc_auc_score(yc, pc, multi_class="ovr"), abs=1e-12
    )
    # bootstrap weights = repeating rows
    w = bootstrap_weights(300, 4, seed=3)
    assert (w.sum(axis=1) == 300).all()
    for b in range(4):
        rows = np.repeat(np.arange(300), w[b].astype(int))
        assert score("auc", y, p, w)[b] == pytest.approx(roc_auc_score(y[rows], p[rows]))
        assert score("r2", yr, pr, w)[b] == pytest.approx(r2_score(yr[rows], pr[rows]))
    assert np.array_equal(w, bootstrap_weights(300, 4, seed=3))


# ---------------------------------------------------------------- agreement with sklearn


def _numeric_pipe():
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )


def _cats(frame):
    return frame[["a", "b"]].astype(object).where(frame[["a", "b"]].notna(), "__missing__")


def test_cells_equal_an_independent_sklearn_computation():
    frame = _frame()
    result = run_lift(
        frame, ROLES, models=("logistic", "hgb"), encodings=("onehot", "target"), seed=0
    )
    y = frame["y"].to_numpy()
    tr, te = train_valid_split(len(frame), valid_fraction=0.2, seed=0, stratify=y)
    X = pd.concat([_cats(frame), frame[["x"]]], axis=1)

    onehot = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, dtype=np.float32)
    logistic = make_pipeline(
        ColumnTransformer([("cat", onehot, ["a", "b"]), ("num", _numeric_pipe(), ["x"])]),
        LogisticRegression(max_iter=1000),
    ).fit(X.iloc[tr], y[tr])
    auc_logistic = roc_auc_score(y[te], logistic.predict_proba(X.iloc[te])[:, 1])

    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    target_block = make_pipeline(TargetEncoder(target_type="binary", cv=cv), StandardScaler())
    hgb = make_pipeline(
        ColumnTransformer([("cat", target_block, ["a", "b"]), ("num", _numeric_pipe(), ["x"])]),
        HistGradientBoostingClassifier(random_state=0),
    )
    with threadpool_limits(limits=1, user_api="openmp"):  # speed only (busy 2-core CI)
        hgb.fit(X.iloc[tr], y[tr])
    auc_hgb = roc_auc_score(y[te], hgb.predict_proba(X.iloc[te])[:, 1])

    cells = {(r["model"], r["encoding"]): r for r in result.results}
    assert cells[("logistic", "onehot")]["mean"] == pytest.approx(auc_logistic, abs=1e-6)
    assert cells[("hgb", "target")]["mean"] == pytest.approx(auc_hgb, abs=1e-6)
    assert result.n_test == len(te) and result.n_train == len(tr)
    assert result.lift == []  # no embedding asked for, so no lift


def test_regression_cell_equals_sklearn():
    frame = _frame(regression=True)
    roles = Roles(categorical=("a", "b"), target="y", numeric=("x",), task="regression")
    result = run_lift(frame, roles, models=("logistic",), encodings=("ordinal",), seed=2)
    assert result.metric == "rmse" and result.task == "regression"
    y = frame["y"].to_numpy()
    tr, te = train_valid_split(len(frame), valid_fraction=0.2, seed=2)
    X = pd.concat([_cats(frame), frame[["x"]]], axis=1)
    ordinal = make_pipeline(
        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), StandardScaler()
    )
    ridge = make_pipeline(
        ColumnTransformer([("cat", ordinal, ["a", "b"]), ("num", _numeric_pipe(), ["x"])]),
        Ridge(alpha=1.0),
    ).fit(X.iloc[tr], y[tr])
    rmse = root_mean_squared_error(y[te], ridge.predict(X.iloc[te]))
    cell = result.results[0]
    assert cell["mean"] == pytest.approx(rmse, rel=1e-9)
    assert cell["metrics"]["r2"]["mean"] == pytest.approx(
        r2_score(y[te], ridge.predict(X.iloc[te])), rel=1e-9
    )


# ------------------------------------------------------------------ lift arithmetic


def _summary(higher: bool):
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, n) if higher else rng.normal(size=n)
    good = y + rng.normal(size=n) * 0.3
    bad = y + rng.normal(size=n) * 1.5
    preds = [
        {("knn", "onehot"): bad, ("knn", "target"): bad * 0.5 + good * 0.5,
         ("knn", "embedding"): good}
    ]  # fmt: skip
    splits = [(np.arange(0), np.arange(n))]
    metrics = ("auc", "logloss") if higher else ("rmse", "r2")
    if higher:  # probabilities for log loss
        preds = [{k: 1 / (1 + np.exp(-v)) for k, v in preds[0].items()}]
    return summarise(
        preds=preds,
        splits=splits,
        y=y,
        task="binary" if higher else "regression",
        metrics=metrics,
        fit_secs={k: [0.1] for k in preds[0]},
        n_fit={k: 10 for k in preds[0]},
        models=("knn",),
        encodings=("onehot", "target", "embedding"),
        mode="holdout",
        seed=0,
        resamples=50,
    )


@pytest.mark.parametrize("higher", [True, False])
def test_lift_is_positive_when_embeddings_are_better_for_any_metric_direction(higher):
    results, lifts, reference = _summary(higher)
    (entry,) = lifts
    cells = {r["encoding"]: r["mean"] for r in results}
    assert entry["best_baseline"] == "target"
    expected = cells["embedding"] - cells["target"]
    assert entry["lift"] == pytest.approx(expected if higher else -expected)
    assert entry["lift"] > 0 and entry["std"] > 0
    assert reference is None
    assert entry["verdict"].startswith("For k-nearest neighbours, embeddings ")
    assert "target encoding" in entry["verdict"]


def test_verdict_sentences_read_naturally():
    v = verdict("hgb", "binary", "auc", "target", 0.012, 0.004)
    assert v == "For gradient boosting, embeddings add +0.012 AUC over target encoding (± 0.004)."
    v = verdict("rf", "binary", "auc", "onehot", -0.03, 0.004)
    assert v == "For random forest, embeddings lose 0.030 AUC against one-hot encoding (± 0.004)."
    v = verdict("logistic", "regression", "rmse", "ordinal", 0.5, 0.1)
    assert v.startswith("For ridge regression, embeddings cut RMSE by 0.500")
    assert "about level" in verdict("knn", "binary", "auc", "target", 0.001, 0.004)
    tiny = verdict("logistic", "binary", "auc", "onehot", -0.0003, 0.0002)
    assert "(-0.0003 AUC ± 0.0002, within the noise)" in tiny  # precision follows the error


# ----------------------------------------------------------------- contract & control


def test_json_contract_and_round_trip(tmp_path):
    result = run_lift(_frame(), ROLES, models=("logistic", "knn"), encodings=("onehot", "ordinal"))
    d = result.to_json_dict()
    text = json.dumps(d, allow_nan=False)
    assert {"task", "mode", "metric", "results", "lift"} <= set(d)
    assert d["task"] == "binary" and d["mode"] == "holdout" and d["metric"] == "auc"
    assert len(d["results"]) == 4
    for r in d["results"]:
        assert {"model", "encoding", "mean", "std", "fit_seconds"} <= set(r)
        assert r["model"] in ("logistic", "hgb", "knn", "rf")
        assert r["encoding"] in ("onehot", "ordinal", "target", "embedding")
        assert 0.5 < r["mean"] <= 1 and r["std"] > 0 and r["fit_seconds"] >= 0
    assert d["bootstrap_resamples"] == lift.BOOTSTRAP_RESAMPLES
    back = LiftResult.from_json_dict(json.loads(text))
    assert back.to_json_dict() == d
    frame = result.to_frame()
    assert list(frame["model"]) == ["logistic", "logistic", "knn", "knn"]
    assert "logloss_mean" in frame.columns
    csv = result.to_csv(tmp_path / "lift.csv")
    assert (tmp_path / "lift.csv").read_text() == csv and csv.startswith("model,encoding")


def test_an_entity_networks_lift_is_labelled_as_one():
    """The embeddings of a lift whose network is an entity network are not called
    DeepFM's, in the table and its reference row (the JSON keeps its codes)."""
    from dataclasses import replace

    result = run_lift(_frame(), ROLES, models=("logistic",), encodings=("onehot",))
    d = result.to_json_dict()
    reference = {**d["results"][0], "model": "deepfm", "encoding": "embedding"}
    entity = replace(
        result,
        config={**(result.config or {}), "model": "entity"},
        results=[*result.results, {**reference, "model": "logistic"}],
        reference=reference,
    )
    frame = entity.to_frame()
    assert set(frame["encoding_label"]) == {"one-hot encoding", "entity network embeddings"}
    assert frame["model_label"].iloc[-1] == "entity network (reference)"
    assert lift.network_name(result.config) == "DeepFM"
    assert lift.network_name(None) == "DeepFM"


def test_cv_mode_reports_mean_and_std_across_folds():
    result = run_lift(_frame(), ROLES, folds=3, models=("logistic",), encodings=("target",))
    (cell,) = result.results
    assert result.mode == "cv" and result.folds == 3 and cell["n_folds"] == 3
    y = _frame()["y"].to_numpy()
    per_fold = []
    for f, (_, te) in enumerate(lift.lift_splits(y, "binary", folds=3, seed=0)):
        per_fold.append(score("auc", y[te], result.predictions[f][("logistic", "target")])[0])
    assert cell["mean"] == pytest.approx(np.mean(per_fold))
    assert cell["std"] == pytest.approx(np.std(per_fold, ddof=1))
    assert "3-fold" in result.mode_description


def test_slow_models_are_subsampled_with_a_note():
    result = run_lift(
        _frame(), ROLES, models=("knn",), encodings=("ordinal",), max_train_rows={"knn": 100}
    )
    assert result.results[0]["n_train"] == 100
    assert result.subsample == {"knn": 100}
    assert any("100" in n and "neighbours" in n for n in result.notes)


def test_stop_returns_partial_result_or_cancels():
    calls = []

    def stop_after_two(p):
        calls.append(p)
        return p.stage != "fit" or p.step < 2

    partial = run_lift(
        _frame(), ROLES, models=("logistic", "knn"), encodings=("onehot", "ordinal"),
        on_progress=stop_after_two,
    )  # fmt: skip
    assert not partial.complete and len(partial.results) == 2
    assert partial.to_json_dict()["complete"] is False
    assert calls[0].stage == "start" and calls[-1].step == 2 and calls[-1].steps == 4
    with pytest.raises(TrainingCancelled):
        run_lift(_frame(), ROLES, models=("logistic",), on_progress=lambda p: False)


def test_fast_mode_trains_deepfm_beside_the_other_fits_and_keeps_its_early_stopped_model():
    import threading

    frame = _frame()
    fast = run_lift(frame, ROLES, models=("logistic",), config=TINY)  # what the app runs
    one_by_one = run_lift(frame, ROLES, models=("logistic",), config=TINY, parallel=False)
    assert fast.config["refit"] is False and TINY.refit  # fast mode: no refit...
    assert any("early stopping chose" in n for n in fast.notes)
    refitted = run_lift(frame, ROLES, models=("logistic",), encodings=("target", "embedding"),
                        config=TINY, folds=2)  # fmt: skip
    assert refitted.config["refit"] is True  # ...thorough mode refits as configured
    assert not any("early stopping chose" in n for n in refitted.notes)
    # the cells that need no DeepFM are the same computation, in a thread or not
    for enc in ("onehot", "ordinal", "target"):
        np.testing.assert_array_equal(
            fast.predictions[0][("logistic", enc)], one_by_one.predictions[0][("logistic", enc)]
        )
    assert [(r["model"], r["encoding"]) for r in fast.results] == [
        (r["model"], r["encoding"]) for r in one_by_one.results
    ]
    assert fast.reference is not None and len(fast.lift) == 1
    # Stop while DeepFM trains in its thread: the finished cells are kept, nothing lingers
    steps: list[int] = []

    def stop_at_first_fit(p):
        steps.append(p.step)
        return p.stage != "fit"

    partial = run_lift(frame, ROLES, models=("logistic",), config=TINY.replace(epochs=50,
                       patience=50), on_progress=stop_at_first_fit)  # fmt: skip
    assert not partial.complete and [r["encoding"] for r in partial.results] == ["onehot"]
    assert steps == sorted(steps)  # reports come in order, one at a time
    assert not [t for t in threading.enumerate() if t.name.startswith("lift-deepfm")]


def test_deepfm_trains_with_the_given_train_function_once_per_split():
    from embedding_core.model.train import train

    seen = []

    def recording_train(frame, roles, config, *, on_progress):
        seen.append((len(frame), config.seed, config.refit))
        return train(frame, roles, config, on_progress=on_progress)

    frame = _frame()
    kwargs = {"models": ("logistic",), "encodings": ("target", "embedding"), "config": TINY}
    given = run_lift(frame, ROLES, folds=2, seed=3, train=recording_train, **kwargs)
    default = run_lift(frame, ROLES, folds=2, seed=3, **kwargs)
    sizes = [
        len(tr) for tr, _ in lift.lift_splits(frame["y"].to_numpy(), "binary", folds=2, seed=3)
    ]
    assert seen == [(n, 3, True) for n in sizes]  # the training rows only, the run's seed
    for fold in range(2):
        np.testing.assert_allclose(
            given.predictions[fold][("logistic", "embedding")],
            default.predictions[fold][("logistic", "embedding")],
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"folds": 1},
        {"models": ("svm",)},
        {"encodings": ("onehot", "hashing")},
        {"holdout_fraction": 0.9},
    ],
)
def test_bad_arguments_raise_data_error(kwargs):
    with pytest.raises(DataError):
        run_lift(_frame(), ROLES, **kwargs)


# --------------------------------------------------------------- embeddings, no leakage


def _noise_frame(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Pure-noise target and a high-cardinality field that could memorise it."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.choice([f"a{i}" for i in range(400)], n),
            "b": rng.choice([f"b{i}" for i in range(5)], n),
            "y": rng.integers(0, 2, n),
        }
    )


def test_embedding_lift_on_pure_noise_is_about_zero_and_leakage_would_show(monkeypatch):
    frame = _noise_frame()
    roles = Roles(categorical=("a", "b"), target="y")
    config = TINY.replace(epochs=3, patience=1, l2_embedding=0.0, dropout=0.0)
    kwargs = dict(models=("logistic",), encodings=("onehot", "embedding"), config=config)
    honest = run_lift(frame, roles, **kwargs)
    (entry,) = honest.lift
    assert abs(entry["lift"]) < 0.05, entry
    assert honest.reference is not None and honest.reference["model"] == "deepfm"
    assert all(r["model"] != "deepfm" for r in honest.to_json_dict()["results"])
    assert abs(honest.reference["mean"] - 0.5) < 0.06

    # The same run with a deliberately leaky DeepFM: trained on every row, the scored
    # ones included (repeated 4 times, so its early stopping, whose validation rows are
    # then copies of training rows, cannot protect it). The lift becomes strongly
    # positive: this is what the assertion above guards against.
    real_train = runner._train_deepfm

    def leaky(train, roles_, cfg, *args):
        return real_train(pd.concat([frame] * 4, ignore_index=True), roles_, cfg, *args)

    monkeypatch.setattr(runner, "_train_deepfm", leaky)
    leaked = run_lift(frame, roles, **kwargs)
    assert leaked.lift[0]["lift"] > 0.1, leaked.lift
    assert leaked.reference["mean"] > 0.65


# --------------------------------------------------------------- rare classes, small data


def _with_rare(y: str, rare: str, n_rare: int, n: int = 300) -> pd.DataFrame:
    """``_frame(n)`` with its target replaced: classes "a" / "b" and ``n_rare`` rows of ``rare``."""
    frame = _frame(n)
    labels = np.where(np.arange(n) % 2, "a", "b").astype(object)
    labels[:n_rare] = rare
    return frame.assign(y=labels if y == "text" else (labels == rare).astype(int))


@pytest.mark.parametrize(
    ("frame", "folds", "needles"),
    [
        (_with_rare("text", "c", 1), 3, ["only 1 row of class 'c'", "3 folds need at least 3",
                                          "merge that class"]),
        (_with_rare("int", "x", 1), None, ["only 1 row of class '1'", "20% holdout needs at "
                                            "least 3", "add rows"]),
        (_with_rare("int", "x", 2), 3, ["only 2 rows of class '1'", "use at most 2 folds"]),
    ],
    ids=["multiclass-singleton-cv", "binary-one-positive-holdout", "binary-two-positives-cv"],
)  # fmt: skip
def test_a_class_too_rare_for_every_split_is_refused_up_front(frame, folds, needles):
    """Each split must train and score on every class: say which class and what to do."""
    with pytest.raises(DataError) as info:
        run_lift(frame, ROLES, folds=folds, models=("logistic",), encodings=("onehot", "target"))
    for needle in needles:
        assert needle in str(info.value)


@pytest.mark.parametrize(
    ("folds", "needle"),
    [(None, "holding out 20% to score on leaves 48"), (5, "the smallest fold leaves 48")],
)
def test_deepfm_rows_are_counted_in_the_datas_terms(folds, needle):
    with pytest.raises(DataError, match="The data has 60 rows with a target value") as info:
        run_lift(_frame(60), ROLES, folds=folds, models=("logistic",), config=TINY,
                 encodings=("onehot", "embedding"))  # fmt: skip
    assert needle in str(info.value) and "at least 50" in str(info.value)


def test_small_classes_give_no_scikit_learn_warnings():
    """3 rows of a class pass the check; the target encoder's inner folds warn, silently."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_lift(_with_rare("text", "c", 3), ROLES, folds=3, models=("logistic",),
                          encodings=("onehot", "target"))  # fmt: skip
    assert result.complete
    assert [str(w.message) for w in caught] == []
