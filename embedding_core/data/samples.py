"""The bundled sample datasets: what they are and how to open them with default roles.

Each sample is ``sample_data/<name>.csv.gz`` with ``sample_data/<name>.meta.json``
beside it (title, description, default roles, source, licence, column meanings).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from embedding_core.data.csv_reader import read_csv
from embedding_core.data.roles import Roles
from embedding_core.errors import DataError

__all__ = [
    "DEFAULT_SAMPLE",
    "SAMPLE_DIR_ENV",
    "SampleInfo",
    "list_samples",
    "load_sample",
    "sample_dir",
]

DEFAULT_SAMPLE = "bank_marketing"
SAMPLE_DIR_ENV = "EMBEDDING_SAMPLE_DIR"
_REQUIRED = ("title", "description", "categorical", "target", "n_rows", "source", "licence")


@dataclass(frozen=True)
class SampleInfo:
    """Description of one bundled dataset.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"bank_marketing"``.
    title : str
        Short human title.
    description : str
        A few sentences for a business audience.
    path : Path
        The ``.csv.gz`` file.
    roles : Roles
        Default roles (categorical fields, numeric inputs, target, task).
    n_rows : int
    source : str
    licence : str
    domain : str
        Business area, e.g. "marketing".
    target_meaning : str
        What the positive target value means, in plain words.
    positive_label : str or None
        The target value counted as "positive" for binary targets.
    columns : dict of str to str
        Plain-language meaning of each column.
    """

    name: str
    title: str
    description: str
    path: Path
    roles: Roles
    n_rows: int
    source: str
    licence: str
    domain: str = ""
    target_meaning: str = ""
    positive_label: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


def sample_dir() -> Path:
    """Folder holding the samples: ``$EMBEDDING_SAMPLE_DIR`` or the repository's ``sample_data``."""
    override = os.environ.get(SAMPLE_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "sample_data"


def _info(meta_path: Path) -> SampleInfo:
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"The sample description {meta_path.name} cannot be read ({exc}).") from exc
    missing = [k for k in _REQUIRED if k not in meta]
    if missing:
        raise DataError(
            f"The sample description {meta_path.name} lacks {', '.join(missing)}: "
            "regenerate it (see sample_data/README.md)."
        )
    name = meta_path.name.removesuffix(".meta.json")
    roles = Roles(
        categorical=tuple(meta["categorical"]),
        target=meta["target"],
        numeric=tuple(meta.get("numeric", ())),
        task=meta.get("task"),
    )
    positive = meta.get("positive_label")
    return SampleInfo(
        name=name,
        title=meta["title"],
        description=meta["description"],
        path=meta_path.with_name(f"{name}.csv.gz"),
        roles=roles,
        n_rows=int(meta["n_rows"]),
        source=meta["source"],
        licence=meta["licence"],
        domain=meta.get("domain", ""),
        target_meaning=meta.get("target_meaning", ""),
        positive_label=None if positive is None else str(positive),
        columns=dict(meta.get("columns", {})),
    )


def list_samples(directory: str | Path | None = None) -> list[SampleInfo]:
    """The bundled samples, the default one first, then by name.

    Parameters
    ----------
    directory : str, Path or None
        Where to look; defaults to ``sample_dir()``.

    Returns
    -------
    list of SampleInfo
        Only samples whose data file exists.
    """
    folder = Path(directory) if directory is not None else sample_dir()
    infos = [_info(p) for p in sorted(folder.glob("*.meta.json"))]
    infos = [i for i in infos if i.path.is_file()]
    return sorted(infos, key=lambda i: (i.name != DEFAULT_SAMPLE, i.name))


def load_sample(
    name: str = DEFAULT_SAMPLE, directory: str | Path | None = None
) -> tuple[pd.DataFrame, Roles]:
    """Read a bundled sample and its default roles.

    Parameters
    ----------
    name : str, default="bank_marketing"
    directory : str, Path or None
        Where to look; defaults to ``sample_dir()``.

    Returns
    -------
    frame : pandas.DataFrame
        All columns as text, exactly as ``read_csv`` returns an uploaded file.
    roles : Roles

    Raises
    ------
    DataError
        No sample has that name.

    Examples
    --------
    >>> frame, roles = load_sample("german_credit")
    >>> roles.target
    'bad_credit'
    """
    samples = {i.name: i for i in list_samples(directory)}
    if name not in samples:
        known = ", ".join(samples) or "none found"
        raise DataError(f"There is no sample named {name!r}; available samples: {known}.")
    info = samples[name]
    return read_csv(info.path, name=info.path.name), info.roles
