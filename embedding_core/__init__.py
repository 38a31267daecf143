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
    "Roles": "roles",
    "TrainConfig": "config",
    "CategoryEncoder": "encoding",
    "train_valid_split": "split",
    "read_csv": "csv_reader",
    "profile_columns": "profile",
    "suggest_roles": "profile",
    "infer_task": "validation",
    "validate_roles": "validation",
    "list_samples": "samples",
    "load_sample": "samples",
    "train": "train",
    "Progress": "train",
    "TrainedRun": "run",
    "extract_embeddings": "embeddings",
    "project": "projection",
    "sample_for_projection": "projection",
    "cluster_labels": "clustering",
    "nearest_neighbours": "neighbours",
    "field_interactions": "interactions",
    "describe_top_pairs": "interactions",
    "write_projector_files": "export",
    "tables_to_parquet": "export",
    "read_parquet_tables": "export",
    "run_lift": "lift",
    "LiftResult": "lift",
    "LiftProgress": "lift",
    "baseline_row": "whatif",
    "predict_row": "whatif",
    "compare_scenarios": "whatif",
    "sweep": "whatif",
    "DeepFMEmbeddingEncoder": "transformer",
    "EmbeddingLookupEncoder": "transformer",
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
