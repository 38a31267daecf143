"""Crossed numeric columns: which pairs are chosen, their layer, training and saving."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import CALENDAR_ROLES as ROLES
from synthetic import TINY_CONFIG, make_calendar_frame

from embedding_core.model.config import TrainConfig
from embedding_core.model.crosses import MAX_CROSSES, MIN_GAIN, cross_gain, select_crosses


def _slots(frame: pd.DataFrame) -> tuple[np.ndarray, list[int]]:
    from embedding_core.model.numeric import NumericEncoder

    columns = {c: frame[c].to_numpy(dtype=float) for c in ROLES.numeric}
    encoder = NumericEncoder("bins", n_bins=32).fit(columns)
    return encoder.transform(columns), [frame[c].nunique() for c in ROLES.numeric]


def test_cross_gain_is_below_the_bar_for_additive_columns_and_large_for_an_interaction() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 6, 20_000), rng.integers(0, 6, 20_000)
    first = rng.random(20_000) < 0.5
    additive = (rng.random(20_000) < 0.2 + 0.1 * (a > 2) + 0.1 * (b > 3)).astype(float)
    crossed = (rng.random(20_000) < np.where((a + b) % 2 == 0, 0.7, 0.2)).astype(float)
    assert cross_gain(a, b, additive, first) < MIN_GAIN / 2
    assert cross_gain(a, b, crossed, first) > 0.1


def test_select_crosses_finds_the_date_and_leaves_continuous_columns_alone() -> None:
    frame = make_calendar_frame()
    slots, distinct = _slots(frame)
    pairs = select_crosses(slots, frame["late"].to_numpy(), distinct, max_levels=32)
    assert pairs[0] == (0, 1)  # month x day first
    assert all(3 not in pair for pair in pairs)  # price: more values than bins
    assert len(pairs) <= MAX_CROSSES


def test_select_crosses_needs_rows_in_every_cell_and_an_interaction() -> None:
    small = make_calendar_frame(n=2000)  # 36 cells, 55 rows each: not enough
    slots, distinct = _slots(small)
    assert select_crosses(slots, small["late"].to_numpy(), distinct, max_levels=32) == []
    plain = make_calendar_frame(interaction=0.0)
    slots, distinct = _slots(plain)
    assert select_crosses(slots, plain["late"].to_numpy(), distinct, max_levels=32) == []


def test_cross_embedding_looks_up_one_row_per_pair_and_cell() -> None:
    import keras

    from embedding_core.model.fm_layer import CrossEmbedding

    layer = CrossEmbedding(2, pairs=[(0, 2), (1, 2)], n_slots=4, kernel_initializer="zeros")
    layer.build((None, 3))
    table = np.arange(2 * 16 * 2, dtype="float32").reshape(32, 2)
    layer.kernel.assign(table)
    slots = np.array([[1, 3, 2], [0, 0, 3]])
    out = keras.ops.convert_to_numpy(layer(slots))
    expected = [[table[1 * 4 + 2], table[16 + 3 * 4 + 2]], [table[3], table[16 + 3]]]
    np.testing.assert_array_equal(out, np.array(expected))
    again = CrossEmbedding.from_config(layer.get_config())
    assert again.pairs == [(0, 2), (1, 2)] and again.n_slots == 4
    with pytest.raises(ValueError, match="two different columns"):
        CrossEmbedding(2, pairs=[(1, 1)], n_slots=4)
    with pytest.raises(ValueError, match="of the 2 input columns"):
        CrossEmbedding(2, pairs=[(0, 2)], n_slots=4).build((None, 2))


def test_training_crosses_the_date_and_predicts_it_better(tmp_path: Path) -> None:
    from embedding_core.model.run import TrainedRun
    from embedding_core.model.train import train

    frame = make_calendar_frame()
    config = TINY_CONFIG.replace(epochs=3)
    crossed = train(frame, ROLES, config)
    plain = train(frame, ROLES, config.replace(crosses="none"))
    assert crossed.crosses[0] == ("month", "day")
    assert plain.crosses == []
    assert crossed.model.get_layer("cross_embedding").output.shape[1] == len(crossed.crosses)
    with pytest.raises(ValueError):
        plain.model.get_layer("cross_embedding")
    assert crossed.metrics["valid_auc"] > plain.metrics["valid_auc"] + 0.02

    loaded = TrainedRun.load(crossed.save(tmp_path / "run"))
    assert loaded.crosses == crossed.crosses
    rows = frame.head(50)
    np.testing.assert_array_equal(loaded.predict(rows), crossed.predict(rows))
    moved = rows.assign(day=rows["day"] % 6 + 1)  # another date, same month and day counts
    assert not np.allclose(loaded.predict(moved), loaded.predict(rows))


@pytest.mark.parametrize(
    "config",
    [
        TINY_CONFIG.replace(numeric_encoding="ple"),
        TINY_CONFIG.replace(model="entity"),
    ],
    ids=["ple", "entity"],
)
def test_crosses_apply_to_deepfm_over_bins_only(config: TrainConfig) -> None:
    from embedding_core.model.train import train

    run = train(make_calendar_frame(n=3000), ROLES, config.replace(epochs=1))
    assert run.crosses == []


def test_runs_saved_before_crosses_load_without_them(tmp_path: Path) -> None:
    from embedding_core.model.run import TrainedRun
    from embedding_core.model.train import train

    frame = make_calendar_frame(n=3000)
    saved = train(frame, ROLES, TINY_CONFIG.replace(epochs=1, crosses="none")).save(tmp_path / "r")
    old = shutil.copytree(saved, tmp_path / "old")
    for name, key in (("features.json", "crosses"), ("config.json", "crosses")):
        data = json.loads((old / name).read_text())
        data.pop(key)  # as written before the option existed
        (old / name).write_text(json.dumps(data))
    run = TrainedRun.load(old)
    assert run.config.crosses == "none" and run.features.crosses_ == []
    rows = frame.head(20)
    np.testing.assert_array_equal(run.predict(rows), TrainedRun.load(saved).predict(rows))


def test_config_and_encoder_refuse_what_cannot_be_crossed() -> None:
    from embedding_core.model.features import FeatureEncoder

    with pytest.raises(ValueError, match="crosses"):
        TrainConfig(crosses="all")
    assert TrainConfig().crosses == "auto"
    assert TrainConfig.from_dict({}).crosses == "none"
    frame = make_calendar_frame(n=500)
    bins = FeatureEncoder().fit(frame, ROLES, numeric_encoding="bins")
    with pytest.raises(ValueError, match="two different binned"):
        bins.set_crosses([("month", "shop")])
    scaled = FeatureEncoder().fit(frame, ROLES)
    with pytest.raises(ValueError, match="encoded as bins"):
        scaled.set_crosses([("month", "day")])
    bins.set_crosses([("month", "day")])
    assert FeatureEncoder.from_dict(bins.to_dict()).crosses_ == [("month", "day")]


def test_cli_train_reports_the_crosses_and_info_shows_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from embedding_core.cli import main

    path = tmp_path / "flights.csv"
    make_calendar_frame().to_csv(path, index=False)
    common = ["--data", str(path), "--categorical", "shop", "--numeric", "month,day,hour,price",
              "--target", "late", "--epochs", "1", "--no-refit", "--quiet"]  # fmt: skip
    assert main(["train", *common, "--out", str(tmp_path / "auto")]) == 0
    assert json.loads(capsys.readouterr().out)["crosses"][0] == ["month", "day"]
    assert main(["train", *common, "--crosses", "none", "--out", str(tmp_path / "none")]) == 0
    assert "crosses" not in json.loads(capsys.readouterr().out)
    assert json.loads((tmp_path / "none" / "config.json").read_text())["crosses"] == "none"
    assert main(["info", "--model", str(tmp_path / "auto")]) == 0
    assert "crossed:       month x day" in capsys.readouterr().out
