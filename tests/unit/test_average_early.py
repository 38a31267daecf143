"""``TrainConfig.average_early``: predictions average the early-stopped and refit models.

The refit model stays the run's model (its vectors, tables, ``model.keras``); the
early-stopped weights travel with the run in ``early_weights.npz``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embedding_core.errors import DataError, ModelFormatError
from embedding_core.model.config import TrainConfig
from embedding_core.model.deepfm import predict_raw
from embedding_core.model.run import EARLY_WEIGHTS_FILE, TrainedRun
from embedding_core.model.train import train
from tests.synthetic import BINARY_ROLES, REGRESSION_ROLES, TINY_CONFIG


def _each_model(run: TrainedRun, frame) -> tuple[np.ndarray, np.ndarray]:
    """Predictions of the refit model and of the early-stopped one, in the target's scale."""
    inputs = run.features.transform(frame)
    refit = run._decoded(predict_raw(run.model, inputs))
    early = run._decoded(predict_raw(run._early_stopped_model(), inputs))
    return refit, early


@pytest.fixture(scope="module")
def three_epoch_config() -> TrainConfig:
    # patience 0 on 3 epochs: the refit repeats the best epoch count from scratch
    return TINY_CONFIG.replace(epochs=3, seed=1)


def test_predict_is_the_mean_of_the_early_stopped_and_refit_models(
    tiny_binary_run, binary_frame
) -> None:
    run = tiny_binary_run
    assert run.metrics["final_fit"] == "refit" and run.averages_early
    refit, early = _each_model(run, binary_frame)
    assert not np.allclose(refit, early)  # two different models
    np.testing.assert_allclose(run.predict(binary_frame), (refit + early) / 2.0)
    assert np.all((run.predict(binary_frame) > 0) & (run.predict(binary_frame) < 1))


