"""Every foreseeable CLI refusal: exit code 2, one line on stderr, nothing written.

Arguments are checked before any data is read (``--data`` points nowhere in the
argument tests, so a refusal that names the argument proves the order).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_core.cli import main

BASE = ["train", "--data", "does-not-exist.csv", "--categorical", "a", "--target", "y"]


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own refusals
        return int(exc.code or 0)


def _one_line(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--hidden-units", "1.5,a"], "--hidden-units"),
        (["--hidden-units", "0"], "hidden_units"),
        (["--seed", "-1"], "--seed"),
        (["--seed", str(2**40)], "--seed"),
        (["--max-rows", "-5"], "--max-rows"),
        (["--learning-rate", "inf"], "--learning-rate"),
        (["--l2", "nan"], "--l2"),
        (["--dropout", "1.5"], "dropout"),
        (["--valid-fraction", "1"], "valid_fraction"),
        (["--valid-fraction", "x"], "--valid-fraction"),
        (["--ema-epochs", "-1"], "ema_epochs"),
        (["--ema-epochs", "nan"], "--ema-epochs"),
        (["--embedding-dim", "100000000"], "embedding_dim"),
        (["--epochs", "0"], "--epochs"),
        (["--out", ""], "--out is empty"),
    ],
)
def test_bad_arguments_are_refused_before_the_data_is_read(
    extra: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*BASE, "--out", "never-written", *extra]
    assert _run(argv) == 2
    err = _one_line(capsys, needle)
    assert "does-not-exist" not in err
    assert not Path("never-written").exists()


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def _frame(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"a": rng.choice(["p", "q", "r"], n), "x": rng.normal(size=n), "y": rng.integers(0, 2, n)}
    )


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda f: f.assign(y=np.nan), "no values"),
        (lambda f: f.assign(x=np.where(np.arange(len(f)) % 2, 1e308, -1e308)), "too large"),
    ],
)
def test_unusable_data_is_refused(change, needle, tmp_path, capsys) -> None:
    data = _write(change(_frame()), tmp_path / "d.csv")
    argv = ["train", "--data", str(data), "--categorical", "a", "--numeric", "x", "--target",
            "y", "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    assert _run(argv) == 2
    _one_line(capsys, needle)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "streamed"])
@pytest.mark.parametrize(
    "size",
    [
        ["--embedding-dim", "1024", "--hidden-units", "8192,8192"],
        ["--model", "entity", "--hidden-units", "8192,8192,8192"],
    ],
    ids=["deepfm", "entity"],
)
def test_an_oversized_model_is_refused_before_it_is_built(
    streamed: bool, size: list[str], tmp_path, capsys
) -> None:
    """One size check for both training paths: exit 2 and one line, nothing written."""
    frame = _frame()
    if streamed:
        (tmp_path / "shards").mkdir()
        frame.to_parquet(tmp_path / "shards" / "part-0.parquet")
        data = tmp_path / "shards"
    else:
        data = _write(frame, tmp_path / "d.csv")
    argv = ["train", "--data", str(data), "--categorical", "a", "--target", "y", "--out",
            str(tmp_path / "run"), "--quiet", *size]  # fmt: skip
    assert _run(argv) == 2
    _one_line(capsys, "weights", "more than the limit of 50,000,000")
    assert not (tmp_path / "run").exists()


def test_output_paths_are_checked_up_front(tmp_path, capsys) -> None:
    data = _write(_frame(), tmp_path / "d.csv")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    argv = ["train", "--data", str(data), "--categorical", "a", "--target", "y", "--out",
            str(busy), "--quiet", "--epochs", "1"]  # fmt: skip
    assert _run(argv) == 2
    _one_line(capsys, "--overwrite")
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    for command in ("predict", "embed"):
        argv = [command, "--model", str(busy), "--data", str(data), "--out", str(data)]
        assert _run(argv) == 2
        _one_line(capsys, "input file")
    assert pd.read_csv(data).shape == _frame().shape


def test_model_directory_tampering_is_refused(
    tiny_binary_run_dir: Path, tiny_multiclass_run, binary_frame, tmp_path: Path, capsys
) -> None:
    nested = tmp_path / "nested"
    shutil.copytree(tiny_binary_run_dir, nested)
    (nested / "metrics.json").write_text("[" * 100_000 + "]" * 100_000)
    assert _run(["info", "--model", str(nested)]) == 2
    _one_line(capsys, "nested too deeply")

    swapped = tmp_path / "swapped"
    shutil.copytree(tiny_binary_run_dir, swapped)
    other = tiny_multiclass_run.save(tmp_path / "other")
    shutil.copy(other / "model.keras", swapped / "model.keras")
    data = _write(binary_frame.head(10), tmp_path / "d.csv")
    argv = ["predict", "--model", str(swapped), "--data", str(data), "--out", str(tmp_path / "p")]
    assert _run(argv) == 2
    _one_line(capsys, "does not belong to this run")


def test_outputs_escape_terminal_sequences_and_guard_formulas(
    tiny_binary_run_dir: Path, binary_frame: pd.DataFrame, tmp_path: Path, capsys
) -> None:
    hostile = "\x1b]0;pwned\x07=1+2\nrow"
    rows = binary_frame.head(60).assign(note="plain")
    rows.loc[0, "note"] = hostile
    data = _write(rows, tmp_path / "in.csv")
    assert _run(["profile", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b" in out
    guarded, raw = tmp_path / "guarded.csv", tmp_path / "raw.csv"
    assert _run(["predict", "--model", str(tiny_binary_run_dir), "--data", str(data),
                 "--out", str(guarded)]) == 0  # fmt: skip
    assert _run(["predict", "--model", str(tiny_binary_run_dir), "--data", str(data),
                 "--out", str(raw), "--raw"]) == 0  # fmt: skip
    assert pd.read_csv(raw)["note"].iloc[0] == hostile
    assert pd.read_csv(guarded)["note"].iloc[0] == hostile  # no formula start: unchanged
    formula = _write(binary_frame.head(5).assign(note="=cmd|'/C calc'!A0"), tmp_path / "f.csv")
    assert _run(["embed", "--model", str(tiny_binary_run_dir), "--data", str(formula),
                 "--out", str(guarded)]) == 0  # fmt: skip
    assert (pd.read_csv(guarded)["note"] == "'=cmd|'/C calc'!A0").all()


def test_categorical_accepts_repeated_flags_and_quoted_names() -> None:
    from embedding_core.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(
        ["train", "--data", "d", "--target", "y", "--out", "o",
         "--categorical", 'a,"price, usd"', "--categorical", "b"]
    )  # fmt: skip
    assert args.categorical == ("a", "price, usd", "b")
    args = parser.parse_args(["train", "--data", "d", "--target", "y", "--out", "o",
                              "--categorical", "a, b,c"])  # fmt: skip
    assert args.categorical == ("a", "b", "c")


@pytest.mark.slow
def test_stderr_is_one_line_after_loading_tensorflow(tiny_binary_run_dir: Path, tmp_path) -> None:
    """A refusal after TensorFlow loaded: its C++ start-up lines must not reach stderr."""
    swapped = tmp_path / "m"
    shutil.copytree(tiny_binary_run_dir, swapped)
    (swapped / "features.json").write_text(json.dumps({"broken": True}))
    proc = subprocess.run(
        [sys.executable, "-m", "embedding_core", "predict", "--model", str(swapped),
         "--data", str(tmp_path / "none.csv"), "--out", str(tmp_path / "p.csv")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.parametrize(
    ("labels", "folds", "needle"),
    [
        (lambda n: np.where(np.arange(n) == 0, "c", np.where(np.arange(n) % 2, "a", "b")), "3",
         "class 'c'"),
        (lambda n: (np.arange(n) == 0).astype(int), None, "class '1'"),
    ],
    ids=["multiclass-singleton", "binary-one-positive"],
)  # fmt: skip
def test_lift_refuses_a_class_too_rare_for_its_splits(labels, folds, needle, tmp_path, capsys):
    """One line naming the class, exit 2: no traceback, no scikit-learn warning."""
    frame = _frame(150).assign(y=labels(150))
    data = _write(frame, tmp_path / "d.csv")
    argv = ["lift", "--data", str(data), "--categorical", "a", "--target", "y", "--models",
            "logistic", "--epochs", "1", "--out", str(tmp_path / "l.json"), "--quiet"]  # fmt: skip
    assert _run([*argv, *(["--folds", folds] if folds else [])]) == 2
    err = _one_line(capsys, needle, "rows of every class")
    assert "Warning" not in err
    assert not (tmp_path / "l.json").exists()
