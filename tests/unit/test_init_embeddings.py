"""Step 2 of the reuse workflow: start a model from an earlier run's vectors."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest
from synthetic import BINARY_ROLES, TINY_CONFIG

from embedding_core.data.encoding import CategoryEncoder
from embedding_core.data.roles import Roles
from embedding_core.errors import DataError, ModelFormatError
from embedding_core.model.init import align_table, load_source_tables
from embedding_core.model.run import TrainedRun
from embedding_core.model.train import train

#: Step 1 learns from the categoricals only; step 2 adds the numeric column.
STEP1_ROLES = Roles(categorical=BINARY_ROLES.categorical, numeric=(), target=BINARY_ROLES.target)


def _vectors_by_name(run: TrainedRun, field: str) -> pd.DataFrame:
    table = run.embeddings(field).set_index("category")
    return table[[c for c in table.columns if c.startswith("emb_")]]


@pytest.fixture(scope="module", params=["deepfm", "entity"])
def step1(request, binary_frame: pd.DataFrame) -> TrainedRun:
    return train(binary_frame, STEP1_ROLES, TINY_CONFIG.replace(model=request.param))


def test_frozen_rows_are_unchanged_bit_for_bit(step1: TrainedRun, binary_frame, tmp_path) -> None:
    step1.save(tmp_path / "step1")
    config = TINY_CONFIG.replace(
        model=step1.config.model, init_embeddings=tmp_path / "step1", freeze_embeddings=True
    )
    run = train(binary_frame, BINARY_ROLES, config)
    assert run.metrics["init_embeddings"] == str(tmp_path / "step1")
    assert run.metrics["frozen_fields"] == list(BINARY_ROLES.categorical)
    assert run.metrics["refit"] is True  # the final fit starts again from the loaded rows
    for field in BINARY_ROLES.categorical:
        old, new = _vectors_by_name(step1, field), _vectors_by_name(run, field)
        assert set(new.index) == set(old.index)
        assert np.array_equal(new.loc[old.index].to_numpy(), old.to_numpy())
    assert run.metrics["valid_auc"] > 0.55


def test_fine_tuned_rows_start_from_the_loaded_ones(step1: TrainedRun, binary_frame) -> None:
    config = TINY_CONFIG.replace(model=step1.config.model, init_embeddings=step1, epochs=1)
    run = train(binary_frame, BINARY_ROLES, config.replace(refit=False))
    assert run.metrics["frozen_fields"] == []
    assert run.metrics["init_embeddings"] == "a run in memory"
    old = _vectors_by_name(step1, "shop")
    new = _vectors_by_name(run, "shop").loc[old.index]
    moved = np.abs(new.to_numpy() - old.to_numpy())
    assert moved.max() > 0  # trained
    # ...but from the loaded rows: much closer to them than the step-1 vectors are to zero.
    assert moved.mean() < np.abs(old.to_numpy()).mean()


def test_name_matching_survives_reordering_and_missing_categories() -> None:
    old = pd.DataFrame(
        {
            "category": ["<unknown>", "<missing>", "paris", "rome", "oslo"],
            "is_unknown": [True, False, False, False, False],
            "is_missing": [False, True, False, False, False],
            "emb_0": [-1.0, -2.0, 10.0, 20.0, 30.0],
            "emb_1": [0.5, 0.25, 1.0, 2.0, 3.0],
        }
    ).sample(frac=1.0, random_state=3)  # row order of the earlier table does not matter
    # lima is new, rome is gone, and the order differs: <unknown>, <missing>, oslo, lima, paris
    new = CategoryEncoder().fit(["oslo", "oslo", "oslo", "lima", "lima", "paris", None])
    assert new.labels_ == ["<unknown>", "<missing>", "oslo", "lima", "paris"]
    matrix, matched = align_table("city", new, old)
    assert matrix[:, 0].tolist() == [-1.0, -2.0, 30.0, -1.0, 10.0]
    assert matched.tolist() == [True, True, True, False, True]
    matrix, matched = align_table("city", new, old[~old["is_missing"]])
    assert matrix[1, 0] == -1.0 and not matched[1]  # no missing vector earlier: the unknown one


def test_sources_dir_zip_and_errors(step1: TrainedRun, binary_frame, tmp_path) -> None:
    step1.save(tmp_path / "saved")
    archive = tmp_path / "saved.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in (tmp_path / "saved").iterdir():
            z.write(path, f"trained_run/{path.name}")
    from_dir = load_source_tables(tmp_path / "saved")
    from_zip = load_source_tables(str(archive))
    for field in step1.fields:
        np.testing.assert_array_equal(
            from_zip[field].filter(like="emb_").to_numpy(),
            step1.embeddings(field).filter(like="emb_").to_numpy(),
        )
        pd.testing.assert_frame_equal(from_dir[field], from_zip[field])
    with pytest.raises(ModelFormatError, match="No saved run"):
        load_source_tables(tmp_path / "nothing")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(archive.read_bytes()[:-200])  # cut off: not a readable zip any more
    with pytest.raises(ModelFormatError):
        load_source_tables(broken)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("readme.txt", "no run here")
    with pytest.raises(ModelFormatError, match="holds no embeddings.parquet"):
        load_source_tables(empty)
    other = Roles(categorical=("x",), numeric=(), target="y")
    with pytest.raises(DataError, match="has none of these categorical columns"):
        train(binary_frame, other, TINY_CONFIG.replace(init_embeddings=step1))


def test_deepfm_needs_the_loaded_width(binary_frame) -> None:
    entity = train(binary_frame, STEP1_ROLES, TINY_CONFIG.replace(model="entity", epochs=1))
    with pytest.raises(DataError, match=r"uses vectors of 4 \(embedding_dim\).*\(model='entity'\)"):
        train(binary_frame, STEP1_ROLES, TINY_CONFIG.replace(init_embeddings=entity))
