"""Atomic writes of output directories and files, and up-front output checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from embedding_core.atomic import (
    atomic_directory,
    atomic_file,
    check_output_dir,
    check_output_file,
)
from embedding_core.errors import DataError


def test_directory_appears_only_when_the_block_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "a" / "run"
    with atomic_directory(out) as tmp:
        (tmp / "x.txt").write_text("1")
        assert not out.exists()
    assert (out / "x.txt").read_text() == "1"
    assert [p.name for p in out.parent.iterdir()] == ["run"]  # no temporary left behind


def test_failure_leaves_the_old_directory_untouched(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_directory(out, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
        raise RuntimeError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert [p.name for p in out.iterdir()] == ["old.txt"]


def test_non_empty_directory_needs_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("keep")
    with pytest.raises(DataError, match="--overwrite"), atomic_directory(out):
        pass
    assert (out / "keep.txt").exists()
    with atomic_directory(out, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_empty_existing_directory_is_replaced_without_overwrite(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    with atomic_directory(tmp_path / "run") as tmp:
        (tmp / "f").write_text("")
    assert (tmp_path / "run" / "f").exists()


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_output_path_is_refused(bad: str) -> None:
    with pytest.raises(DataError, match="empty"):
        check_output_dir(bad)
    with pytest.raises(DataError, match="empty"):
        check_output_file(bad)


def test_output_checks_refuse_files_dirs_inputs_and_read_only(tmp_path: Path) -> None:
    f = tmp_path / "data.csv"
    f.write_text("a\n1\n")
    with pytest.raises(DataError, match="is a file"):
        check_output_dir(f)
    with pytest.raises(DataError, match="is a directory"):
        check_output_file(tmp_path)
    with pytest.raises(DataError, match="input file"):
        check_output_file(tmp_path / "." / "data.csv", inputs=(f,))
    assert check_output_file(tmp_path / "new" / "out.csv", inputs=(f,)).name == "out.csv"
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(DataError, match="permission"):
                check_output_dir(locked / "run")
        finally:
            locked.chmod(0o700)


def test_atomic_file_replaces_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old")
    with pytest.raises(ValueError), atomic_file(out) as fh:
        fh.write("half")
        raise ValueError("boom")
    assert out.read_text() == "old"
    with atomic_file(out) as fh:
        fh.write("new")
    assert out.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
