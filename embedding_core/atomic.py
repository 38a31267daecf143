"""Write output files and directories atomically: a temporary sibling, then a rename.

A crash, a full disk or an error half-way never leaves a half-written output where a
reader (the CLI's caller, the run store) could mistake it for a finished one, and an
existing output is replaced only when the caller says so. One home for this: the CLI's
``--out``, ``TrainedRun.save`` and the run store all call it.

Examples
--------
>>> from pathlib import Path
>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> with atomic_directory(root / "run") as tmp:
...     _ = (tmp / "a.txt").write_text("done")
>>> (root / "run" / "a.txt").read_text()
'done'
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from embedding_core.errors import DataError

__all__ = ["atomic_directory", "atomic_file", "check_output_dir", "check_output_file"]


def _empty_path_error(option: str) -> DataError:
    return DataError(f"{option} is empty: give a file or directory name.")


def check_output_dir(path: str | Path, *, overwrite: bool = False, option: str = "--out") -> Path:
    """Check, before any work, that a directory can be written at ``path``.

    Parameters
    ----------
    path : str or Path
        The directory to be written (it may not exist yet).
    overwrite : bool, default=False
        Allow replacing an existing non-empty directory.
    option : str, default="--out"
        How the caller names this path in messages.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    DataError
        The path is empty, is a file, is a non-empty directory and ``overwrite`` is
        false, or its parent cannot be created or written.
    """
    if not str(path).strip():
        raise _empty_path_error(option)
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise DataError(f"{option} {_short(out)} is a file, not a directory: choose another path.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise DataError(
            f"{option} {_short(out)} already exists and is not empty: choose a new directory "
            "or pass --overwrite to replace it."
        )
    _check_parent_writable(out, option)
    return out


def check_output_file(
    path: str | Path,
    *,
    inputs: tuple[str | Path, ...] = (),
    option: str = "--out",
) -> Path:
    """Check, before any work, that a file can be written at ``path``.

    Parameters
    ----------
    path : str or Path
        The file to be written (replaced if it exists).
    inputs : tuple of paths, default=()
        Files the command reads: writing over one of them is refused.
    option : str, default="--out"
        How the caller names this path in messages.

    Raises
    ------
    DataError
        The path is empty, is a directory, is one of ``inputs``, or its folder cannot
        be created or written.
    """
    if not str(path).strip():
        raise _empty_path_error(option)
    out = Path(path)
    if out.is_dir():
        raise DataError(f"{option} {_short(out)} is a directory: give a file name.")
    for source in inputs:
        if _same_file(out, Path(source)):
            raise DataError(
                f"{option} {_short(out)} is the input file: choose another name so the "
                "input is not overwritten."
            )
    _check_parent_writable(out, option)
    return out


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _check_parent_writable(out: Path, option: str) -> None:
    parent = out.absolute().parent
    existing = parent
    while not existing.exists():  # the nearest folder that exists decides
        existing = existing.parent
    if not existing.is_dir():
        raise DataError(f"{option} {_short(out)}: {_short(existing)} is not a directory.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DataError(
            f"{option} {_short(out)} cannot be written (no permission in {_short(existing)})."
        )


def _short(path: Path, limit: int = 120) -> str:
    text = repr(str(path))  # quoted, control characters escaped
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _temporary_sibling(out: Path, kind: str) -> Path:
    return out.parent / f".{out.name[:80]}.{kind}-{secrets.token_hex(6)}"


@contextlib.contextmanager
def atomic_directory(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``path`` when the block ends without error.

    Parameters
    ----------
    path : str or Path
        The final directory. Its parent is created if needed.
    overwrite : bool, default=False
        Replace an existing non-empty directory (its old content is removed once the
        new one is in place). An existing empty directory is always replaced.

    Raises
    ------
    DataError
        ``path`` is a non-empty directory and ``overwrite`` is false (checked before
        and again at the rename, so a concurrent writer is never clobbered).

    Notes
    -----
    On error the temporary directory is removed and ``path`` is left as it was.
    """
    out = Path(path)
    check_output_dir(out, overwrite=overwrite, option="output")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_sibling(out, "tmp")
    tmp.mkdir()
    try:
        yield tmp
        _move_into_place(tmp, out, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _move_into_place(tmp: Path, out: Path, overwrite: bool) -> None:
    try:
        os.rename(tmp, out)  # atomic; succeeds when `out` is absent or an empty directory
        return
    except OSError:
        if not out.is_dir() or (any(out.iterdir()) and not overwrite):
            raise DataError(
                f"output {_short(out)} appeared while writing and is not empty: "
                "choose a new directory or pass --overwrite to replace it."
            ) from None
    old = _temporary_sibling(out, "old")
    os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "w", **open_kwargs: object) -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; rename it to ``path`` on success.

    Parameters
    ----------
    path : str or Path
        The final file (replaced if it exists).
    mode : {"w", "wb"}, default="w"
    **open_kwargs
        Passed to ``open`` (``encoding``, ``newline``).
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_sibling(out, "tmp")
    try:
        with open(tmp, mode, **open_kwargs) as fh:  # noqa: PTH123
            yield fh
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