def test_regression_and_multiclass_average_in_the_targets_scale(
    tiny_regression_run, regression_frame, tiny_multiclass_run, multiclass_frame
) -> None:
    refit, early = _each_model(tiny_regression_run, regression_frame)
    np.testing.assert_allclose(tiny_regression_run.predict(regression_frame), (refit + early) / 2)
    refit, early = _each_model(tiny_multiclass_run, multiclass_frame)
    probs = tiny_multiclass_run.predict(multiclass_frame)
    np.testing.assert_allclose(probs, (refit + early) / 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_averaging_leaves_the_refit_model_and_its_vectors_untouched(
    binary_frame, three_epoch_config: TrainConfig
) -> None:
    averaged = train(binary_frame, BINARY_ROLES, three_epoch_config)
    alone = train(binary_frame, BINARY_ROLES, three_epoch_config.replace(average_early=False))
    assert averaged.averages_early and not alone.averages_early
    for field in alone.fields:
        np.testing.assert_array_equal(
            averaged.embedding_matrix(field), alone.embedding_matrix(field)
        )
    refit, _ = _each_model(averaged, binary_frame)
    np.testing.assert_array_equal(alone.predict(binary_frame), refit)
    assert not np.array_equal(averaged.predict(binary_frame), refit)


@pytest.mark.parametrize(
    "change", [{"refit": False}, {"final_fit": "holdout"}, {"average_early": False}]
)
def test_no_second_model_without_a_refit_or_when_turned_off(
    binary_frame, tmp_path: Path, change: dict
) -> None:
    run = train(binary_frame, BINARY_ROLES, TINY_CONFIG.replace(**change))
    assert not run.averages_early
    saved = run.save(tmp_path / "run")
    assert not (saved / EARLY_WEIGHTS_FILE).exists()
    inputs = run.features.transform(binary_frame)
    np.testing.assert_array_equal(
        run.predict(binary_frame), run._decoded(predict_raw(run.model, inputs))
    )


def test_the_early_stopped_weights_are_saved_and_loaded(
    tiny_binary_run, tiny_binary_run_dir: Path, binary_frame, tmp_path: Path
) -> None:
    assert (tiny_binary_run_dir / EARLY_WEIGHTS_FILE).is_file()
    manifest = json.loads((tiny_binary_run_dir / "manifest.json").read_text())
    assert EARLY_WEIGHTS_FILE in manifest["files"]
    loaded = TrainedRun.load(tiny_binary_run_dir)
    assert loaded.averages_early
    expected = tiny_binary_run.predict(binary_frame)
    np.testing.assert_array_equal(loaded.predict(binary_frame), expected)
    # saved again before its model is read: the file is copied, still averaged
    copied = TrainedRun.load(TrainedRun.load(tiny_binary_run_dir).save(tmp_path / "copy"))
    np.testing.assert_array_equal(copied.predict(binary_frame), expected)
    # saved again after predicting: written from the weights in memory
    rewritten = TrainedRun.load(loaded.save(tmp_path / "rewritten"))
    np.testing.assert_array_equal(rewritten.predict(binary_frame), expected)


def test_a_run_saved_without_early_weights_predicts_with_its_model_alone(
    tiny_binary_run, tiny_binary_run_dir: Path, binary_frame, tmp_path: Path
) -> None:
    old = Path(shutil.copytree(tiny_binary_run_dir, tmp_path / "old"))
    (old / EARLY_WEIGHTS_FILE).unlink()
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["files"].remove(EARLY_WEIGHTS_FILE)
    (old / "manifest.json").write_text(json.dumps(manifest))
    config = json.loads((old / "config.json").read_text())
    del config["average_early"]  # saved before the option existed
    (old / "config.json").write_text(json.dumps(config))
    loaded = TrainedRun.load(old)
    assert not loaded.averages_early and loaded.config.average_early is False
    refit, _ = _each_model(tiny_binary_run, binary_frame)
    np.testing.assert_array_equal(loaded.predict(binary_frame), refit)


def test_broken_or_foreign_early_weights_are_refused(
    tiny_binary_run_dir: Path, tmp_path: Path, tiny_regression_run, binary_frame
) -> None:
    broken = Path(shutil.copytree(tiny_binary_run_dir, tmp_path / "broken"))
    (broken / EARLY_WEIGHTS_FILE).write_bytes(b"not a zip")
    with pytest.raises(ModelFormatError, match="is damaged"):
        TrainedRun.load(broken).predict(binary_frame)

    pickled = Path(shutil.copytree(tiny_binary_run_dir, tmp_path / "pickled"))
    np.savez(pickled / EARLY_WEIGHTS_FILE, np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFormatError, match="is damaged"):
        _ = TrainedRun.load(pickled).model

    foreign = Path(shutil.copytree(tiny_binary_run_dir, tmp_path / "foreign"))
    np.savez(foreign / EARLY_WEIGHTS_FILE, *tiny_regression_run.model.get_weights()[:3])
    with pytest.raises(ModelFormatError, match="does not fit"):
        _ = TrainedRun.load(foreign).model


def test_a_run_whose_manifest_lists_a_file_it_lacks_is_refused(
    tiny_binary_run_dir: Path, tmp_path: Path
) -> None:
    """Without its early-stopped weights a run would quietly predict otherwise."""
    cut = Path(shutil.copytree(tiny_binary_run_dir, tmp_path / "cut"))
    (cut / EARLY_WEIGHTS_FILE).unlink()  # still listed in manifest.json
    with pytest.raises(ModelFormatError, match=f"incomplete \\(missing {EARLY_WEIGHTS_FILE}"):
        TrainedRun.load(cut)


@pytest.mark.parametrize("damage", ["garbage", "missing"])
def test_an_imported_zip_with_broken_early_weights_is_refused(
    tiny_binary_run_dir: Path, tmp_path: Path, damage: str
) -> None:
    from embedding_core.model.store import RunStore

    broken = Path(shutil.copytree(tiny_binary_run_dir, tmp_path / "broken"))
    if damage == "garbage":
        (broken / EARLY_WEIGHTS_FILE).write_bytes(b"not a zip")
    else:
        (broken / EARLY_WEIGHTS_FILE).unlink()
    archive = shutil.make_archive(str(tmp_path / "broken_run"), "zip", broken)
    store = RunStore(tmp_path / "store")
    with pytest.raises(DataError, match="not a readable saved run") as refused:
        store.import_zip(Path(archive).read_bytes(), name="broken_run.zip")
    said = str(refused.value)
    assert EARLY_WEIGHTS_FILE in said and "download or save the run again" in said
    assert str(tmp_path) not in said and ".tmp" not in said  # no server folder named
    assert store.list() == []


def test_a_streamed_run_averages_too(regression_frame, tmp_path: Path) -> None:
    from embedding_core.model.streaming import train_streaming

    path = tmp_path / "table.csv"
    regression_frame.to_csv(path, index=False)
    run = train_streaming(path, REGRESSION_ROLES, TINY_CONFIG)
    assert run is not None and run.metrics["final_fit"] == "refit" and run.averages_early
    refit, early = _each_model(run, regression_frame)
    np.testing.assert_allclose(run.predict(regression_frame), (refit + early) / 2)
