"""Frequency bands (``model.frequency``): the bands, the chosen fields, the layer, training,
saving and the options that turn them off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import TINY_CONFIG

from embedding_core.data.encoding import CategoryEncoder
from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig, parameter_count
from embedding_core.model.frequency import (
    MIN_CATEGORIES,
    N_BANDS,
    bands,
    chosen_fields,
    field_bands,
)

ROLES = Roles(categorical=("item", "colour"), target="bought", task="binary")


def _rare_items_frame(seed: int = 0) -> pd.DataFrame:
    """200 rare items (3 rows each, mostly bought) and 40 common ones (60 rows each, mostly
    not): whether an item is bought is told by how often it appears, not by which it is."""
    rng = np.random.default_rng(seed)
    items = [f"r{i}" for i in range(200) for _ in range(3)]
    items += [f"c{i}" for i in range(40) for _ in range(60)]
    rare = np.array([i.startswith("r") for i in items])
    bought = rng.random(len(items)) < np.where(rare, 0.8, 0.2)
    frame = pd.DataFrame(
        {
            "item": items,
            "colour": rng.choice(["red", "blue", "green"], len(items)),
            "bought": np.where(bought, "yes", "no"),
        }
    )
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_bands_are_half_octaves_of_the_count_and_capped() -> None:
    counts = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 2**40])
    assert bands(counts).tolist() == [0, 1, 3, 4, 5, 5, 6, 6, 7, 7, 8, N_BANDS - 1]
    many = np.arange(1, 5000)
    assert np.all(np.diff(bands(many)) >= 0)  # never lower for a larger count


def test_field_bands_put_the_unknown_row_in_band_zero() -> None:
    encoder = CategoryEncoder(min_count=2).fit(["a"] * 8 + ["b"] * 2 + ["c", "d", None, None])
    out = field_bands(encoder)
    assert len(out) == encoder.size
    by_label = dict(zip(encoder.labels_, out.tolist(), strict=True))
    assert by_label["<unknown>"] == 0  # c and d, seen once, pool there
    assert by_label["a"] == 7 and by_label["b"] == 3 and by_label["<missing>"] == 3


def test_only_fields_with_enough_kept_categories_are_chosen() -> None:
    many = [f"v{i}" for i in range(MIN_CATEGORIES)] * 2
    few = [f"v{i}" for i in range(MIN_CATEGORIES - 1)] * 2 + [None, None]  # missing not counted
    once = [f"v{i}" for i in range(3 * MIN_CATEGORIES)]  # all below min_count
    encoders = {
        name: CategoryEncoder(min_count=2).fit(values)
        for name, values in {"many": many, "few": few, "once": once}.items()
    }
    assert chosen_fields(encoders, ["once", "few", "many"]) == ["many"]


def test_bands_learn_that_rare_items_are_bought_and_are_saved_with_the_run(tmp_path: Path) -> None:
    from embedding_core.model.run import TrainedRun
    from embedding_core.model.train import train

    config = TINY_CONFIG.replace(epochs=3, refit=False, frequency_bands="auto")
    frame, fresh = _rare_items_frame(0), _rare_items_frame(1)  # same items, new rows
    banded = train(frame, ROLES, config)
    plain = train(frame, ROLES, config.replace(frequency_bands="none"))
    assert banded.frequency_fields == ["item"]  # 240 items; colour has 3
    assert plain.frequency_fields == []
    with pytest.raises(ValueError):
        plain.model.get_layer("frequency_embedding")
    layer = banded.model.get_layer("frequency_bands")
    np.testing.assert_array_equal(
        layer.bands.numpy(), field_bands(banded.features.encoders_["item"])
    )
    assert not layer.trainable_weights

    # Rare items are mostly bought: their bands' first-order weights learnt that.
    encoder = banded.features.encoders_["item"]
    row_bands = field_bands(encoder)
    weights = banded.model.get_layer("frequency_linear").field_tables()[0].ravel()
    rare = [b for label, b in zip(encoder.labels_, row_bands, strict=True) if label[0] == "r"]
    common = [b for label, b in zip(encoder.labels_, row_bands, strict=True) if label[0] == "c"]
    assert max(rare) < min(common)
    assert weights[rare].mean() > weights[common].mean() + 0.05

    loaded = TrainedRun.load(banded.save(tmp_path / "run"))
    assert loaded.frequency_fields == ["item"]
    np.testing.assert_array_equal(loaded.predict(fresh), banded.predict(fresh))
    unseen = fresh.head(5).assign(item="never seen")  # the unknown row: band 0
    assert np.isfinite(loaded.predict(unseen)).all()


def test_the_parameter_count_includes_the_bands_tables() -> None:
    from embedding_core.model.deepfm import build_deepfm, fm_pair_weights, fm_slot_names
    from embedding_core.model.features import FeatureEncoder

    frame = _rare_items_frame()
    features = FeatureEncoder().fit(frame, ROLES, min_count=2)
    features.set_frequency_fields(["item"])
    config = TINY_CONFIG.replace(fm_field_weights=True)
    model = build_deepfm(features, config)
    expected = parameter_count(features.field_sizes, 0, 1, config, banded_fields=1)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == expected
    assert fm_slot_names(features) == ["item", "colour", "item (frequency)"]
    assert model.get_layer("frequency_embedding").output.shape[1:] == (1, 4)
    weights = fm_pair_weights(model, features)  # one row and column per FM slot
    assert list(weights.index) == list(weights.columns) == fm_slot_names(features)


def test_only_deepfm_gets_bands_and_old_runs_read_as_without() -> None:
    from embedding_core.model.features import FeatureEncoder
    from embedding_core.model.train import train

    frame = _rare_items_frame()
    entity = TINY_CONFIG.replace(model="entity", epochs=1, frequency_bands="auto")
    entity = train(frame, ROLES, entity)
    assert entity.frequency_fields == []
    assert TrainConfig.from_dict({}).frequency_bands == "none"
    assert TrainConfig().frequency_bands == "none"  # an option: see the README's benchmarks
    with pytest.raises(ValueError, match="frequency_bands"):
        TrainConfig(frequency_bands="always")

    features = FeatureEncoder().fit(frame, ROLES, min_count=2)
    saved = features.to_dict()
    assert saved["frequency_fields"] == []
    del saved["frequency_fields"]  # a run saved before frequency bands
    assert FeatureEncoder.from_dict(json.loads(json.dumps(saved))).frequency_fields_ == []
    with pytest.raises(ValueError, match="categorical fields"):
        features.set_frequency_fields(["price"])


def test_the_layer_refuses_positions_and_bands_that_do_not_fit() -> None:
    from embedding_core.model.fm_layer import FrequencyBands

    with pytest.raises(ValueError, match="position"):
        FrequencyBands(positions=[], field_sizes=[])
    layer = FrequencyBands(positions=[2], field_sizes=[4])
    with pytest.raises(ValueError, match="n_fields"):
        layer.build((None, 2))
    layer.build((None, 3))
    with pytest.raises(ValueError, match="sizes"):
        layer.set_bands([np.zeros(3, dtype="int32")])


def test_cli_train_reports_the_banded_fields_and_info_shows_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from embedding_core.cli import main

    path = tmp_path / "shop.csv"
    _rare_items_frame().to_csv(path, index=False)
    common = ["--data", str(path), "--categorical", "item,colour", "--target", "bought",
              "--epochs", "1", "--no-refit", "--quiet"]  # fmt: skip
    banded = ["--frequency-bands", "auto", "--out", str(tmp_path / "auto")]
    assert main(["train", *common, *banded]) == 0
    assert json.loads(capsys.readouterr().out)["frequency_fields"] == ["item"]
    assert main(["train", *common, "--out", str(tmp_path / "no")]) == 0  # off by default
    assert "frequency_fields" not in json.loads(capsys.readouterr().out)
    assert json.loads((tmp_path / "no" / "config.json").read_text())["frequency_bands"] == "none"
    assert main(["info", "--model", str(tmp_path / "auto")]) == 0
    assert "frequency bands: item" in capsys.readouterr().out
    assert main(["info", "--model", str(tmp_path / "no"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frequency_fields"] == []
    with pytest.raises(SystemExit):
        main(["train", *common, "--frequency-bands", "always", "--out", str(tmp_path / "x")])
