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

from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from embedding_core.model.crosses import (
    MAX_CROSSES,
    MIN_GAIN,
    cross_gain,
    select_crosses,
    whole_numbers,
)


def _codes(frame: pd.DataFrame) -> np.ndarray:
    """month, day, hour as codes (0-based)."""
    return (
        frame[["month", "day", "hour"]].to_numpy()
        - frame[["month", "day", "hour"]].min().to_numpy()
    )


def test_cross_gain_is_below_the_bar_for_additive_columns_and_large_for_an_interaction() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 6, 20_000), rng.integers(0, 6, 20_000)
    first = rng.random(20_000) < 0.5
    additive = (rng.random(20_000) < 0.2 + 0.1 * (a > 2) + 0.1 * (b > 3)).astype(float)
    crossed = (rng.random(20_000) < np.where((a + b) % 2 == 0, 0.7, 0.2)).astype(float)
    assert cross_gain(a, b, additive, first) < MIN_GAIN / 2
    assert cross_gain(a, b, crossed, first) > 0.1


def test_select_crosses_finds_the_date_first() -> None:
    frame = make_calendar_frame()
    pairs = select_crosses(_codes(frame), frame["late"].to_numpy())
    assert pairs[0] == (0, 1)  # month x day first
    assert len(pairs) <= MAX_CROSSES


def test_select_crosses_needs_rows_in_every_cell_and_an_interaction() -> None:
    small = make_calendar_frame(n=2000)  # 36 cells, 55 rows each: not enough
    assert select_crosses(_codes(small), small["late"].to_numpy()) == []
    plain = make_calendar_frame(interaction=0.0)
    assert select_crosses(_codes(plain), plain["late"].to_numpy()) == []


def test_whole_numbers_are_codes_and_words_are_not() -> None:
    assert whole_numbers(["1", "12", "-3", "7.0"])
    assert not whole_numbers(["Jan", "Feb"]) and not whole_numbers(["1.5", "2"])
    assert not whole_numbers([])


def test_cross_embedding_looks_up_one_row_per_pair_and_cell() -> None:
    import keras

    from embedding_core.model.fm_layer import CrossEmbedding

    sizes = [(3, 4), (5, 4)]  # pair 0: 12 cells, then pair 1: 20 cells
    layer = CrossEmbedding(2, pairs=[(0, 2), (1, 2)], sizes=sizes, kernel_initializer="zeros")
    layer.build((None, 3))
    table = np.arange(32 * 2, dtype="float32").reshape(32, 2)
    layer.kernel.assign(table)
    codes = np.array([[1, 4, 2], [0, 0, 3]])
    out = keras.ops.convert_to_numpy(layer(codes))
    expected = [[table[1 * 4 + 2], table[12 + 4 * 4 + 2]], [table[3], table[12 + 3]]]
    np.testing.assert_array_equal(out, np.array(expected))
    again = CrossEmbedding.from_config(layer.get_config())
    assert again.pairs == [(0, 2), (1, 2)] and again.sizes == sizes
    with pytest.raises(ValueError, match="two different columns"):
        CrossEmbedding(2, pairs=[(1, 1)], sizes=[(2, 2)])
    with pytest.raises(ValueError, match="a positive"):
        CrossEmbedding(2, pairs=[(0, 1)], sizes=[])
    with pytest.raises(ValueError, match="of the 2 input columns"):
        CrossEmbedding(2, pairs=[(0, 2)], sizes=[(2, 2)]).build((None, 2))


def test_training_crosses_the_date_and_predicts_it_better(tmp_path: Path) -> None:
    from embedding_core.model.run import TrainedRun
    from embedding_core.model.train import train

    frame = make_calendar_frame()
    config = TINY_CONFIG.replace(epochs=3)
    crossed = train(frame, ROLES, config)
    plain = train(frame, ROLES, config.replace(crosses="none"))
    assert crossed.crosses[0] == ("month", "day")
    assert all("price" not in pair for pair in crossed.crosses)  # more values than bins
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


def test_date_parts_chosen_as_categories_are_crossed_and_words_are_not() -> None:
    """The role guesser makes month and day categorical: their whole-number codes cross;
    the same dates written as words do not (text categories are not candidates)."""
    from embedding_core.model.train import train

    frame = make_calendar_frame()
    roles = Roles(categorical=("shop", "month", "day"), numeric=("hour",), target="late")
    run = train(frame, roles, TINY_CONFIG.replace(epochs=1))
    assert run.crosses[0] == ("month", "day")
    months = {m: name for m, name in enumerate(["", "Jan", "Feb", "Mar", "Apr", "May", "Jun"])}
    words = frame.assign(month=frame["month"].map(months))
    assert train(words, roles, TINY_CONFIG.replace(epochs=1)).crosses == []


@pytest.mark.parametrize(
    "config",
    [
        TINY_CONFIG.replace(numeric_encoding="ple"),
        TINY_CONFIG.replace(model="entity"),
    ],
    ids=["ple", "entity"],
)
def test_numeric_columns_cross_only_as_bins_and_only_in_deepfm(config: TrainConfig) -> None:
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
    with pytest.raises(ValueError, match="two different categorical fields or binned"):
        bins.set_crosses([("month", "month")])
    scaled = FeatureEncoder().fit(frame, ROLES)
    with pytest.raises(ValueError, match="binned numeric columns"):
        scaled.set_crosses([("month", "day")])  # scaled numerics have no codes
    bins.set_crosses([("shop", "day")])
    assert FeatureEncoder.from_dict(bins.to_dict()).crosses_ == [("shop", "day")]


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
