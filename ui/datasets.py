"""Cached data work for the pages: reading CSVs, samples, profiles, role checks.

Uploads are parsed once per file for all sessions, in a worker process
(``embedding_core.data.read_worker``), kept in the read cache (``ui/read_cache.py``: a
memory budget and an expiry) and within the limits of ``ui/limits.py``. Other pure data
work is cached with ``st.cache_data``, keyed by the dataset's identity (``Dataset.key``,
which includes a hash of uploaded bytes), so the frames themselves are passed unhashed
(leading underscore).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from embedding_core.data.roles import Roles
from ui.limits import limits
from ui.read_cache import FrameCache
from ui.state import Dataset

_log = logging.getLogger(__name__)

__all__ = [
    "sample_titles",
    "sample_dataset",
    "upload_dataset",
    "server_tables",
    "server_dataset",
    "SERVER_SAMPLE_ROWS",
    "PROFILE_ROWS",
    "profile_for",
    "check_roles",
    "with_normalised_target",
]


@st.cache_data(show_spinner=False)
def sample_titles() -> dict[str, str]:
    """Bundled sample name -> title, in the library's order."""
    from embedding_core.data.samples import list_samples

    return {info.name: info.title for info in list_samples()}


@st.cache_data(show_spinner="Loading the sample...", max_entries=8)
def _load_sample(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    from embedding_core.data.samples import load_sample

    frame, roles = load_sample(name)
    return frame, roles.to_dict()


def sample_dataset(name: str) -> Dataset:
    """The bundled sample ``name`` as a Dataset with its default roles."""
    frame, roles = _load_sample(name)
    title = sample_titles().get(name, name)
    return Dataset(
        key=f"sample:{name}",
        label=f"{title} (sample)",
        frame=frame,
        suggested=Roles.from_dict(roles),
        source="sample",
    )


@st.cache_resource(show_spinner=False)
def _read_cache() -> FrameCache:
    """The process-wide read cache (one object shared by every session)."""
    config = limits()
    return FrameCache(config.cache_mb * 1_000_000, config.cache_ttl_seconds)


def _read_upload(digest: str, name: str, data: bytes) -> pd.DataFrame:
    # In a worker process: parsing a big file would hold this server's interpreter lock
    # for up to a second at a time, and every other user's page would wait.
    from embedding_core.data.read_worker import read_csv_isolated

    config = limits()

    def read() -> pd.DataFrame:
        return read_csv_isolated(
            data,
            name=name,
            max_bytes=config.max_bytes,
            max_rows=config.max_rows,
            max_columns=config.max_columns,
        )

    with st.spinner("Reading the CSV..."):
        return _read_cache().get_or_compute(digest, read)


@st.cache_data(show_spinner=False, max_entries=16)
def _suggest(key: str, _frame: pd.DataFrame) -> dict[str, Any] | None:
    from embedding_core.data.profile import suggest_roles

    # the Data page shows the same profile: compute it once (a pass over every value)
    roles = suggest_roles(_frame, profile_for(key, _frame))
    return roles.to_dict() if roles is not None else None


def upload_dataset(name: str, data: bytes) -> Dataset:
    """Read uploaded CSV bytes into a Dataset (raises DataError with a message)."""
    digest = hashlib.sha256(data).hexdigest()
    frame = _read_upload(digest, name, data)
    _keep_upload(name, data)
    key = f"upload:{digest}"
    suggested = _suggest(key, frame)
    return Dataset(
        key=key,
        label=name,
        frame=frame,
        suggested=Roles.from_dict(suggested) if suggested else None,
        source="upload",
    )


#: Rows of a server table read for the profile, the role suggestion and the analyses.
SERVER_SAMPLE_ROWS = 100_000


def server_tables() -> list[str] | None:
    """Tables in the server's data folder (``EMBEDDING_CORE_DATA_DIR``), None if unset."""
    from embedding_core.data.data_dir import data_dir, list_tables

    root = data_dir()
    return None if root is None else list_tables(root)


@st.cache_data(show_spinner="Reading a sample of the table...", max_entries=4, ttl=3600)
def _server_sample(path: str, stamp: float) -> tuple[pd.DataFrame, int | None]:
    from embedding_core.data.data_dir import read_sample

    return read_sample(Path(path), SERVER_SAMPLE_ROWS)


def server_dataset(choice: str) -> Dataset:
    """A table of the server's data folder: a sample of its first rows, trained on in full.

    Raises ``DataError`` for a choice outside the folder or an unreadable table.
    """
    from embedding_core.data.data_dir import data_dir, resolve_table
    from embedding_core.errors import DataError

    root = data_dir()
    if root is None:
        raise DataError("The server has no data folder (EMBEDDING_CORE_DATA_DIR is not set).")
    path = resolve_table(root, choice)
    frame, total = _server_sample(str(path), path.stat().st_mtime)
    key = f"server:{choice}:{path.stat().st_mtime}"
    suggested = _suggest(key, frame)
    return Dataset(
        key=key,
        label=choice,
        frame=frame,
        suggested=Roles.from_dict(suggested) if suggested else None,
        source="server",
        path=str(path),
        total_rows=total,
    )


def _keep_upload(name: str, data: bytes) -> None:
    """Keep the bytes in the run store under their SHA-256, so a reload (``?data=``)
    finds them again (see ui/runs.py). A failure only costs that convenience."""
    from ui.runs import store

    try:
        store().save_upload(name, data)
    except OSError as exc:
        _log.warning("keeping the upload failed: %s", exc)


#: Rows the column profile and the role suggestion read: a bigger table is profiled on a
#: seeded random sample of this many rows (the Data page says so); its checks and
#: training use every row.
PROFILE_ROWS = 100_000


@st.cache_data(show_spinner="Profiling the columns...", max_entries=16)
def profile_for(key: str, _frame: pd.DataFrame) -> pd.DataFrame:
    """``profile_columns`` of the dataset with identity ``key`` (of at most
    ``PROFILE_ROWS`` of its rows, picked at random)."""
    from embedding_core.data.profile import profile_columns

    if len(_frame) > PROFILE_ROWS:
        return profile_columns(_frame.sample(n=PROFILE_ROWS, random_state=0))
    return profile_columns(_frame)


@st.cache_data(show_spinner=False, max_entries=64)
def leak_notes(key: str, target: str, task: str, _frame: pd.DataFrame) -> dict[str, str]:
    """``{column: why}`` for every other column that alone gives ``target`` away
    (``leakage.leaking_columns``, which reads a sample of a big table)."""
    from embedding_core.data.leakage import leaking_columns

    columns = [str(c) for c in _frame.columns if str(c) != target]
    leaks = leaking_columns(_frame, target, columns, task)  # type: ignore[arg-type]
    return {leak.column: leak.sentence(target) for leak in leaks}


@st.cache_data(show_spinner=False, max_entries=64)
def check_roles(key: str, roles: dict[str, Any], _frame: pd.DataFrame) -> dict[str, Any]:
    """Validate a choice of roles; returns a small dict (never the validated frame).

    Checks piece by piece (``check_choice``), each piece cached by the dataset's identity
    and the columns it reads: a click that adds one column checks that column only.

    Returns
    -------
    dict
        ``ok`` (bool), ``error`` (str or None), ``warnings`` (list of str),
        ``roles`` (resolved roles as a dict, task filled in, or None),
        ``rows`` (usable rows), ``dropped_rows`` (int), ``spelling_note`` (str or None:
        the target's classes differ only in capitals or spaces).
    """
    from embedding_core.data.validation import TargetCheck, check_choice
    from embedding_core.errors import DataError, EmbeddingCoreError

    def target_check(target: str, task: str | None) -> TargetCheck:
        check = _target_check(key, target, task, _frame)
        if isinstance(check, str):
            raise DataError(check)
        return check

    def column_note(name: str, role: str, target: TargetCheck) -> str | None:
        ok, text = _column_note(key, name, role, chosen.target, _frame, target)
        if not ok:
            raise DataError(text)
        return text

    chosen = Roles.from_dict(roles)
    try:
        target, warnings = check_choice(
            _frame, chosen, target_check=target_check, column_note=column_note
        )
    except EmbeddingCoreError as exc:
        return {
            "ok": False,
            "error": str(exc),
            "warnings": [],
            "roles": None,
            "rows": 0,
            "dropped_rows": 0,
            "spelling_note": None,
        }
    return {
        "ok": True,
        "error": None,
        "warnings": warnings,
        "roles": replace(chosen, task=target.task).to_dict(),
        "rows": target.n_rows,
        "dropped_rows": target.n_missing,
        "spelling_note": target.spelling_note,
    }


@st.cache_data(show_spinner=False, max_entries=64)
def _target_check(key: str, target: str, task: str | None, _frame: pd.DataFrame) -> Any:
    """``check_target`` of a dataset's column, or the message it raised (cached too)."""
    from embedding_core.data.validation import check_target
    from embedding_core.errors import DataError

    try:
        return check_target(_frame[target], task)  # type: ignore[arg-type]
    except DataError as exc:
        return str(exc)


@st.cache_data(show_spinner=False, max_entries=1024)
def _column_note(
    key: str, name: str, role: str, target: str, _frame: pd.DataFrame, _target: Any
) -> tuple[bool, str | None]:
    """(True, the column's warning or None) or (False, why it cannot be used), on the
    rows the target ``target`` keeps (``_target``: its ``TargetCheck``). Whether the
    column gives the target away is ``leak_notes``'s, for every column at once."""
    from embedding_core.data.validation import prepare_column
    from embedding_core.errors import DataError

    try:
        return True, prepare_column(_target.rows_of(_frame[name]), role)[1]
    except DataError as exc:
        return False, str(exc)


def with_normalised_target(dataset: Dataset, roles: Roles) -> Dataset:
    """``dataset`` with the target's classes that differ only in spelling merged.

    The new dataset keeps ``roles`` (task inferred again) as its suggestion and
    gets its own key, so cached profiles and checks are not mixed up.
    """
    from embedding_core.data.values import normalise_labels

    frame = dataset.frame.copy()
    frame[roles.target] = normalise_labels(frame[roles.target])
    return Dataset(
        key=f"{dataset.key}+labels:{roles.target}",
        label=dataset.label,
        frame=frame,
        # fewer classes now: the task is inferred again
        suggested=Roles(
            categorical=roles.categorical, numeric=roles.numeric, target=roles.target, task=None
        ),
        source=dataset.source,
    )
