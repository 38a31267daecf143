"""scikit-learn transformers: saved-embedding lookup and the DeepFM encoder."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from embedding_core.errors import DataError, ModelFormatError
from embedding_core.model.config import TrainConfig
from embedding_core.reuse.transformer import (
    DeepFMEmbeddingEncoder,
    EmbeddingLookupEncoder,
    load_embedding_tables,
)


def _table(categories: list[str], k: int = 3, missing: bool = True, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = ["<unknown>", *(["<missing>"] if missing else []), *categories]
    table = pd.DataFrame(
        {
            "index": range(len(labels)),
            "category": labels,
            "count": [0] * len(labels),
            "is_unknown": [label == "<unknown>" for label in labels],
            "is_missing": [label == "<missing>" for label in labels],
        }
    )
    for j in range(k):
        table[f"emb_{j}"] = rng.normal(size=len(labels)).astype(np.float32)
    return table


TABLES = {"city": _table(["paris", "rome", "3"]), "plan": _table(["a", "b"], k=2, missing=False)}


# --------------------------------------------------------------------- lookup encoder


def test_lookup_replaces_columns_in_place_with_fallbacks():
    X = pd.DataFrame(
        {"age": [1.0, 2.0, 3.0, 4.0], "city": ["rome", "unseen", None, 3.0],
         "plan": ["b", None, "a", "zz"]}
    )  # fmt: skip
    X["city"] = X["city"].astype(object)
    enc = EmbeddingLookupEncoder(tables=TABLES).set_output(transform="pandas")
    out = enc.fit_transform(X)
    names = ["age", "city_emb_0", "city_emb_1", "city_emb_2", "plan_emb_0", "plan_emb_1"]
    assert list(out.columns) == names
    assert list(enc.get_feature_names_out()) == names
    city = TABLES["city"].set_index("category")[["emb_0", "emb_1", "emb_2"]]
    plan = TABLES["plan"].set_index("category")[["emb_0", "emb_1"]]
    np.testing.assert_allclose(out.iloc[0, 1:4], city.loc["rome"])
    np.testing.assert_allclose(out.iloc[1, 1:4], city.loc["<unknown>"])  # unseen
    np.testing.assert_allclose(out.iloc[2, 1:4], city.loc["<missing>"])  # missing
    np.testing.assert_allclose(out.iloc[3, 1:4], city.loc["3"])  # the number 3.0 is "3"
    np.testing.assert_allclose(out.iloc[1, 4:], plan.loc["<unknown>"])  # no missing row
    np.testing.assert_allclose(out["age"], X["age"])
    assert enc.embedding_dims_ == {"city": 3, "plan": 2}

    # a float column (codes read as numbers): 3.0 is compared as "3", as in training
    codes = EmbeddingLookupEncoder(tables=TABLES).fit_transform(pd.DataFrame({"city": [3.0, None]}))
    np.testing.assert_allclose(codes, city.loc[["3", "<missing>"]].to_numpy())

    only_city = EmbeddingLookupEncoder(tables=TABLES, columns=["city"], remainder="drop")
    assert only_city.fit_transform(X).shape == (4, 3)


def test_lookup_works_in_column_transformer_and_pipeline():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"city": rng.choice(["paris", "rome", "3"], 60), "n": rng.normal(size=60)})
    y = (X["city"] == "rome").astype(int)
    ct = ColumnTransformer(
        [("emb", EmbeddingLookupEncoder(tables=TABLES), ["city"])], remainder="passthrough"
    ).set_output(transform="pandas")
    out = ct.fit_transform(X)
    assert list(out.columns) == ["emb__city_emb_0", "emb__city_emb_1", "emb__city_emb_2",
                                 "remainder__n"]  # fmt: skip
    model = make_pipeline(EmbeddingLookupEncoder(tables=TABLES), LogisticRegression())
    assert model.fit(X, y).score(X, y) == 1.0  # the vectors separate the three cities


def test_lookup_errors_are_clear():
    X = pd.DataFrame({"city": ["rome"]})
    with pytest.raises(DataError, match="no embedding table"):
        EmbeddingLookupEncoder(tables=TABLES, columns=["city", "x"]).fit(X.assign(x=1))
    with pytest.raises(DataError, match="not in the data"):
        EmbeddingLookupEncoder(tables=TABLES, columns=["plan"]).fit(X)
    bad = TABLES["city"].drop(columns=["is_unknown"])
    with pytest.raises(DataError, match="city"):
        EmbeddingLookupEncoder(tables={"city": bad}).fit(X)
    fitted = EmbeddingLookupEncoder(tables=TABLES).fit(X.assign(n=1.0))
    with pytest.raises(DataError, match="missing from X"):
        fitted.transform(X)
    with pytest.raises(ModelFormatError):
        EmbeddingLookupEncoder.from_saved("/nonexistent/run")


# Tables keyed "x0"/"x1" let sklearn's checks (which pass plain float arrays, named
# x0, x1, ... here) exercise the lookup as well as the passthrough. Every check passes.
CHECK_TABLES = {"x0": _table(["0", "1", "2"], k=2), "x1": _table(["1"], k=1, missing=False)}


@parametrize_with_checks([EmbeddingLookupEncoder(tables=CHECK_TABLES)])
def test_lookup_passes_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ----------------------------------------------------------------- DeepFM encoder

# The full estimator-check suite is not run on DeepFMEmbeddingEncoder: its checks pass
# numeric-only arrays, for which there is no categorical column to embed (fit raises a
# DataError by design), and each of ~40 checks would train a TensorFlow model. These
# checks of the scikit-learn API contract need no fit and must pass:
API_CHECKS = [
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_do_not_raise_errors_in_init_or_set_params",
]


@pytest.mark.parametrize("name", API_CHECKS)
def test_deepfm_encoder_follows_the_sklearn_api(name):
    getattr(estimator_checks, name)("DeepFMEmbeddingEncoder", DeepFMEmbeddingEncoder())


def _data(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "city": rng.choice(["paris", "rome", "oslo", "lima"], n),
            "age": rng.normal(40, 10, n),
            "plan": rng.choice(["a", "b", "c"], n),
        }
    )
    y = (rng.random(n) < np.where(X["city"].isin(["paris", "rome"]), 0.8, 0.2)).astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    enc = DeepFMEmbeddingEncoder(
        embedding_dim=4, epochs=1, min_count=1, seed=0,
        config=TrainConfig(batch_size=64, hidden_units=(8,), learning_rate=0.02),
    )  # fmt: skip
    return enc.fit(X, y), X, y


def test_deepfm_encoder_transform_equals_the_runs_embed(fitted):
    enc, X, _ = fitted
    assert enc.categorical_ == ["city", "plan"]
    assert enc.config_.embedding_dim == 4 and enc.config_.hidden_units == (8,)
    assert enc.run_.roles.numeric == ("age",)
    assert list(enc.feature_names_in_) == ["city", "age", "plan"] and enc.n_features_in_ == 3
    names = [*(f"city_emb_{j}" for j in range(4)), "age", *(f"plan_emb_{j}" for j in range(4))]
    assert list(enc.get_feature_names_out()) == names
    X_new = pd.concat([X.head(5), pd.DataFrame({"city": ["berlin", None], "age": [1.0, 2.0],
                                                "plan": ["a", "zz"]})])  # fmt: skip
    out = enc.set_output(transform="pandas").transform(X_new)
    expected = enc.run_.embed(X_new)
    assert list(out.columns) == list(expected.columns)
    np.testing.assert_allclose(out.to_numpy(float), expected.to_numpy(float), rtol=1e-6)


def test_deepfm_encoder_in_a_pipeline_and_reused_from_a_saved_run(fitted, tmp_path):
    enc, X, y = fitted
    model = make_pipeline(enc, LogisticRegression(max_iter=500))
    model.fit(X, y)  # refits the encoder inside the pipeline
    assert model.score(X, y) > 0.7
    enc.run_.save(tmp_path / "run")
    tables = load_embedding_tables(tmp_path / "run")
    assert set(tables) == {"city", "plan"}
    saved = EmbeddingLookupEncoder.from_saved(tmp_path / "run").fit(X)
    np.testing.assert_allclose(saved.transform(X), enc.transform(X), rtol=1e-6)
    from_run = EmbeddingLookupEncoder.from_run(enc.run_).fit(X)
    np.testing.assert_allclose(from_run.transform(X), enc.transform(X), rtol=1e-6)
    restored = pickle.loads(pickle.dumps(model))  # a fitted pipeline can be persisted
    np.testing.assert_allclose(restored.predict_proba(X), model.predict_proba(X), rtol=1e-6)


def test_deepfm_encoder_needs_a_categorical_column():
    X = pd.DataFrame({"a": np.arange(60.0), "b": np.arange(60.0)})
    with pytest.raises(DataError, match="No categorical column"):
        DeepFMEmbeddingEncoder(epochs=1).fit(X, np.arange(60) % 2)


def test_auto_numeric_leaves_out_text_columns_not_chosen_as_categorical() -> None:
    rng = np.random.default_rng(3)
    n = 300
    X = pd.DataFrame(
        {
            "shop": rng.choice(["a", "b", "c"], n),
            "note": rng.choice(["left out", "also text"], n),
            "amount": rng.normal(size=n),
        }
    )
    y = (X["shop"] == "a").astype(int).to_numpy()
    enc = DeepFMEmbeddingEncoder(categorical=["shop"], epochs=1, embedding_dim=2).fit(X, y)
    assert enc.run_.roles.numeric == ("amount",)
    out = enc.set_output(transform="pandas").transform(X)
    assert {"shop_emb_0", "shop_emb_1", "note", "amount"} <= set(out.columns)
