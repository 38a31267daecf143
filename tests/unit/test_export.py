"""Exports: Embedding Projector TSV, Parquet of all tables, CSV bytes."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_core.errors import DataError
from embedding_core.reuse.export import (
    CSV_MANIFEST,
    MAX_STEM,
    csv_zip,
    projector_config,
    projector_zip,
    read_parquet_tables,
    tables_to_parquet,
    tables_to_parquet_bytes,
    to_csv_bytes,
    to_projector_tsv,
    write_csv_files,
    write_projector_files,
)
from embedding_core.reuse.formula_guard import guard_cell, guard_frame

ODD_NAMES = [
    "<unknown>",
    "<missing>",
    "plain",
    "tab\there",
    "new\nline",
    "cr\rhere",
    "back\\slash",
    "literal \\t not a tab",
    "ünïcødé 東京",
    "",
    "=SUM(A1)",
]


def make_table(n: int = 11, k: int = 5, seed: int = 0, names: list[str] | None = None):
    rng = np.random.default_rng(seed)
    names = names if names is not None else ODD_NAMES[:n]
    n = len(names)
    frame = pd.DataFrame(
        {
            "index": np.arange(n),
            "category": pd.array(names, dtype="str"),
            "count": rng.integers(0, 1000, size=n).astype(np.int64),
            "target_mean": rng.random(n),
            "first_order": rng.normal(size=n),
            "is_unknown": np.arange(n) == 0,
            "is_missing": np.arange(n) == 1,
        }
    )
    for j in range(k):
        frame[f"emb_{j}"] = rng.normal(size=n).astype(np.float32)
    return frame


def unescape(text: str) -> str:
    out, i = [], 0
    mapping = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
    while i < len(text):
        if text[i] == "\\":
            out.append(mapping[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_projector(vectors: str, metadata: str) -> pd.DataFrame:
    """Read the two TSVs back the way the Embedding Projector does (split on \\n, \\t)."""
    vec_rows = [line.split("\t") for line in vectors.split("\n") if line != ""]
    meta_lines = metadata.split("\n")
    assert meta_lines[-1] == ""  # ends with a newline
    header, *rows = [line.split("\t") for line in meta_lines[:-1]]
    assert header == ["category", "count", "target_mean"]
    assert len(rows) == len(vec_rows)
    assert all(len(r) == 3 for r in rows)
    frame = pd.DataFrame(
        {
            "category": [unescape(r[0]) for r in rows],
            "count": [int(r[1]) for r in rows],
            "target_mean": [float(r[2]) if r[2] else np.nan for r in rows],
        }
    )
    vecs = np.array([[float(v) for v in r] for r in vec_rows], dtype=np.float32)
    for j in range(vecs.shape[1]):
        frame[f"emb_{j}"] = vecs[:, j]
    return frame


def test_projector_tsv_parses_back_to_the_input() -> None:
    table = make_table()
    vectors, metadata = to_projector_tsv(table)
    back = parse_projector(vectors, metadata)
    # formula-like names come back with the guard's leading quote, the rest unchanged
    assert back["category"].tolist() == [guard_cell(c) for c in table["category"]]
    assert "'=SUM(A1)" in back["category"].tolist()
    assert back["count"].tolist() == table["count"].tolist()
    assert np.allclose(back["target_mean"], table["target_mean"], rtol=1e-5)
    emb = [f"emb_{j}" for j in range(5)]
    assert np.array_equal(back[emb].to_numpy(), table[emb].to_numpy())  # float32-exact
    assert not vectors.startswith("emb_")  # no header on the vectors file


def test_projector_tsv_escapes_keep_one_line_per_category() -> None:
    _, metadata = to_projector_tsv(make_table())
    lines = metadata.split("\n")
    assert len(lines) == len(ODD_NAMES) + 2  # header + rows + trailing ""
    assert lines[4].split("\t")[0] == "tab\\there"
    assert lines[5].split("\t")[0] == "new\\nline"
    assert lines[7].split("\t")[0] == "back\\\\slash"


def test_projector_tsv_missing_target_is_empty() -> None:
    table = make_table(names=["a", "b"])
    table["target_mean"] = np.nan
    _, metadata = to_projector_tsv(table)
    assert metadata.split("\n")[1].endswith("\t")
    assert parse_projector(*to_projector_tsv(table))["target_mean"].isna().all()


def test_projector_tsv_needs_vectors() -> None:
    with pytest.raises(DataError, match="emb_"):
        to_projector_tsv(make_table().drop(columns=[f"emb_{j}" for j in range(5)]))


def test_write_projector_files_per_field(tmp_path: Path) -> None:
    tables = {
        "job": make_table(seed=1),
        "job title/role": make_table(seed=2),
        "job_title_role": make_table(seed=3),
    }
    written = write_projector_files(tables, tmp_path / "out")
    assert list(written) == list(tables)
    paths = [p for pair in written.values() for p in pair]
    assert len({p.name for p in paths}) == 6  # clash of sanitised names resolved
    assert written["job"][0].name == "job_vectors.tsv"
    assert written["job title/role"][1].name == "job_title_role_metadata.tsv"
    for field, (vec_path, meta_path) in written.items():
        assert vec_path.parent == tmp_path / "out"
        expected = to_projector_tsv(tables[field])
        assert vec_path.read_bytes().decode("utf-8") == expected[0]
        assert meta_path.read_bytes().decode("utf-8") == expected[1]


LONG = "L" * 5000


@pytest.mark.parametrize(
    "fields",
    [[LONG], [LONG, LONG + "2", "job"], [LONG + "/é", LONG + "/ü"], ["ü" * 3000]],
    ids=["one", "shared-start", "sanitised-alike", "non-ascii"],
)
@pytest.mark.parametrize("form", ["projector", "csv"])
def test_long_field_names_give_short_unique_files_and_keep_the_full_name(
    fields, form, tmp_path: Path
) -> None:
    tables = {f: make_table(seed=i) for i, f in enumerate(fields)}
    if form == "projector":
        written = write_projector_files(tables, tmp_path)
        names = [p.name for pair in written.values() for p in pair]
        config = (tmp_path / "projector_config.pbtxt").read_text(encoding="utf-8")
        assert re.findall(r'tensor_name: "(.*)"', config) == fields  # the full names
        archive_names = zipfile.ZipFile(io.BytesIO(projector_zip(tables))).namelist()
    else:
        written_csv = write_csv_files(tables, tmp_path)
        names = [p.name for p in written_csv.values()]
        manifest = json.loads((tmp_path / CSV_MANIFEST).read_text(encoding="utf-8"))
        assert manifest == {p.name: f for f, p in written_csv.items()}
        archive_names = zipfile.ZipFile(io.BytesIO(csv_zip(tables))).namelist()
    assert len(set(names)) == len(names) == len(fields) * (2 if form == "projector" else 1)
    assert all(len(n.encode()) <= MAX_STEM + 20 for n in names)
    assert set(names) <= set(archive_names)


def test_projector_zip_holds_both_files_per_field() -> None:
    tables = {"a": make_table(seed=1), "b": make_table(seed=2)}
    with zipfile.ZipFile(io.BytesIO(projector_zip(tables))) as archive:
        names = sorted(archive.namelist())
        assert names == [
            "a_metadata.tsv",
            "a_vectors.tsv",
            "b_metadata.tsv",
            "b_vectors.tsv",
            "projector_config.pbtxt",
        ]
        assert archive.read("projector_config.pbtxt").decode() == projector_config(tables)
        assert archive.read("b_vectors.tsv").decode() == to_projector_tsv(tables["b"])[0]


def test_parquet_round_trip(tmp_path: Path) -> None:
    tables = {
        "job": make_table(seed=1),
        "education": make_table(seed=2, names=["<unknown>", "primary", "secondary"]),
        "empty": make_table(names=[]),
    }
    path = tmp_path / "embeddings.parquet"
    tables_to_parquet(tables, path)
    raw = pd.read_parquet(path)
    assert raw.columns[0] == "field"
    assert raw["field"].value_counts().to_dict() == {"job": 11, "education": 3}

    back = read_parquet_tables(path)
    assert list(back) == ["job", "education", "empty"]  # order and empty field kept
    for field, table in tables.items():
        pd.testing.assert_frame_equal(back[field], table, check_index_type=False)
    assert back["job"]["emb_0"].dtype == np.float32
    assert back["job"]["is_unknown"].dtype == bool


def test_parquet_bytes_round_trip() -> None:
    tables = {"a": make_table(seed=4)}
    back = read_parquet_tables(tables_to_parquet_bytes(tables))
    pd.testing.assert_frame_equal(back["a"], tables["a"])


def test_parquet_read_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Parquet"):
        read_parquet_tables(b"this is not parquet")
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"x": [1, 2]}).to_parquet(plain)
    with pytest.raises(DataError, match="'field'"):
        read_parquet_tables(plain)
    with pytest.raises(DataError, match="'field'"):
        tables_to_parquet({"a": make_table().assign(field="x")}, tmp_path / "bad.parquet")


def test_csv_bytes_round_trip_and_formula_guard() -> None:
    table = make_table(names=["a", "=cmd|' /C calc'!A0", "-1.5", "+x", "@SUM(1)", "ünï"])
    data = to_csv_bytes(table)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark for spreadsheets
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"category": str})
    assert back["category"].tolist() == [
        "a",
        "'=cmd|' /C calc'!A0",
        "-1.5",
        "'+x",
        "'@SUM(1)",
        "ünï",
    ]
    assert np.allclose(back["emb_0"], table["emb_0"], rtol=1e-6)
    assert back["count"].tolist() == table["count"].tolist()

    raw = to_csv_bytes(table, encoding="utf-8", guard_formulas=False)
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(io.BytesIO(raw))["category"][1] == "=cmd|' /C calc'!A0"
    assert table["category"][1] == "=cmd|' /C calc'!A0"  # input not modified


def test_csv_files_round_trip_with_formula_guard(tmp_path: Path) -> None:
    names = ["<unknown>", "<missing>", "plain", "ünïcødé 東京", "new\nline", "=SUM(A1)",
             "-1.5", "@x"]  # fmt: skip
    tables = {"job": make_table(names=names, k=3), "mixed": make_table(seed=3, k=1)}
    written = write_csv_files(tables, tmp_path)
    with zipfile.ZipFile(io.BytesIO(csv_zip(tables))) as archive:
        assert sorted(archive.namelist()) == sorted(p.name for p in tmp_path.iterdir())
        assert json.loads(archive.read(CSV_MANIFEST)) == {"job.csv": "job", "mixed.csv": "mixed"}
    back = pd.read_csv(written["job"], encoding="utf-8-sig", keep_default_na=False)
    guarded = ["<unknown>", "<missing>", "plain", "ünïcødé 東京", "new\nline", "'=SUM(A1)",
               "-1.5", "'@x"]  # fmt: skip
    assert back["category"].astype(str).tolist() == guarded
    for col in ["count", "emb_0", "emb_1", "emb_2"]:
        np.testing.assert_allclose(back[col].to_numpy(float), tables["job"][col].to_numpy(float))


def test_formula_guard_covers_cells_and_column_names_but_not_numbers() -> None:
    frame = pd.DataFrame(
        {"=cmd|' /C calc'!A0": ["=1+1", "-2", "+x", "@SUM(1)", "ok"], "n": range(5)}
    )
    out = guard_frame(frame)
    assert list(out.columns) == ["'=cmd|' /C calc'!A0", "n"]
    assert out.iloc[:, 0].tolist() == ["'=1+1", "-2", "'+x", "'@SUM(1)", "ok"]
    assert out["n"].tolist() == list(range(5))
    assert frame.iloc[0, 0] == "=1+1"  # the input is not changed
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("'=cmd")
