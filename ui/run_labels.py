"""How runs are named and paired for people: picker labels, model names, Compare's
first pair, the name an uploaded zip gives a run."""

from __future__ import annotations

import json
import re
from typing import Any

from embedding_core.model.store import RunRecord
from ui.export_data import slug

__all__ = [
    "MODEL_NAMES",
    "model_name",
    "time_first",
    "default_pair",
    "zip_run_name",
    "zip_file_name",
    "distinct_name",
]

#: How the pickers and tables name a run's model (``TrainConfig.model``).
MODEL_NAMES = {"deepfm": "DeepFM", "entity": "entity"}


def model_name(record: RunRecord) -> str:
    """The run's model as the tables name it ("DeepFM", "entity")."""
    model = str(record.config.get("model", "deepfm"))
    return MODEL_NAMES.get(model, model)


def time_first(name: str, created: str) -> str:
    """A run's label for a narrow picker: its time first (a run name the app gave ends
    with it, "<data>, YYYY-MM-DD HH:MM", and a picker cuts the end of a long name)."""
    match = re.fullmatch(r"(?s)(.*?),? *(\d{4}-\d\d-\d\d \d\d:\d\d)", name)
    if match and match.group(1).strip():
        return f"{match.group(2)} · {match.group(1).strip()}"
    return f"{created.replace('T', ' ')[:16]} · {name}"


def _vector_sizes(record: RunRecord) -> tuple[str, Any, Any]:
    config = record.config
    model = str(config.get("model", "deepfm"))
    sizes = config.get("embedding_dims") if model == "entity" else None
    return model, config.get("embedding_dim"), json.dumps(sizes, sort_keys=True)


def default_pair(records: list[RunRecord]) -> tuple[str, str]:
    """Compare's first runs A and B (ids), from at least two records, newest first: of
    the runs a user trained (not a stability check's extra seeds), the newest that can be
    aligned with an older one (same model and vector sizes, a field in common) as B, and
    the newest such older one as A; failing any, the two newest."""
    own = [r for r in records if not r.sibling_of]
    pool = own if len(own) >= 2 else records
    for i, b in enumerate(pool):  # the newest run that has a partner, and its newest
        for a in pool[i + 1 :]:
            if _vector_sizes(a) == _vector_sizes(b) and set(a.fields) & set(b.fields):
                return a.id, b.id
    return pool[1].id, pool[0].id


def zip_run_name(file_name: str) -> str:
    """The name an uploaded run zip's file gives its run when the zip names none itself
    (``RunStore.import_zip``'s ``default_name``): the file's name without ``.zip``, or ""
    for the Runs page's download name before round 23, ``run-<id>.zip``, which a browser
    may have numbered (``run-<id> (1).zip``)."""
    stem = re.sub(r"\.zip$", "", file_name.strip(), flags=re.IGNORECASE)
    return "" if re.fullmatch(r"run-[0-9a-f]{24}(?: ?\(\d+\))?", stem) else stem


def zip_file_name(record: RunRecord) -> str:
    """The Runs page's download name for a run: its name (else its data's) as the Export
    page names its files (``export_data.slug``), so a downloads folder tells runs apart."""
    return f"{slug(record.name or record.dataset or 'run')}.zip"


def distinct_name(name: str, dataset_label: str) -> str:
    """What tells a run from the other runs of its data, for a page's header: its whole
    name, or what follows "<data>, " in a name the app gave ("2026-12-02 11:28",
    "seed 3"); "" for a run without a name (not saved in the store)."""
    prefix = f"{dataset_label}, "
    if dataset_label and name.startswith(prefix) and len(name) > len(prefix):
        return name[len(prefix) :]
    return name
