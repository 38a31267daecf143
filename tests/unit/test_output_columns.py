"""New columns (embed's vectors, predict's outputs) never overwrite or repeat a user's column."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_core.cli import main
from embedding_core.output_columns import free_names
from embedding_core.reuse.formula_guard import guard_frame


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))


def _notes(err: str) -> list[str]:
    lines = err.splitlines()
    assert all(line.startswith("note: ") for line in lines), err
    return lines


@pytest.mark.parametrize(
    ("wanted", "taken", "expected"),
    [
        (["a_emb_0", "a_emb_1"], ["b"], ["a_emb_0", "a_emb_1"]),
        (["a_emb_0", "a_emb_1"], ["a_emb_1"], ["a_emb_0_new", "a_emb_1_new"]),
        (["prediction"], ["prediction", "prediction_new"], ["prediction_new2"]),
        (["0"], [0], ["0_new"]),  # compared as a CSV header shows them
    ],
)
def test_free_names_suffix_the_whole_block_only_when_needed(wanted, taken, expected):
    chosen = free_names(wanted, taken)
    assert chosen.names == expected
    assert (chosen.note() is None) == (expected == wanted)


def test_guard_frame_copes_with_repeated_column_names():
    frame = pd.DataFrame([["=1+2", 1.0, "@x"]], columns=["a", "a", "=b"])
    guarded = guard_frame(frame)
    assert list(guarded.columns) == ["a", "a", "'=b"]
    assert guarded.iloc[0].tolist() == ["'=1+2", 1.0, "'@x"]
    assert frame.iloc[0, 0] == "=1+2"  # a copy


@pytest.mark.parametrize("raw", [False, True], ids=["guarded", "raw"])
@pytest.mark.parametrize(
    "clashing",
    [["shop_emb_0"], ["shop_emb_3"], ["shop_emb_0", "shop_emb_0_new"]],
    ids=["first", "last", "suffix-taken-too"],
)
def test_embed_keeps_a_column_named_like_its_output(
    clashing, raw, tiny_binary_run_dir, binary_frame, tmp_path, capsys
):
    frame = binary_frame.head(30).assign(**{c: f"mine-{i}" for i, c in enumerate(clashing)})
    data, out = tmp_path / "d.csv", tmp_path / "e.csv"
    frame.to_csv(data, index=False)
    argv = ["embed", "--model", str(tiny_binary_run_dir), "--data", str(data), "--out", str(out)]
    assert main(argv + (["--raw"] if raw else [])) == 0
    header = _header(out)
    assert len(header) == len(set(header)), header
    written = pd.read_csv(out)
    for i, c in enumerate(clashing):
        assert (written[c] == f"mine-{i}").all()  # the user's column, unchanged
    suffix = "_new2" if len(clashing) > 1 else "_new"
    assert [f"shop_emb_{d}{suffix}" for d in range(4)] == [
        h for h in header if h.startswith("shop_emb_") and h.endswith(suffix)
    ]
    assert [c for c in header if c.startswith("colour_emb_")] == [f"colour_emb_{d}" for d in
                                                                   range(4)]  # fmt: skip
    (note,) = _notes(capsys.readouterr().err)
    assert "'shop_emb_" in note and suffix in note


def test_the_runs_embed_and_the_transformer_name_columns_alike(tiny_binary_run):
    from embedding_core.reuse.transformer import EmbeddingLookupEncoder

    frame = pd.DataFrame({"shop": ["s01", "s02"], "colour": ["c1", "c0"], "shop_emb_1": [7, 8]})
    embedded = tiny_binary_run.embed(frame)
    assert embedded.columns.is_unique and embedded["shop_emb_1"].tolist() == [7, 8]
    names = tiny_binary_run.embedding_names(frame.columns)
    assert names["shop"].taken == ["shop_emb_1"] and names["colour"].taken == []
    encoder = EmbeddingLookupEncoder(tables=tiny_binary_run.tables(), columns=["shop", "colour"])
    out = encoder.fit(frame).get_feature_names_out()
    assert list(out) == list(embedded.columns)


@pytest.mark.parametrize(
    ("run_fixture", "clashing"),
    [
        ("tiny_binary_run", ["prediction"]),
        ("tiny_multiclass_run", ["proba_b"]),
        ("tiny_multiclass_run", ["prediction", "proba_a"]),
    ],
    ids=["binary-prediction", "multiclass-proba", "multiclass-both"],
)
def test_predict_never_overwrites_a_users_column(run_fixture, clashing, request, tmp_path, capsys):
    run = request.getfixturevalue(run_fixture)
    model = run.save(tmp_path / "run")
    frame = request.getfixturevalue(
        "binary_frame" if run_fixture == "tiny_binary_run" else "multiclass_frame"
    ).head(30)
    frame = frame.assign(**{c: np.arange(30) * 10 for c in clashing})
    data, out = tmp_path / "d.csv", tmp_path / "p.csv"
    frame.to_csv(data, index=False)
    assert main(["predict", "--model", str(model), "--data", str(data), "--out", str(out)]) == 0
    header = _header(out)
    assert len(header) == len(set(header)), header
    written = pd.read_csv(out)
    for c in clashing:
        assert (written[c] == np.arange(30) * 10).all()
    assert header[: frame.shape[1]] == list(frame.columns)  # the user's columns first
    assert "prediction_new" in header  # the whole block gets the suffix
    expected = np.asarray(run.predict(frame))
    if expected.ndim == 2:
        assert [h for h in header if h.startswith("proba_") and h.endswith("_new")] == [
            f"proba_{c}_new" for c in run.classes
        ]
        assert (written["prediction_new"] == [run.classes[i] for i in expected.argmax(1)]).all()
    else:
        np.testing.assert_allclose(written["prediction_new"], expected, rtol=1e-6)
    (note,) = _notes(capsys.readouterr().err)
    assert f"'{clashing[0]}'" in note and "kept as it is" in note
