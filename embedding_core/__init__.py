"""embedding_core: learn, explore and reuse DeepFM embeddings of categorical columns.

Public names are imported lazily, so ``import embedding_core`` is cheap and never
pulls in TensorFlow (or Streamlit): TensorFlow loads on the first training or
model-loading call.

>>> import embedding_core as ec
>>> frame, roles = ec.load_sample("german_credit")          # doctest: +SKIP
>>> run = ec.train(frame, roles, ec.TrainConfig(epochs=5))  # doctest: +SKIP
>>> run.embeddings("purpose").head()                         # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "EmbeddingCoreError": "errors",
    "DataError": "errors",
    "ModelFormatError": "errors",
    "TrainingCancelled": "errors",
    "Roles": "data.roles",
    "TrainConfig": "model.config",
    "CategoryEncoder": "data.encoding",
    "train_valid_split": "data.split",
    "read_csv": "data.csv_reader",
    "profile_columns": "data.profile",
    "suggest_roles": "data.profile",
    "leaking_columns": "data.leakage",
    "infer_task": "data.task",
    "validate_roles": "data.validation",
    "normalise_labels": "data.values",
    "list_samples": "data.samples",
    "load_sample": "data.samples",
    "train": "model.train",
    "Progress": "model.train",
    "prepare_training": "model.prepare",
    "PreparedTraining": "model.prepare",
    "TrainedRun": "model.run",
    "extract_embeddings": "model.run",
    "project": "analysis.projection",
    "sample_for_projection": "analysis.projection",
    "cluster_labels": "analysis.clustering",
    "nearest_neighbours": "analysis.neighbours",
    "field_interactions": "analysis.interactions",
    "describe_top_pairs": "analysis.interactions",
    "write_projector_files": "reuse.export",
    "tables_to_parquet": "model.embeddings_file",
    "read_parquet_tables": "model.embeddings_file",
    "run_lift": "analysis.lift",
    "LiftResult": "analysis.lift",
    "LiftProgress": "analysis.lift",
    "baseline_row": "analysis.whatif",
    "predict_row": "analysis.whatif",
    "compare_scenarios": "analysis.whatif",
    "sweep": "analysis.whatif",
    "RunStore": "model.store",
    "RunRecord": "model.store",
    "compare_runs": "analysis.compare",
    "stability": "analysis.stability",
    "DeepFMEmbeddingEncoder": "reuse.transformer",
    "EmbeddingLookupEncoder": "reuse.transformer",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'embedding_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"embedding_core.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
