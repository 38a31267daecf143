"""The bundled samples: files present, metadata consistent with the data, roles valid."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from embedding_core.data.roles import Roles
from embedding_core.data.samples import (
    DEFAULT_SAMPLE,
    SAMPLE_DIR_ENV,
    SampleInfo,
    list_samples,
    load_sample,
    sample_dir,
)
from embedding_core.data.validation import validate_roles
from embedding_core.errors import DataError

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
EXPECTED = {"bank_marketing", "german_credit", "diabetes_readmission"}


@pytest.fixture(scope="module")
def samples() -> list[SampleInfo]:
    return list_samples()


@pytest.fixture(scope="module")
def loaded(samples) -> dict[str, tuple[pd.DataFrame, Roles]]:
    return {info.name: load_sample(info.name) for info in samples}


def test_sample_dir_is_the_repository_folder():
    assert sample_dir() == SAMPLE_DIR


def test_three_samples_default_first(samples):
    assert {s.name for s in samples} == EXPECTED
    assert samples[0].name == DEFAULT_SAMPLE == "bank_marketing"


def test_amazon_access_is_not_bundled():
    assert not list(SAMPLE_DIR.glob("amazon*"))


def test_total_size_is_small():
    total = sum(p.stat().st_size for p in SAMPLE_DIR.iterdir() if p.is_file())
    assert total < 4_000_000


def test_metadata_is_complete(samples):
    for info in samples:
        assert info.title and info.description and info.domain and info.target_meaning
        assert "CC BY 4.0" in info.licence
        assert "UCI" in info.source
        assert info.path == SAMPLE_DIR / f"{info.name}.csv.gz"
        assert info.roles.task == "binary"
        assert info.positive_label == "1"


def test_domains_cover_marketing_credit_and_health(samples):
    assert {s.domain for s in samples} == {"marketing", "credit risk", "healthcare"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_data_matches_its_metadata(name, samples, loaded):
    info = next(s for s in samples if s.name == name)
    frame, roles = loaded[name]
    assert roles == info.roles
    assert len(frame) == info.n_rows
    assert set(info.columns) == set(frame.columns)  # every column is explained
    assert set(roles.features) | {roles.target} == set(frame.columns)
    assert all(str(dtype) == "str" for dtype in frame.dtypes)
    assert set(frame[roles.target].unique()) == {"0", "1"}
    result = validate_roles(frame, roles)
    assert result.roles.task == "binary"
    assert result.dropped_rows == 0
    assert result.warnings == []


def test_a_high_cardinality_field_is_included(loaded):
    frame, _ = loaded["diabetes_readmission"]
    assert min(frame[c].nunique() for c in ("diag_1", "diag_2", "diag_3")) > 500
    assert frame["payer_code"].isna().any()  # missing cells are real missing values
    assert "None" in set(frame["A1Cresult"])  # "None" means "not measured", not missing


def test_german_credit_codes_are_decoded(loaded):
    frame, _ = loaded["german_credit"]
    assert not frame["purpose"].str.match(r"^A\d+$").any()
    assert "radio/television" in set(frame["purpose"])


def test_files_are_plain_utf8_csv_inside_gzip():
    for path in SAMPLE_DIR.glob("*.csv.gz"):
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        assert text.count("\n") > 100


def test_meta_files_are_valid_json_with_the_documented_keys():
    for path in SAMPLE_DIR.glob("*.meta.json"):
        meta = json.loads(path.read_text(encoding="utf-8"))
        for key in ("title", "description", "categorical", "numeric", "target", "task"):
            assert key in meta, (path.name, key)
        for key in ("positive_label", "source", "licence", "n_rows", "columns"):
            assert key in meta, (path.name, key)


def test_readme_names_each_sample_source_and_licence():
    readme = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    for name in EXPECTED:
        assert f"## {name}" in readme
    assert readme.count("CC BY 4.0") >= 3
    assert "benchmarks/make_samples.py" in readme


def test_load_sample_defaults_to_bank_marketing():
    frame, roles = load_sample()
    assert roles.target == "subscribed"
    assert len(frame) == 41_188


def test_unknown_sample_lists_the_available_ones():
    with pytest.raises(DataError, match="no sample named 'nope'.*bank_marketing"):
        load_sample("nope")


def _write_sample(folder: Path, name: str, meta: dict) -> None:
    (folder / f"{name}.csv.gz").write_bytes(gzip.compress(b"k,y\n01,1\n02,0\n"))
    (folder / f"{name}.meta.json").write_text(json.dumps(meta), encoding="utf-8")


def test_other_folder_and_environment_override(tmp_path, monkeypatch):
    meta = {
        "title": "Tiny",
        "description": "Two rows.",
        "categorical": ["k"],
        "target": "y",
        "n_rows": 2,
        "source": "tests",
        "licence": "CC0",
    }
    _write_sample(tmp_path, "tiny", meta)
    (tmp_path / "orphan.meta.json").write_text(json.dumps(meta))  # no data file: skipped
    infos = list_samples(tmp_path)
    assert [i.name for i in infos] == ["tiny"]
    assert infos[0].roles == Roles(categorical=("k",), target="y")
    assert infos[0].positive_label is None and infos[0].columns == {}
    frame, roles = load_sample("tiny", tmp_path)
    assert frame["k"].tolist() == ["01", "02"]
    monkeypatch.setenv(SAMPLE_DIR_ENV, str(tmp_path))
    assert sample_dir() == tmp_path
    assert [i.name for i in list_samples()] == ["tiny"]


def test_broken_metadata_is_a_data_error(tmp_path):
    _write_sample(tmp_path, "bad", {"title": "no roles"})
    with pytest.raises(DataError, match="bad.meta.json lacks description, categorical"):
        list_samples(tmp_path)
    (tmp_path / "bad.meta.json").write_text("{not json")
    with pytest.raises(DataError, match="cannot be read"):
        list_samples(tmp_path)
