"""Atomic writes: a file or a whole directory appears complete or not at all.

Both helpers write into a temporary sibling of the target (same folder, so the same
file system) and rename it into place at the end. A crash, a full disk or an exception
in the middle leaves the target as it was and removes the temporary copy. Temporary
names start with ``.`` and end with ``.tmp``, so folder listings can skip them.

>>> with atomic_directory("runs/abc") as tmp:   # doctest: +SKIP
...     run.save(tmp)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_directory", "atomic_file", "TEMP_SUFFIX", "is_temporary"]

TEMP_SUFFIX = ".tmp"


def is_temporary(path: str | Path) -> bool:
    """True for a name these helpers use while writing (``.<name>.<random>.tmp``)."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _temp_sibling(target: Path, *, directory: bool) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}."
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=target.parent))
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=target.parent)
    os.close(fd)
    return Path(name)


@contextlib.contextmanager
def atomic_directory(target: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temporary directory; on success it becomes ``target``.

    Parameters
    ----------
    target : str or Path
        The directory to create. Its parent is created if needed.
    overwrite : bool, default=False
        Replace an existing non-empty ``target`` (the old one is moved aside first and
        deleted only after the new one is in place). Without it, an existing non-empty
        ``target`` raises ``FileExistsError`` and the new copy is discarded; an empty
        one is replaced.

    Raises
    ------
    FileExistsError
        ``target`` exists, is not empty, and ``overwrite`` is False.
    """
    target = Path(target)
    tmp = _temp_sibling(target, directory=True)
    try:
        yield tmp
        old: Path | None = None
        if overwrite and target.exists() and any(target.iterdir()):
            old = _temp_sibling(target, directory=True)
            os.replace(target, old)  # onto an empty directory: allowed
        try:
            os.replace(tmp, target)
        except OSError as exc:
            if old is not None:
                os.replace(old, target)  # put the previous one back
            if target.is_dir() and any(target.iterdir()):
                raise FileExistsError(
                    f"'{target}' already exists and is not empty: choose another name "
                    "or allow overwriting."
                ) from exc
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """Yield a temporary file path; on success it replaces ``target`` in one step."""
    target = Path(target)
    tmp = _temp_sibling(target, directory=False)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
