"""Streaming data: sources, the hash split, the one-pass vocabulary and the batch shuffle."""

from __future__ import annotations

import gzip
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import BINARY_ROLES, make_binary_frame

from embedding_core.data.csv_reader import read_csv
from embedding_core.data.encoding import category_encoder_from_counts
from embedding_core.data.roles import Roles
from embedding_core.data.stream import open_table, split_mask
from embedding_core.data.validation import validate_roles
from embedding_core.errors import DataError
from embedding_core.model.features import FeatureEncoder
from embedding_core.model.vocabulary import StreamVocabulary, scan_vocabulary


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_binary_frame(1500, seed=3)


def _shards(frame: pd.DataFrame, folder: Path, kind: str, n: int = 3) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, part in enumerate(np.array_split(np.arange(len(frame)), n)):
        path = folder / f"part-{i}.{kind}"
        if kind == "parquet":
            frame.iloc[part].to_parquet(path, index=False)
        else:
            frame.iloc[part].to_csv(path, index=False)
        paths.append(path)
    return paths


def _in_memory_encoder(frame: pd.DataFrame, names: list[str], sizes: list[int]) -> FeatureEncoder:
    """``FeatureEncoder.fit`` on the rows ``split_mask`` keeps for training, in memory."""
    masks = [
        split_mask(name, 0, n, valid_fraction=0.2, seed=0)
        for name, n in zip(names, sizes, strict=True)
    ]
    train_rows = frame[~np.concatenate(masks)]
    validated = validate_roles(train_rows, BINARY_ROLES)
    return FeatureEncoder().fit(validated.frame, validated.roles, min_count=2)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_streamed_vocabulary_equals_in_memory_fit(frame: pd.DataFrame, tmp_path: Path, kind: str):
    paths = _shards(frame, tmp_path / "shards", kind)
    source = open_table(tmp_path / "shards")
    streamed = scan_vocabulary(source, BINARY_ROLES, min_count=2)
    parts = [read_csv(p) if kind == "csv" else pd.read_parquet(p) for p in paths]
    text = pd.concat(parts, ignore_index=True)
    expected = _in_memory_encoder(text, list(source.names), [len(p) for p in parts])
    for field in BINARY_ROLES.categorical:
        assert streamed.features.encoders_[field] == expected.encoders_[field]
    got, want = streamed.features.to_dict(), expected.to_dict()
    assert got["classes"] == want["classes"] and got["positive_label"] == want["positive_label"]
    assert got["numeric_mean"]["x"] == pytest.approx(want["numeric_mean"]["x"], rel=1e-9)
    assert got["numeric_std"]["x"] == pytest.approx(want["numeric_std"]["x"], rel=1e-9)
    assert streamed.train_rows + streamed.valid_rows == len(frame)


def test_vocabulary_file_round_trip_and_mismatch(frame: pd.DataFrame, tmp_path: Path):
    _shards(frame, tmp_path / "d", "parquet", n=2)
    source = open_table(str(tmp_path / "d" / "*.parquet"))
    vocab = scan_vocabulary(source, BINARY_ROLES, max_vocabulary=5)
    assert all(vocab.features.encoders_[f].size <= 5 + 2 for f in BINARY_ROLES.categorical)
    loaded = StreamVocabulary.load(vocab.save(tmp_path / "vocab.json"))
    assert loaded.to_dict() == vocab.to_dict()
    loaded.check_matches(source, BINARY_ROLES)
    with pytest.raises(DataError, match="other columns"):
        loaded.check_matches(source, Roles(("shop",), "y", ("x",)))
    with pytest.raises(DataError, match="other data files"):
        loaded.check_matches(open_table(tmp_path / "d" / "part-0.parquet"), BINARY_ROLES)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(DataError, match="not a vocabulary file"):
        StreamVocabulary.load(tmp_path / "bad.json")


def test_max_vocabulary_keeps_the_most_frequent():
    counts = pd.Series({"a": 5, "b": 9, "c": 9, "d": 1, "e": 3})
    enc = category_encoder_from_counts(counts, 4, min_count=2, max_vocabulary=2)
    assert enc.labels_ == ["<unknown>", "<missing>", "b", "c"]
    assert enc.counts_ == [5 + 1 + 3, 4, 9, 9]  # a, d, e share the unknown row
    assert category_encoder_from_counts(counts, 0, min_count=1).size == 6


def test_split_mask_is_deterministic_and_independent_of_batches():
    whole = split_mask("f.parquet", 0, 10_000, valid_fraction=0.2, seed=0)
    pieces = np.concatenate(
        [
            split_mask("f.parquet", s, 1000, valid_fraction=0.2, seed=0)
            for s in range(0, 10_000, 1000)
        ]
    )
    assert np.array_equal(whole, pieces)
    assert 0.18 < whole.mean() < 0.22
    assert not np.array_equal(whole, split_mask("g.parquet", 0, 10_000, valid_fraction=0.2, seed=0))
    assert not np.array_equal(whole, split_mask("f.parquet", 0, 10_000, valid_fraction=0.2, seed=1))


