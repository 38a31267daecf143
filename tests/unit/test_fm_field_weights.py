"""The field-weighted FM option end to end: trained, saved, loaded, shown, from the CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from embedding_core.analysis.interactions import field_interactions
from embedding_core.cli import main
from embedding_core.errors import ModelFormatError
from embedding_core.model.config import TrainConfig
from embedding_core.model.run import TrainedRun
from embedding_core.model.train import train
from tests.synthetic import BINARY_ROLES, MULTICLASS_ROLES, TINY_CONFIG

DATA = Path(__file__).resolve().parents[1] / "data" / "small_churn.csv"
WEIGHTED = dataclasses.replace(TINY_CONFIG, fm_field_weights=True)


@pytest.fixture(scope="module")
def weighted_run(binary_frame) -> TrainedRun:
    return train(binary_frame, BINARY_ROLES, WEIGHTED)


def test_the_run_keeps_its_learned_pair_weights(weighted_run: TrainedRun, tmp_path) -> None:
    r = weighted_run.fm_pair_weights()
    assert r is not None
    slots = [*weighted_run.fields, *weighted_run.features.numeric_encoder_.columns]
    assert list(r.index) == list(r.columns) == slots
    values = r.to_numpy()
    np.testing.assert_allclose(values, values.T)
    assert np.all(np.diag(values) == 0)
    off = values[~np.eye(len(slots), dtype=bool)]
    assert not np.allclose(off, 1.0)  # trained away from the plain FM's ones
    layer = weighted_run.model.get_layer("fm")
    np.testing.assert_allclose(values, layer.pair_weights(), atol=1e-6)

    loaded = TrainedRun.load(weighted_run.save(tmp_path / "run"))
    assert loaded.config.fm_field_weights is True
    np.testing.assert_array_equal(loaded.fm_pair_weights().to_numpy(), values)
    np.testing.assert_allclose(
        loaded.model.get_layer("fm").pair_weights(), layer.pair_weights(), atol=0
    )


def test_interactions_weigh_each_pair(weighted_run: TrainedRun) -> None:
    tables = weighted_run.tables()
    plain = field_interactions(tables)
    weighted = field_interactions(tables, pair_weights=weighted_run.fm_pair_weights())
    r = weighted_run.fm_pair_weights().loc[plain.index, plain.columns].abs()
    np.testing.assert_allclose(weighted.to_numpy(), (plain * r).to_numpy(), rtol=1e-6)


def test_plain_fm_has_no_pair_weights(tiny_binary_run: TrainedRun, tiny_binary_run_dir) -> None:
    assert tiny_binary_run.config.fm_field_weights is False  # the default
    assert tiny_binary_run.fm_pair_weights() is None
    assert not (tiny_binary_run_dir / "fm_pair_weights.json").exists()
    assert TrainedRun.load(tiny_binary_run_dir).fm_pair_weights() is None


def test_multiclass_trains_with_field_weights(multiclass_frame) -> None:
    run = train(multiclass_frame, MULTICLASS_ROLES, WEIGHTED)
    assert run.fm_pair_weights().shape[0] >= len(run.fields)
    assert np.isfinite(run.predict(multiclass_frame.head(20))).all()


def test_config_checks_the_flag() -> None:
    with pytest.raises(ValueError, match="Expected fm_field_weights to be True or False"):
        TrainConfig(fm_field_weights="yes")  # type: ignore[arg-type]
    assert TrainConfig.from_dict(WEIGHTED.to_dict()) == WEIGHTED


@pytest.mark.parametrize("flag", ["--fm-field-weights", "--no-fm-field-weights"])
def test_cli_flags(tmp_path: Path, flag: str) -> None:
    out = tmp_path / "run"
    code = main(["train", "--data", str(DATA), "--target", "churned", "--categorical",
                 "customer_city,plan", "--epochs", "1", "--no-refit", "--quiet",
                 flag, "--out", str(out)])  # fmt: skip
    assert code == 0
    config = json.loads((out / "config.json").read_text())
    assert config["fm_field_weights"] is (flag == "--fm-field-weights")
    assert (out / "fm_pair_weights.json").is_file() is (flag == "--fm-field-weights")


def test_a_broken_weights_file_is_a_format_error(weighted_run: TrainedRun, tmp_path) -> None:
    out = weighted_run.save(tmp_path / "run")
    saved = json.loads((out / "fm_pair_weights.json").read_text())
    saved["weights"] = saved["weights"][:-1]  # no longer square
    (out / "fm_pair_weights.json").write_text(json.dumps(saved))
    with pytest.raises(ModelFormatError, match="could not be read"):
        TrainedRun.load(out)


def test_configs_saved_before_the_option_mean_the_plain_fm() -> None:
    saved = TrainConfig().to_dict()
    del saved["fm_field_weights"]
    assert TrainConfig.from_dict(saved).fm_field_weights is False
