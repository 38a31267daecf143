"""Category dropout (``model.category_dropout``): the layer, the chosen fields, training,
saving, the config, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from keras import ops
from synthetic import TINY_CONFIG

from embedding_core.data.encoding import UNKNOWN_INDEX
from embedding_core.data.roles import Roles
from embedding_core.model.category_dropout import MIN_CATEGORIES, dropped_fields
from embedding_core.model.config import TrainConfig
from embedding_core.model.fm_layer import CategoryDropout

ROLES = Roles(categorical=("item", "colour"), target="bought", task="binary")


def _shop(seed: int = 0, n: int = 3_000) -> pd.DataFrame:
    """80 items, every one frequent (no row falls into the unknown row), and 3 colours."""
    rng = np.random.default_rng(seed)
    items = rng.integers(0, 80, n)
    bought = rng.random(n) < np.where(items % 2 == 0, 0.7, 0.2)
    return pd.DataFrame(
        {
            "item": [f"i{i:02d}" for i in items],
            "colour": rng.choice(["red", "blue", "green"], n),
            "bought": np.where(bought, "yes", "no"),
        }
    )


def test_the_layer_drops_chosen_fields_in_training_only() -> None:
    x = np.tile(np.array([[5, 7, 9]], dtype="int32"), (20_000, 1))
    layer = CategoryDropout(0.2, fields=[True, False, True], seed=3)
    out = ops.convert_to_numpy(layer(x, training=True))
    assert (out[:, 1] == 7).all()  # not chosen: untouched
    for j, value in ((0, 5), (2, 9)):
        dropped = out[:, j] == UNKNOWN_INDEX
        assert set(np.unique(out[:, j])) == {UNKNOWN_INDEX, value}
        assert abs(dropped.mean() - 0.2) < 0.015
    assert not np.array_equal(out[:, 0], out[:, 2])  # independent per field
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(x)), x)  # prediction
    again = ops.convert_to_numpy(
        CategoryDropout(0.2, [True, False, True], seed=3)(x, training=True)
    )
    np.testing.assert_array_equal(again, out)  # the seed decides the masks
    clone = CategoryDropout.from_config(layer.get_config())
    assert (clone.rate, clone.fields, clone.seed) == (0.2, [True, False, True], 3)


@pytest.mark.parametrize("rate", [-0.1, 1.0])
def test_rates_outside_zero_to_one_are_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="category_dropout"):
        TrainConfig(category_dropout=rate)
    with pytest.raises(ValueError, match="rate"):
        CategoryDropout(rate, fields=[True])


def test_only_fields_of_many_categories_of_a_deepfm_are_dropped() -> None:
    from embedding_core.model.features import FeatureEncoder

    frame = _shop()
    features = FeatureEncoder().fit(frame, ROLES)
    assert features.encoders_["item"].size - 1 == 80 >= MIN_CATEGORIES
    config = TINY_CONFIG.replace(category_dropout=0.1)
    assert dropped_fields(features, config) == [True, False]
    assert dropped_fields(features, config.replace(category_dropout=0.0)) == [False, False]
    assert dropped_fields(features, config.replace(model="entity")) == [False, False]
    assert TrainConfig().category_dropout == 0.0
    assert TrainConfig.from_dict({"seed": 1}).category_dropout == 0.0  # runs saved before


def test_the_unknown_vector_learns_from_every_items_rows_and_the_run_saves(tmp_path: Path) -> None:
    """No item is rare, so without dropout the unknown row never trains; with it, it does.
    The saved run predicts the same, and unseen items get the trained unknown vector."""
    from embedding_core.model.run import TrainedRun
    from embedding_core.model.train import train

    config = TINY_CONFIG.replace(epochs=2, refit=False, min_count=1)
    frame, fresh = _shop(0), _shop(1, n=200)
    plain = train(frame, ROLES, config)
    dropped = train(frame, ROLES, config.replace(category_dropout=0.3))
    with pytest.raises(ValueError):
        plain.model.get_layer("category_dropout")
    assert dropped.model.get_layer("category_dropout").fields == [True, False]

    def unknown(run: object) -> np.ndarray:
        table = run.embeddings("item")  # type: ignore[attr-defined]
        return table.loc[table["is_unknown"], [c for c in table if c.startswith("emb_")]]

    start = train(frame, ROLES, config.replace(epochs=1, learning_rate=1e-9))
    np.testing.assert_allclose(unknown(plain), unknown(start), atol=1e-6)  # never trained
    assert np.abs(unknown(dropped).to_numpy() - unknown(start).to_numpy()).max() > 1e-3

    loaded = TrainedRun.load(dropped.save(tmp_path / "run"))
    assert loaded.config.category_dropout == 0.3
    np.testing.assert_array_equal(loaded.predict(fresh), dropped.predict(fresh))
    unseen = fresh.head(5).assign(item="never seen")
    assert np.isfinite(loaded.predict(unseen)).all()


def test_cli_train_takes_the_rate_and_refuses_a_bad_one(tmp_path: Path, capsys) -> None:
    from embedding_core.cli import main

    path = tmp_path / "shop.csv"
    _shop().to_csv(path, index=False)
    base = ["train", "--data", str(path), "--categorical", "item,colour", "--target", "bought",
            "--epochs", "1", "--quiet"]  # fmt: skip
    assert main([*base, "--category-dropout", "0.1", "--out", str(tmp_path / "run")]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["category_dropout"] == 0.1
    capsys.readouterr()
    assert main([*base, "--category-dropout", "1", "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "category_dropout" in err
