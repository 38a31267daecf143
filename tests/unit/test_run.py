"""TrainedRun: predict, embed, save/load round trip and refusing bad directories."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_core.errors import DataError, ModelFormatError
from embedding_core.model.embeddings import vectors
from embedding_core.model.run import FORMAT_VERSION, RUN_FILES, TrainedRun


def test_predict_handles_unseen_and_missing_values(tiny_binary_run) -> None:
    rows = pd.DataFrame(
        {
            "shop": ["s01", "brand-new-shop", None],
            "colour": ["c0", "c9", "c1"],
            "x": ["0.5", "", "1.0"],
        }
    )
    pred = tiny_binary_run.predict(rows)
    assert pred.shape == (3,) and np.all((pred > 0) & (pred < 1))
    # An unseen category predicts like the unknown row, whatever its label.
    other = tiny_binary_run.predict(rows.assign(shop=["s01", "another-new-one", None]))
    assert other[1] == pytest.approx(pred[1])


def test_predict_rejects_missing_columns_and_text_in_numbers(tiny_binary_run) -> None:
    rows = pd.DataFrame({"shop": ["s01"], "colour": ["c0"], "x": ["1"]})
    with pytest.raises(DataError, match="'colour'"):
        tiny_binary_run.predict(rows.drop(columns="colour"))
    with pytest.raises(DataError, match="not numbers"):
        tiny_binary_run.predict(rows.assign(x="lots"))
    assert tiny_binary_run.predict(rows.iloc[:0]).shape == (0,)


def test_predict_ignores_the_target_and_extra_columns(tiny_binary_run, binary_frame) -> None:
    with_extra = binary_frame.assign(extra=1)
    np.testing.assert_array_equal(
        tiny_binary_run.predict(with_extra),
        tiny_binary_run.predict(binary_frame.drop(columns="y")),
    )


def test_embed_replaces_categorical_columns_in_place(tiny_binary_run, binary_frame) -> None:
    frame = binary_frame.head(7).assign(id=range(7))
    out = tiny_binary_run.embed(frame)
    k = tiny_binary_run.embedding_dim
    expected = (
        [f"shop_emb_{d}" for d in range(k)]
        + [f"colour_emb_{d}" for d in range(k)]
        + ["x", "y", "id"]
    )
    assert list(out.columns) == expected
    assert out.index.equals(frame.index)
    table = tiny_binary_run.embeddings("colour")
    row = table.loc[table["category"] == frame["colour"].iloc[0]]
    np.testing.assert_array_equal(
        out.iloc[0][[f"colour_emb_{d}" for d in range(k)]].to_numpy(dtype=np.float32),
        vectors(row)[0],
    )
    unseen = tiny_binary_run.embed(frame.assign(colour="zzz"))
    unknown = vectors(table[table["is_unknown"]])[0]
    np.testing.assert_array_equal(
        unseen[[f"colour_emb_{d}" for d in range(k)]].to_numpy(dtype=np.float32)[0], unknown
    )
    with pytest.raises(DataError, match="'shop'"):
        tiny_binary_run.embed(frame.drop(columns="shop"))


def test_save_writes_every_file(tiny_binary_run_dir: Path) -> None:
    for name in RUN_FILES:
        assert (tiny_binary_run_dir / name).is_file(), name
    manifest = json.loads((tiny_binary_run_dir / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION and manifest["library_version"]
    metrics = json.loads((tiny_binary_run_dir / "metrics.json").read_text())
    assert metrics["task"] == "binary" and "valid_auc" in metrics
    tables = pd.read_parquet(tiny_binary_run_dir / "embeddings.parquet")
    assert list(tables.columns[:2]) == ["field", "index"]
    assert set(tables["field"]) == {"shop", "colour"}
    assert not list(tiny_binary_run_dir.glob("*.pkl"))


def test_load_round_trip_gives_identical_predictions_and_tables(
    tiny_binary_run, tiny_binary_run_dir: Path, binary_frame
) -> None:
    loaded = TrainedRun.load(tiny_binary_run_dir)
    np.testing.assert_array_equal(
        loaded.predict(binary_frame), tiny_binary_run.predict(binary_frame)
    )
    assert loaded.roles == tiny_binary_run.roles
    assert loaded.config == tiny_binary_run.config
    assert loaded.metrics == pytest.approx(tiny_binary_run.metrics)
    assert loaded.fields == tiny_binary_run.fields
    for field in loaded.fields:
        pd.testing.assert_frame_equal(loaded.embeddings(field), tiny_binary_run.embeddings(field))
    pd.testing.assert_frame_equal(loaded.embed(binary_frame), tiny_binary_run.embed(binary_frame))


def test_regression_and_multiclass_round_trip(
    tiny_regression_run, tiny_multiclass_run, regression_frame, multiclass_frame, tmp_path: Path
) -> None:
    for run, frame in (
        (tiny_regression_run, regression_frame),
        (tiny_multiclass_run, multiclass_frame),
    ):
        loaded = TrainedRun.load(run.save(tmp_path / run.task))
        np.testing.assert_array_equal(loaded.predict(frame), run.predict(frame))
        assert loaded.features.classes_ == run.features.classes_


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_load_refuses_missing_or_incompatible_directories(
    tiny_binary_run_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(ModelFormatError, match="No saved model directory"):
        TrainedRun.load(tmp_path / "does-not-exist")
    with pytest.raises(ModelFormatError, match="manifest.json"):
        TrainedRun.load(tmp_path)

    old = _copy(tiny_binary_run_dir, tmp_path / "old")
    manifest = json.loads((old / "manifest.json").read_text())
    (old / "manifest.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ModelFormatError, match="format 99.*reads format 1"):
        TrainedRun.load(old)

    partial = _copy(tiny_binary_run_dir, tmp_path / "partial")
    (partial / "features.json").unlink()
    with pytest.raises(ModelFormatError, match="missing features.json"):
        TrainedRun.load(partial)

    broken = _copy(tiny_binary_run_dir, tmp_path / "broken")
    (broken / "roles.json").write_text("{not json")
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        TrainedRun.load(broken)

    bad_model = _copy(tiny_binary_run_dir, tmp_path / "bad_model")
    (bad_model / "model.keras").write_bytes(b"not a zip file")
    lazy = TrainedRun.load(bad_model)  # the model is read on first use
    assert lazy.tables()["shop"].equals(TrainedRun.load(tiny_binary_run_dir).tables()["shop"])
    with pytest.raises(ModelFormatError, match="could not be loaded"):
        lazy.predict(pd.DataFrame({"shop": ["s01"], "colour": ["c0"], "x": ["1"]}))


def test_load_never_runs_lambda_layers(tiny_binary_run_dir: Path, tmp_path: Path) -> None:
    import keras

    evil = _copy(tiny_binary_run_dir, tmp_path / "evil")
    inp = keras.Input((2,), dtype="int32", name="categorical")
    out = keras.layers.Lambda(lambda t: keras.ops.cast(t, "float32") * 0 + 1)(inp)
    keras.Model(inp, out).save(evil / "model.keras")
    with pytest.raises(ModelFormatError, match="could not be loaded") as excinfo:
        _ = TrainedRun.load(evil).model
    assert "code execution" in str(excinfo.value.__cause__)


def test_embeddings_of_an_unknown_field(tiny_binary_run) -> None:
    with pytest.raises(DataError, match="'y' is not a categorical field"):
        tiny_binary_run.embeddings("y")


def test_accessors_give_classes_vocabulary_and_aligned_matrices(
    tiny_binary_run, tiny_multiclass_run, tiny_regression_run
) -> None:
    run = tiny_binary_run
    assert run.classes == run.features.classes_ and len(run.classes) == 2
    assert run.positive_label == run.classes[1]
    assert tiny_multiclass_run.positive_label is None and len(tiny_multiclass_run.classes) > 2
    assert tiny_regression_run.classes == [] and tiny_regression_run.positive_label is None
    tables = run.tables()
    assert list(tables) == run.fields
    tables["shop"].loc[0, "count"] = -1  # copies: the run is untouched
    assert run.embeddings("shop").loc[0, "count"] >= 0
    for field in run.fields:
        labels, matrix = run.vocabulary(field), run.embedding_matrix(field)
        assert matrix.shape == (len(labels), run.embedding_dim)
        assert labels == run.embeddings(field)["category"].tolist()
        np.testing.assert_array_equal(matrix, vectors(run.embeddings(field)))
        rows = run.category_rows(field, [labels[-1], "never-seen", None])
        assert rows[0] == len(labels) - 1 and rows[1] == 0
    with pytest.raises(DataError, match="'y' is not a categorical field"):
        run.vocabulary("y")


_NO_TF_PROBE = """
import sys
from embedding_core.model.run import TrainedRun
run = TrainedRun.load(sys.argv[1])
tables = run.tables()
vocab = run.vocabulary(run.fields[0])
matrix = run.embedding_matrix(run.fields[0])
assert len(vocab) == len(matrix) == len(tables[run.fields[0]])
print(",".join(m for m in ("tensorflow", "keras") if m in sys.modules))
"""


def test_load_and_tables_never_import_tensorflow(tiny_binary_run_dir: Path) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _NO_TF_PROBE, str(tiny_binary_run_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "", f"TrainedRun.load pulled in: {out.stdout.strip()}"


def test_a_loaded_run_saves_again_without_loading_its_model(
    tiny_binary_run_dir: Path, tmp_path: Path, binary_frame
) -> None:
    loaded = TrainedRun.load(tiny_binary_run_dir)
    again = TrainedRun.load(loaded.save(tmp_path / "again"))
    assert loaded._model is None  # copied, not loaded
    assert (tmp_path / "again" / "warnings.json").is_file()
    manifest = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert "warnings.json" in manifest["files"] and manifest["keras_version"]
    np.testing.assert_array_equal(again.predict(binary_frame), loaded.predict(binary_frame))


def test_runs_saved_before_this_layout_still_load(
    tiny_binary_run_dir: Path, tmp_path: Path
) -> None:
    """No warnings.json, and embeddings.parquet written by plain pandas (no field order)."""
    old = _copy(tiny_binary_run_dir, tmp_path / "old_layout")
    (old / "warnings.json").unlink()
    combined = pd.read_parquet(old / "embeddings.parquet")
    (old / "embeddings.parquet").unlink()
    combined.to_parquet(old / "embeddings.parquet", index=False)
    loaded, reference = TrainedRun.load(old), TrainedRun.load(tiny_binary_run_dir)
    assert loaded.warnings == []
    for field in reference.fields:
        pd.testing.assert_frame_equal(loaded.embeddings(field), reference.embeddings(field))
