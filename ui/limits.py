"""Server limits that keep one upload or one user from taking the server down.

Read once from the ``[embedding_core]`` section of ``.streamlit/limits.toml``, with the
defaults below for anything not set there. The same section in ``.streamlit/config.toml``
(where it was before; Streamlit logs each key it does not know there as "not a valid
config option") is still read, and its keys win. The README's "Limits and safety"
section lists them with what was measured.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from embedding_core.data.csv_reader import DEFAULT_MAX_BYTES, DEFAULT_MAX_COLUMNS

__all__ = ["Limits", "limits"]

LIMITS = Path(__file__).resolve().parents[1] / ".streamlit" / "limits.toml"
#: Streamlit's own settings file; an ``[embedding_core]`` section there is still honoured.
CONFIG = LIMITS.with_name("config.toml")


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
def limits(path: Path = LIMITS, config: Path = CONFIG) -> Limits:
    """The limits set in the ``[embedding_core]`` sections of ``path`` and ``config`` (whose
    keys win), defaults elsewhere. A file that is missing or not TOML counts as empty."""
    section = {**_section(path), **_section(config)}
    known = {f.name for f in fields(Limits)}
    values = {k: int(v) for k, v in section.items() if k in known and isinstance(v, int)}
    return Limits(**values)


def _section(path: Path) -> dict[str, object]:
    try:
        section = tomllib.loads(path.read_text()).get("embedding_core", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return section if isinstance(section, dict) else {}
