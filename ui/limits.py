"""Server limits that keep one upload or one user from taking the server down.

Read once from the ``[embedding_core]`` section of ``.streamlit/config.toml`` (next
to Streamlit's own ``server.maxUploadSize``), with the defaults below for anything
not set there. The README's "Limits and safety" section lists them with what was
measured.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from embedding_core.data.csv_reader import DEFAULT_MAX_BYTES, DEFAULT_MAX_COLUMNS

__all__ = ["Limits", "limits"]

CONFIG = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"


@dataclass(frozen=True)
class Limits:
    """Per-upload and server-wide limits of the app.

    Attributes
    ----------
    max_bytes : int
        Largest upload once unpacked (gzip), in bytes; reading stops as soon as it is passed.
    max_rows : int
        Most data rows of an upload; parsing stops as soon as it is passed.
    max_columns : int
        Most columns of an upload, checked on the header line before any parsing.
    max_trainings : int
        Trainings (and Lift runs) that run at once on the server; others wait in a
        queue that shows their place. 0 means the number of CPU cores.
    cache_mb : int
        Memory budget of the read cache shared by all sessions, in MB.
    cache_ttl_seconds : int
        An uploaded file not used for this long leaves the read cache.
    training_process : int
        1: trainings run in a training process of their own, which imports TensorFlow as
        the server starts (``ui.trainer``; about 0.6-0.8 GB more memory); 0: they run in
        the server's process, as before round 7.
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = 2_000_000
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_trainings: int = 0
    cache_mb: int = 512
    cache_ttl_seconds: int = 3600
    training_process: int = 1

    @property
    def trainings(self) -> int:
        """``max_trainings``, with 0 resolved to the number of CPU cores."""
        return self.max_trainings if self.max_trainings > 0 else max(os.cpu_count() or 1, 1)


@functools.cache
def limits(path: Path = CONFIG) -> Limits:
    """The limits set in ``path`` (``[embedding_core]`` section), defaults elsewhere."""
    try:
        section = tomllib.loads(path.read_text()).get("embedding_core", {})
    except (OSError, tomllib.TOMLDecodeError):
        section = {}
    known = {f.name for f in fields(Limits)}
    values = {k: int(v) for k, v in section.items() if k in known and isinstance(v, int)}
    return Limits(**values)