def test_csv_is_read_like_read_csv(tmp_path: Path):
    body = " city ;code;y\nNancy;007;1\n;;0\nMetz;8;1\n"
    path = tmp_path / "semi.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(body)
    source = open_table(path)
    assert source.columns == ("city", "code", "y") and source.delimiter == ";"
    (_, first, got), *_ = list(source.batches(["city", "code", "y"]))
    assert first == 0
    want = read_csv(body.encode())
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)


def test_a_header_line_longer_than_the_sniff_is_read_whole(tmp_path: Path):
    names = [f"a_rather_long_column_name_{i:05d}" for i in range(4_000)]  # ~140 kB, allowed
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" * len(names)) + "\n")
    assert open_table(path).columns == tuple(names)


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        (b"," * 3_000_000, "more than the 5,000 columns supported (2,"),  # a line never ending
        (b",".join(b"c%d" % i for i in range(200_000)), "has 200,000 columns"),
        (b"x" * 2_000_000, "header line longer than"),
    ],
)
def test_wide_headers_are_refused_with_what_was_counted(tmp_path: Path, header, needle):
    path = tmp_path / "t.csv"
    path.write_bytes(header + b"\n1,2\n")
    with pytest.raises(DataError, match=re.escape(needle)):
        open_table(path)


def test_bad_sources_are_refused(frame: pd.DataFrame, tmp_path: Path):
    with pytest.raises(DataError, match="no such file"):
        open_table(tmp_path / "nope")
    with pytest.raises(DataError, match="No CSV or Parquet file"):
        open_table(str(tmp_path / "*.parquet"))
    _shards(frame, tmp_path / "mixed", "csv", n=1)
    _shards(frame, tmp_path / "mixed", "parquet", n=1)
    with pytest.raises(DataError, match="mixes CSV and Parquet"):
        open_table(tmp_path / "mixed")
    source = open_table(tmp_path / "mixed" / "part-0.csv")
    with pytest.raises(DataError, match="'nope' is not in the data"):
        scan_vocabulary(source, Roles(("nope",), "y"))
    with pytest.raises(DataError, match="2 workers"):
        source.shard(0, 2)


def test_batches_visit_every_row_once_in_a_new_order(tmp_path: Path):
    from embedding_core.model import streaming

    part = streaming._Part(tmp_path / "p", n_fields=2, n_numeric=0, y_dtype="float32").create()
    for start in range(0, 1000, 300):
        rows = np.arange(start, min(start + 300, 1000))
        part.append({"categorical": np.stack([rows, rows], axis=1)}, rows.astype(np.float32))
    epochs = []
    for epoch in range(2):
        batches = list(streaming._batches([part], 16, seed=0, epoch=epoch))
        assert all(len(y) == 16 for _, y in batches[:-1])
        y = np.concatenate([y for _, y in batches])
        x = np.concatenate([x["categorical"][:, 0] for x, _ in batches])
        assert np.array_equal(np.sort(y), np.arange(1000)) and np.array_equal(x, y)
        epochs.append(y)
    assert not np.array_equal(epochs[0], epochs[1])


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_streamed_target_coding_equals_in_memory_fit(tmp_path: Path, task: str) -> None:
    from synthetic import (
        MULTICLASS_ROLES,
        REGRESSION_ROLES,
        make_multiclass_frame,
        make_regression_frame,
    )

    frame, roles = (
        (make_regression_frame(900), REGRESSION_ROLES)
        if task == "regression"
        else (make_multiclass_frame(900), MULTICLASS_ROLES)
    )
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    streamed = scan_vocabulary(open_table(tmp_path / "t.parquet"), replace(roles, task=None))
    train_rows = frame[~split_mask("t.parquet", 0, len(frame), valid_fraction=0.2, seed=0)]
    validated = validate_roles(train_rows, replace(roles, task=None))
    expected = FeatureEncoder().fit(validated.frame, validated.roles, min_count=2)
    assert streamed.features.task == expected.task == task
    assert streamed.features.classes_ == expected.classes_
    assert streamed.features.target_mean_ == pytest.approx(expected.target_mean_, rel=1e-9)
    assert streamed.features.target_std_ == pytest.approx(expected.target_std_, rel=1e-9)
    for field in roles.categorical:
        assert streamed.features.encoders_[field] == expected.encoders_[field]


def test_a_streamed_column_that_gives_the_target_away_is_named(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    """As in memory (``validate_roles``): a warning names the leak, the run still trains;
    the check reads the first rows only, so a long stream costs no more."""
    leaky = frame.assign(status=np.where(frame["y"] == "yes", "closed", "open"))
    _shards(leaky, tmp_path / "leaky", "csv")
    roles = replace(BINARY_ROLES, categorical=(*BINARY_ROLES.categorical, "status"))
    streamed = scan_vocabulary(open_table(tmp_path / "leaky"), roles)
    [note] = [w for w in streamed.warnings if "predicts the target" in w]
    assert "Column 'status'" in note and "'y'" in note and "AUC 1.000" in note
    assert "status" in streamed.features.encoders_  # warned, not dropped
    honest = scan_vocabulary(open_table(tmp_path / "leaky"), BINARY_ROLES)
    assert not [w for w in honest.warnings if "predicts the target" in w]
