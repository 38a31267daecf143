"""Streaming training end to end: the CLI on Parquet shards, and two workers on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_core.cli import main

ROLES = ["--categorical", "shop,colour", "--numeric", "amount", "--target", "bought"]


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Two categorical fields with a planted effect and a numeric one."""
    rng = np.random.default_rng(seed)
    shop = rng.integers(0, 40, n)
    colour = rng.integers(0, 5, n)
    amount = rng.normal(50, 10, n)
    logit = np.where(shop % 2 == 0, 1.5, -1.5) + 0.5 * (colour == 1) + (amount - 50) / 20
    bought = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "shop": [f"s{v:02d}" for v in shop],
            "colour": [f"c{v}" for v in colour],
            "amount": amount.round(2),
            "bought": np.where(bought, "yes", "no"),
        }
    )


def _write_shards(frame: pd.DataFrame, folder: Path, n: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), n)):
        frame.iloc[rows].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


def _test_auc(run_dir: Path, test: pd.DataFrame) -> float:
    from embedding_core.model.metrics import auc
    from embedding_core.model.run import TrainedRun

    run = TrainedRun.load(run_dir)
    return auc((test["bought"] == "yes").to_numpy(), run.predict(test))


def test_cli_vocab_then_streamed_train_is_a_normal_run(tmp_path: Path, capsys) -> None:
    shards = _write_shards(_frame(1200, seed=0), tmp_path / "shards")
    vocab = tmp_path / "features.json"
    assert main(["vocab", "--data", str(shards), *ROLES, "--out", str(vocab), "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["files"] == 2 and summary["train_rows"] + summary["valid_rows"] == 1200
    out = tmp_path / "run"
    code = main(
        ["train", "--data", str(shards / "*.parquet"), "--vocabulary", str(vocab), *ROLES,
         "--epochs", "2", "--batch-size", "64", "--numeric-encoding", "bins",
         "--out", str(out), "--quiet"]
    )  # fmt: skip
    assert code == 0
    # bins need every row in memory: the streamed run falls back to scaled and says so
    assert json.loads((out / "config.json").read_text())["numeric_encoding"] == "scaled"
    assert "used 'scaled'" in " ".join(json.loads((out / "warnings.json").read_text()))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["streamed"] is True and metrics["refit"] is True
    assert metrics["n_train"] + metrics["n_valid"] == 1200 == metrics["refit_rows"]
    saved = json.loads((out / "features.json").read_text())
    assert saved == json.loads(vocab.read_text())["features"]
    assert _test_auc(out, _frame(600, seed=1)) > 0.75
    capsys.readouterr()
    assert main(["info", "--model", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["categorical"]["colour"] == 5 + 1


def test_cli_streamed_holdout_final_fit_passes_over_the_validation_rows(
    tmp_path: Path,
) -> None:
    shards = _write_shards(_frame(1200, seed=0), tmp_path / "shards")
    out = tmp_path / "run"
    code = main(
        ["train", "--data", str(shards), *ROLES, "--epochs", "2", "--batch-size", "64",
         "--hidden-units", "16,8", "--final-fit", "holdout", "--out", str(out), "--quiet",
         "--fm-field-weights", "--embedding-lr-factor", "2"]
    )  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["refit"] is True and metrics["final_fit"] == "holdout"
    assert metrics["refit_epochs"] == 1 and metrics["refit_rows"] == 1200
    config = json.loads((out / "config.json").read_text())
    assert config["final_fit"] == "holdout"
    # the options reach the streamed network too
    assert config["fm_field_weights"] is True and config["embedding_lr_factor"] == 2.0
    assert (out / "fm_pair_weights.json").is_file()
    assert _test_auc(out, _frame(600, seed=1)) > 0.75


def test_stop_during_either_data_pass_ends_the_run_and_leaves_no_files(tmp_path: Path) -> None:
    from embedding_core.data.roles import Roles
    from embedding_core.errors import TrainingCancelled
    from embedding_core.model.streaming import train_streaming

    shards = _write_shards(_frame(600, seed=0), tmp_path / "shards", n=3)  # a batch a file
    roles = Roles(("shop", "colour"), "bought", numeric=("amount",))
    work = tmp_path / "work"
    work.mkdir()
    # Checks 1-3 are the vocabulary pass's batches, check 4 the encoding pass's first.
    for stop_at, finished_passes in ((2, []), (4, ["vocabulary"])):
        checks: list[int] = []
        lines: list[str] = []
        progress: list[object] = []

        def should_stop(checks: list[int] = checks, stop_at: int = stop_at) -> bool:
            checks.append(1)
            return len(checks) >= stop_at

        with pytest.raises(TrainingCancelled, match="while the data was being read"):
            train_streaming(
                shards,
                roles,
                should_stop=should_stop,
                on_status=lines.append,
                on_progress=progress.append,
                work_dir=work,
            )
        assert len(checks) == stop_at
        assert [line.split(":")[0] for line in lines if " rows in " in line] == finished_passes
        assert progress == []  # training never started
        assert list(work.iterdir()) == []  # the encoded rows are removed


def test_cli_refuses_bad_streaming_input(tmp_path: Path, capsys) -> None:
    shards = _write_shards(_frame(300, seed=0), tmp_path / "one", n=1)
    code = main(
        ["train", "--data", str(shards), *ROLES, "--strategy", "multiworker",
         "--out", str(tmp_path / "run")]
    )  # fmt: skip
    assert code == 2
    assert "TF_CONFIG" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("[]")
    code = main(
        ["train", "--data", str(shards), *ROLES, "--vocabulary", str(tmp_path / "bad.json"),
         "--out", str(tmp_path / "run")]
    )  # fmt: skip
    assert code == 2
    assert "not a vocabulary file" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_two_workers_train_one_run_as_good_as_one_process(tmp_path: Path) -> None:
    # Lean on purpose (CI runs it): a small model, 2 epochs, and the one-process
    # reference trains here while the two workers start up and train.
    shards = _write_shards(_frame(4000, seed=0), tmp_path / "shards")
    test = _frame(2000, seed=1)
    vocab = tmp_path / "features.json"
    assert main(["vocab", "--data", str(shards), *ROLES, "--out", str(vocab), "--quiet"]) == 0
    args = [*ROLES, "--data", str(shards), "--vocabulary", str(vocab), "--epochs", "2",
            "--batch-size", "128", "--hidden-units", "32,16", "--no-refit", "--quiet"]  # fmt: skip

    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        command = [sys.executable, "-m", "embedding_core", "train", *args,
                   "--strategy", "multiworker", "--out", str(tmp_path / "distributed")]  # fmt: skip
        procs.append(
            subprocess.Popen(
                command,
                env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        assert main(["train", *args, "--out", str(tmp_path / "single")]) == 0
        results = [p.communicate(timeout=150) for p in procs]
    finally:
        for p in procs:
            p.kill()  # no-op once exited; never leaves a worker waiting for its peer
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err[-2000:]
    assert json.loads(results[1][0])["out"] is None  # only worker 0 writes the run
    metrics = json.loads((tmp_path / "distributed" / "metrics.json").read_text())
    assert metrics["workers"] == 2 and metrics["epochs_run"] == 2

    distributed, single = (_test_auc(tmp_path / d, test) for d in ("distributed", "single"))
    assert single > 0.75
    assert abs(distributed - single) <= 0.01, (distributed, single)


def test_progress_bar_shows_rows_per_second_and_eta() -> None:
    import io
    import re
    import time

    from embedding_core.cli import _ProgressPrinter
    from embedding_core.model.train import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    printer = _ProgressPrinter(out)
    printer(Progress("batch", 1, 4, 1, 10, {"loss": 0.5}, rows=100))
    time.sleep(0.05)
    printer(Progress("batch", 1, 4, 5, 10, {"loss": 0.5}, rows=500))
    line = out.getvalue().split("\r")[-1]
    rate = re.search(r"([\d,]+) rows/s", line)
    assert rate and 0 < int(rate.group(1).replace(",", "")) <= 400 / 0.05
    assert re.search(r"ETA <= \d+:\d\d", line)  # early stopping may end sooner
    printer(Progress("refit", 1, 2, 1, 10, {}, rows=100))  # a new phase: a new estimate
    time.sleep(0.05)
    printer(Progress("refit", 1, 2, 5, 10, {}, rows=500))
    assert re.search(r"ETA \d+:\d\d", out.getvalue().split("\r")[-1])


def test_streamed_early_stopping_keeps_the_tied_epoch_with_the_best_auc(tmp_path: Path) -> None:
    shards = _write_shards(_frame(1200, seed=0), tmp_path / "shards")
    out = tmp_path / "run"
    code = main(
        ["train", "--data", str(shards), *ROLES, "--epochs", "8", "--batch-size", "64",
         "--hidden-units", "16,8", "--epoch-tolerance", "1", "--seed", "1",
         "--out", str(out), "--quiet"]
    )  # fmt: skip
    assert code == 0
    history = json.loads((out / "history.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    lowest = int(np.argmin([h["val_loss"] for h in history]))
    # every later epoch's loss is within 100% of the lowest: the AUC decides
    kept = max(range(lowest, len(history)), key=lambda e: (history[e]["val_auc"], e))
    assert kept > lowest, "seed 1 has a later epoch with a higher AUC"
    assert metrics["best_epoch"] == kept + 1 == metrics["refit_epochs"]


def test_streamed_training_gives_frequency_bands_from_the_scanned_counts(tmp_path: Path) -> None:
    from embedding_core.model.frequency import field_bands
    from embedding_core.model.run import TrainedRun

    frame = _frame(1600, seed=2)
    frame["shop"] = frame["shop"] + np.where(np.arange(1600) % 2 == 0, "a", "b")  # 80 shops
    shards = _write_shards(frame, tmp_path / "shards")
    out = tmp_path / "run"
    code = main(
        ["train", "--data", str(shards), *ROLES, "--stream", "--epochs", "1",
         "--batch-size", "64", "--hidden-units", "16,8", "--frequency-bands", "auto",
         "--out", str(out), "--quiet"]
    )  # fmt: skip
    assert code == 0
    run = TrainedRun.load(out)
    assert run.frequency_fields == ["shop"]  # colour has 5 categories
    bands = run.model.get_layer("frequency_bands").bands.numpy()
    np.testing.assert_array_equal(bands, field_bands(run.encoder("shop")))
    assert np.isfinite(run.predict(frame.head(20))).all()
