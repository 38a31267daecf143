"""Bytes for the Export page's downloads, cached per run id."""

from __future__ import annotations

import io
import logging
import re
import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from ui.explore_data import all_tables

if TYPE_CHECKING:  # pragma: no cover
    from embedding_core.model.run import TrainedRun
    from ui.state import RunInfo

__all__ = [
    "about",
    "slug",
    "file_prefix",
    "sklearn_snippet",
    "projector_files",
    "projector_zip_bytes",
    "parquet_bytes",
    "saved_run_zip",
    "csv_zip_bytes",
    "report_html",
    "embedded_rows_csv",
]

_log = logging.getLogger(__name__)


def slug(name: str) -> str:
    """A file-name-safe version of a field or file name, shortened as the exports' are."""
    from embedding_core.reuse.export import short_stem

    stem = re.sub(r"\.(csv|tsv|txt)(\.gz)?$", "", str(name), flags=re.IGNORECASE)
    return short_stem(re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "data", name)


@st.cache_data(show_spinner=False, max_entries=64)
def projector_files(run_id: str, field_name: str, _run: TrainedRun) -> tuple[str, str]:
    """(vectors TSV, metadata TSV) of one field."""
    from embedding_core.reuse.export import to_projector_tsv

    return to_projector_tsv(all_tables(run_id, _run)[field_name])


@st.cache_data(show_spinner=False, max_entries=8)
def projector_zip_bytes(run_id: str, _run: TrainedRun) -> bytes:
    """Every field's projector files in one zip."""
    from embedding_core.reuse.export import projector_zip

    return projector_zip(all_tables(run_id, _run))


@st.cache_data(show_spinner=False, max_entries=8)
def parquet_bytes(run_id: str, _run: TrainedRun) -> bytes:
    """All embedding tables as one Parquet file."""
    from embedding_core.reuse.export import tables_to_parquet_bytes

    return tables_to_parquet_bytes(all_tables(run_id, _run))


@st.cache_data(show_spinner=False, max_entries=8)
def csv_zip_bytes(run_id: str, _run: TrainedRun) -> bytes:
    """One CSV per field (formula-guarded), zipped."""
    from embedding_core.reuse.export import csv_zip

    return csv_zip(all_tables(run_id, _run))


@st.cache_data(show_spinner="Writing the report...", max_entries=8)
def report_html(
    run_id: str, lift_id: str, _run: TrainedRun, _lift: dict | None, about: str = ""
) -> bytes:
    """The one-file HTML report (``lift_id`` names the lift result included, "" if none;
    ``about``: the line under its heading)."""
    from embedding_core.reuse.report import build_report

    return build_report(_run, lift=_lift, about=about or None).encode("utf-8")


def about(info: RunInfo) -> str:
    """Which run a report shows, for its reader: name, data and when it was trained."""
    from embedding_core.reuse.report import about_run

    return about_run(info.name, info.dataset_label, info.created)


def file_prefix(info: RunInfo) -> str:
    """The start of every download's file name: the run's name (or its data's), so the
    files of two runs do not overwrite each other in a downloads folder."""
    return slug(info.name or info.dataset_label or "run")


@st.cache_data(show_spinner="Saving the model...", max_entries=4)
def saved_run_zip(
    run_id: str, _run: TrainedRun, folder_name: str = "trained_run", _info: RunInfo | None = None
) -> bytes:
    """``run.save`` into ``folder_name``, zipped (the .keras model included), with the
    run's name and data in its ``run.json`` when ``_info`` is given, so the Runs page
    adds it back under them (the training rows are not included)."""
    from embedding_core.model.store import run_metadata, write_run_json

    with tempfile.TemporaryDirectory(prefix="embedding_run_") as tmp:
        folder = Path(tmp) / folder_name
        _run.save(folder)
        if _info is not None:
            meta = run_metadata(
                _run,
                run_id=run_id,
                name=_info.name,
                dataset=_info.dataset_label,
                rows=_info.n_rows,
                dataset_key=_info.dataset_key,
            )
            if _info.created:  # when it was trained, not exported
                meta["created"] = datetime.fromtimestamp(_info.created, UTC).isoformat(
                    timespec="seconds"
                )
            write_run_json(folder, meta)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, arcname=str(Path(folder_name) / path.relative_to(folder)))
        return buffer.getvalue()


def embedded_rows_csv(run: TrainedRun, frame: pd.DataFrame) -> Callable[[], bytes]:
    """A callable building the CSV of ``run.embed(frame)`` (for a deferred download)."""

    def build() -> bytes:
        from embedding_core.reuse.export import to_csv_bytes

        try:
            return to_csv_bytes(run.embed(frame))
        except Exception:  # the download thread has no page to show it on: log it
            _log.exception("embedding the rows for download failed")
            raise

    return build


def sklearn_snippet(info: RunInfo) -> str:
    """Python that puts this run's vectors into a scikit-learn model next to its numeric
    columns, once the saved-run zip (``file_prefix``.zip) is unzipped next to it."""
    run = info.run
    regression = run.roles.task == "regression"
    model = "HistGradientBoostingRegressor" if regression else "HistGradientBoostingClassifier"
    columns = ", ".join(repr(c) for c in run.roles.features)
    return "\n".join(
        [
            "import pandas as pd",
            f"from sklearn.ensemble import {model}",
            "from sklearn.pipeline import make_pipeline",
            "",
            "from embedding_core import EmbeddingLookupEncoder",
            "",
            "# the Saved run zip above, unzipped into this folder (no TensorFlow needed)",
            f"encoder = EmbeddingLookupEncoder.from_saved({file_prefix(info)!r})",
            f"model = make_pipeline(encoder, {model}())",
            "",
            "frame = pd.read_csv('your_data.csv')  # with the run's columns",
            f"X, y = frame[[{columns}]], frame[{run.roles.target!r}]",
            "model.fit(X, y)  # categorical columns become their vectors; numbers pass through",
        ]
    )
