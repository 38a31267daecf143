"""The entity-embedding network: per-field sizes, training, saving and loading."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from synthetic import BINARY_ROLES, TINY_CONFIG

from embedding_core.errors import DataError
from embedding_core.model.config import TrainConfig
from embedding_core.model.run import TrainedRun
from embedding_core.model.sizes import (
    default_embedding_dim,
    parse_embedding_dims,
    planned_embedding_dims,
    resolve_embedding_dims,
)
from embedding_core.model.train import train

ENTITY = TINY_CONFIG.replace(model="entity")


@pytest.fixture(scope="module")
def entity_run(binary_frame: pd.DataFrame) -> TrainedRun:
    return train(binary_frame, BINARY_ROLES, ENTITY.replace(embedding_dims={"colour": 3}))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 99, 100, 101, 5000])
def test_default_size_rule(n: int) -> None:
    assert default_embedding_dim(n) == max(1, min(50, math.ceil(n / 2)))


def test_overrides_and_fixed_sizes() -> None:
    assert resolve_embedding_dims({"a": 10, "b": 400}, {"a": 12}) == {"a": 12, "b": 50}
    assert resolve_embedding_dims({"a": 10}, None, {"a": 8}) == {"a": 8}
    with pytest.raises(DataError, match="'zzz'.*not among"):
        resolve_embedding_dims({"a": 10}, {"zzz": 3})
    with pytest.raises(DataError, match="8 dimensions"):
        resolve_embedding_dims({"a": 10}, {"a": 4}, {"a": 8})


def test_parse_embedding_dims() -> None:
    assert parse_embedding_dims("job=12, month=4") == {"job": 12, "month": 4}
    assert parse_embedding_dims("a=b=3") == {"a=b": 3}
    for bad in ["job", "job=0", "job=x", "=3", ","]:
        with pytest.raises(DataError, match="name=size"):
            parse_embedding_dims(bad)


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="model"):
        TrainConfig(model="wide")
    with pytest.raises(ValueError, match=r"embedding_dims all in \[1, 1024\]"):
        TrainConfig(model="entity", embedding_dims={"a": 100_000})
    with pytest.raises(ValueError, match="only with model='entity'"):
        TrainConfig(embedding_dims={"a": 3})
    with pytest.raises(ValueError, match="init_embeddings"):
        TrainConfig(freeze_embeddings=True)
    cfg = TrainConfig.from_dict(ENTITY.replace(embedding_dims={"a": 3}).to_dict())
    assert cfg.model == "entity" and cfg.embedding_dims == {"a": 3}


def test_planned_sizes_count_kept_categories(binary_frame: pd.DataFrame) -> None:
    kept = int((binary_frame["shop"].value_counts() >= 2).sum())
    dims = planned_embedding_dims(binary_frame, ["shop", "colour"], 2, {"colour": 5})
    assert dims == {"shop": default_embedding_dim(kept), "colour": 5}


def test_entity_run_has_own_sizes(entity_run: TrainedRun, binary_frame: pd.DataFrame) -> None:
    kept = entity_run.features.encoders_["shop"]
    n_shop = kept.size - kept.n_reserved_
    assert entity_run.embedding_dims == {"shop": default_embedding_dim(n_shop), "colour": 3}
    assert entity_run.model.name == "entity"
    assert entity_run.metrics["model"] == "entity"
    assert entity_run.metrics["valid_auc"] > 0.55
    assert entity_run.embeddings("shop")["first_order"].isna().all()
    embedded = entity_run.embed(binary_frame)
    assert [c for c in embedded.columns if c.startswith("colour_emb_")] == [
        f"colour_emb_{i}" for i in range(3)
    ]


def test_entity_save_load_round_trip(entity_run: TrainedRun, binary_frame, tmp_path) -> None:
    entity_run.save(tmp_path / "run")
    stored = pd.read_parquet(tmp_path / "run" / "embeddings.parquet")
    widest = max(entity_run.embedding_dims.values())
    emb_columns = [c for c in stored.columns if c.startswith("emb_")]
    assert emb_columns == [f"emb_{i}" for i in range(widest)]
    colour = stored[stored["field"] == "colour"]
    assert colour["emb_2"].notna().all() and colour["emb_3"].isna().all()  # nulls, not zeros
    loaded = TrainedRun.load(tmp_path / "run")
    assert loaded.embedding_dims == entity_run.embedding_dims
    for field in entity_run.fields:
        pd.testing.assert_frame_equal(loaded.embeddings(field), entity_run.embeddings(field))
    np.testing.assert_array_equal(loaded.predict(binary_frame), entity_run.predict(binary_frame))


def test_entity_takes_binned_numerics(binary_frame: pd.DataFrame) -> None:
    config = ENTITY.replace(numeric_encoding="ple", epochs=1, refit=False)
    run = train(binary_frame, BINARY_ROLES, config)
    assert run.model.get_layer("numeric_encoded_flat") is not None
    assert np.isfinite(run.predict(binary_frame)).all()
