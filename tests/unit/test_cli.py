"""End-to-end tests of ``python -m embedding_core`` on a small CSV."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_core.cli import main

N_ROWS = 400


def _frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shop = rng.choice(["s01", "s02", "s03", "s04", "s05", "s06"], size=N_ROWS)
    colour = rng.choice(["red", "green", "blue, dark"], size=N_ROWS)
    amount = rng.normal(50, 10, size=N_ROWS).round(2)
    logit = np.where(np.isin(shop, ["s01", "s02", "s03"]), 1.5, -1.5) + (amount - 50) / 20
    bought = (rng.random(N_ROWS) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"shop": shop, "colour": colour, "amount": amount, "bought": bought})


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "shops.csv"
    _frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def model_dir(csv_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "model"
    code = main(
        ["train", "--data", str(csv_path), "--categorical", "shop,colour", "--numeric",
         "amount", "--target", "bought", "--epochs", "2", "--batch-size", "64",
         "--seed", "0", "--out", str(out), "--quiet"]
    )  # fmt: skip
    assert code == 0
    return out


def test_train_writes_run_directory_with_metrics(model_dir: Path) -> None:
    metrics = json.loads((model_dir / "metrics.json").read_text())
    for key in ["task", "n_train", "n_valid", "epochs_run", "train_seconds", "rows_per_second",
                "valid_auc", "valid_logloss"]:  # fmt: skip
        assert key in metrics, key
    assert metrics["task"] == "binary"
    assert metrics["n_train"] + metrics["n_valid"] == N_ROWS
    assert 1 <= metrics["epochs_run"] <= 2
    assert 0.0 <= metrics["valid_auc"] <= 1.0
    assert metrics["refit"] is True and metrics["refit_rows"] == N_ROWS
    assert (model_dir / "model.keras").is_file()


def test_predict_keeps_input_order_and_handles_unseen(model_dir: Path, tmp_path: Path) -> None:
    rows = _frame(seed=1).head(50).copy()
    rows.loc[0, "shop"] = "never-seen-shop"
    rows.loc[1, "colour"] = None
    data, out = tmp_path / "in.csv", tmp_path / "pred.csv"
    rows.to_csv(data, index=False)
    assert main(["predict", "--model", str(model_dir), "--data", str(data), "--out", str(out)]) == 0
    pred = pd.read_csv(out, dtype={"shop": str})
    assert len(pred) == 50
    assert pred["shop"].tolist() == rows["shop"].fillna("").replace("", np.nan).tolist()
    assert pred["prediction"].between(0, 1).all()
    assert pred["prediction"].notna().all()
    # Predictions follow the rows: high-rate shops score higher on average.
    high = pred["shop"].isin(["s01", "s02", "s03"])
    assert pred.loc[high, "prediction"].mean() != pred.loc[~high, "prediction"].mean()


def test_embed_replaces_categoricals_with_vectors(model_dir: Path, tmp_path: Path) -> None:
    data, out = tmp_path / "in.csv", tmp_path / "emb.csv"
    _frame(seed=2).head(30).to_csv(data, index=False)
    assert main(["embed", "--model", str(model_dir), "--data", str(data), "--out", str(out)]) == 0
    emb = pd.read_csv(out)
    k = 8
    expected = {f"{c}_emb_{i}" for c in ("shop", "colour") for i in range(k)}
    assert expected <= set(emb.columns)
    assert "shop" not in emb.columns and "colour" not in emb.columns
    assert {"amount", "bought"} <= set(emb.columns)
    assert len(emb) == 30
    # Two rows with the same shop get the same vector.
    same = emb[[f"shop_emb_{i}" for i in range(k)]].round(6).drop_duplicates()
    assert len(same) == _frame(seed=2).head(30)["shop"].nunique()


def test_info_prints_fields_task_and_metrics(
    model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", "--model", str(model_dir)]) == 0
    text = capsys.readouterr().out
    assert "binary" in text and "shop" in text and "colour" in text and "valid_auc" in text
    assert "the average of the early-stopped and the refit model" in text
    assert main(["info", "--model", str(model_dir), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["categorical"]["shop"] >= 7  # 6 shops + unknown row
    assert info["task"] == "binary"


def test_regression_end_to_end(csv_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "reg"
    code = main(
        ["train", "--data", str(csv_path), "--categorical", "shop,colour", "--target",
         "amount", "--task", "regression", "--epochs", "1", "--out", str(out), "--quiet"]
    )  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "regression"
    assert "valid_rmse" in metrics and "valid_r2" in metrics
    assert metrics["refit"] is True


def test_train_no_refit_keeps_the_early_stopped_model(csv_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "early"
    code = main(
        ["train", "--data", str(csv_path), "--categorical", "shop", "--target", "bought",
         "--epochs", "1", "--no-refit", "--out", str(out), "--quiet"]
    )  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["refit"] is False and metrics["refit_epochs"] == 0
    assert json.loads((out / "config.json").read_text())["refit"] is False


def test_train_averages_the_early_stopped_model_unless_told_not_to(
    csv_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from embedding_core.model.run import EARLY_WEIGHTS_FILE

    base = ["train", "--data", str(csv_path), "--categorical", "shop", "--target", "bought",
            "--epochs", "2", "--quiet"]  # fmt: skip
    assert main([*base, "--out", str(tmp_path / "averaged")]) == 0
    assert (tmp_path / "averaged" / EARLY_WEIGHTS_FILE).is_file()
    assert json.loads((tmp_path / "averaged" / "config.json").read_text())["average_early"]
    assert main([*base, "--no-average-early", "--out", str(tmp_path / "alone")]) == 0
    assert not (tmp_path / "alone" / EARLY_WEIGHTS_FILE).exists()
    config = json.loads((tmp_path / "alone" / "config.json").read_text())
    assert config["average_early"] is False and config["refit"] is True
    capsys.readouterr()  # the training's own lines
    for name, averaged in (("averaged", True), ("alone", False)):
        assert main(["info", "--model", str(tmp_path / name), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["averages_early"] is averaged
    assert main(["info", "--model", str(tmp_path / "alone")]) == 0
    assert "predictions:   one model" in capsys.readouterr().out


def _assert_one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> None:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err


@pytest.mark.parametrize(
    ("argv_tail", "words"),
    [
        (["--categorical", "shop,nope", "--target", "bought"], ["nope"]),
        (["--categorical", "shop", "--target", "colour", "--task", "regression"], ["colour"]),
        (["--categorical", "shop,bought", "--target", "bought"], ["bought"]),
    ],
)
def test_train_bad_arguments_exit_2_with_one_line(
    csv_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    argv_tail: list[str], words: list[str],
) -> None:  # fmt: skip
    argv = ["train", "--data", str(csv_path), *argv_tail, "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    _assert_one_line_error(capsys, *words)


def test_unreadable_model_dir_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    for model in [tmp_path / "missing", tmp_path / "broken"]:
        assert main(["info", "--model", str(model)]) == 2
        _assert_one_line_error(capsys, str(model.name))


def test_missing_data_file_exits_2(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["predict", "--model", str(model_dir), "--data", "/nonexistent.csv", "--out", "x"])
    assert code == 2
    _assert_one_line_error(capsys, "/nonexistent.csv")


def test_predict_data_without_a_feature_column_exits_2(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.csv"
    _frame().drop(columns=["colour"]).head(5).to_csv(data, index=False)
    assert main(["predict", "--model", str(model_dir), "--data", str(data), "--out", "x"]) == 2
    _assert_one_line_error(capsys, "colour")


def test_module_entry_point_usage_error_is_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "embedding_core", "train", "--data", "x.csv"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "--categorical" in proc.stderr


def test_export_projector_and_parquet(model_dir: Path, tmp_path: Path) -> None:
    from embedding_core.reuse.export import read_parquet_tables

    assert main(["export", "--model", str(model_dir), "--out", str(tmp_path / "p")]) == 0
    files = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert any("shop" in f and f.endswith(".tsv") for f in files), files
    code = main(["export", "--model", str(model_dir), "--out", str(tmp_path / "q"),
                 "--format", "parquet"])  # fmt: skip
    assert code == 0
    tables = read_parquet_tables(tmp_path / "q" / "embeddings.parquet")
    assert set(tables) == {"shop", "colour"}
    assert "s01" in set(tables["shop"]["category"])


def test_profile_suggests_roles(csv_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "--data", str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert "shop" in out and "amount" in out
    assert "--target bought" in out


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("city\nParis\nLyon\n", "The file has one column"),
        (
            "city,churn\n" + "".join(f"c{i % 4},no\n" for i in range(40)),
            "(churn has the same value",
        ),
    ],
)
def test_profile_says_why_it_suggests_no_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, said: str
) -> None:
    path = tmp_path / "d.csv"
    path.write_text(text)
    assert main(["profile", "--data", str(path)]) == 0
    captured = capsys.readouterr()
    assert "--target" not in captured.out
    notes = [line for line in captured.err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and said in notes[0], captured.err


def test_profile_prints_what_the_reader_did_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"s{i % 3};{i % 7},{i % 10}5;{'yes' if i % 2 else 'no'}" for i in range(60)]
    path = tmp_path / "eu.csv"
    path.write_text("Claims export 2026\nshop;amount;bought\n" + "\n".join(rows) + "\n")
    assert main(["profile", "--data", str(path)]) == 0
    captured = capsys.readouterr()
    notes = [line for line in captured.err.splitlines() if line.startswith("note: ")]
    assert notes[0].startswith("note: Skipped line 1 of 'eu.csv' ('Claims export 2026')")
    assert notes[1] == (
        "note: Read 'amount' as numbers written with decimal commas ('0,05' as 0.05)."
    )
    assert "--numeric amount" in captured.out


def test_lift_writes_the_json_contract(csv_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "lift.json"
    code = main(
        ["lift", "--data", str(csv_path), "--categorical", "shop,colour", "--numeric", "amount",
         "--target", "bought", "--models", "logistic,hgb", "--epochs", "2", "--out", str(out),
         "--quiet"]
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["task"] == "binary" and doc["mode"] == "holdout" and doc["metric"] == "auc"
    cells = {(r["model"], r["encoding"]) for r in doc["results"]}
    assert cells == {(m, e) for m in ("logistic", "hgb")
                     for e in ("onehot", "ordinal", "target", "embedding")}  # fmt: skip
    for r in doc["results"]:
        assert {"mean", "std", "fit_seconds"} <= set(r)
        assert 0.0 <= r["mean"] <= 1.0
    assert {x["model"] for x in doc["lift"]} == {"logistic", "hgb"}
    for x in doc["lift"]:
        assert x["best_baseline"] in ("onehot", "ordinal", "target")
        best = max(
            r["mean"] for r in doc["results"]
            if r["model"] == x["model"] and r["encoding"] != "embedding"
        )  # fmt: skip
        emb = next(
            r["mean"] for r in doc["results"]
            if r["model"] == x["model"] and r["encoding"] == "embedding"
        )  # fmt: skip
        assert x["lift"] == pytest.approx(emb - best, abs=1e-9)


def test_lift_rejects_one_fold(csv_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["lift", "--data", str(csv_path), "--categorical", "shop", "--target", "bought",
            "--folds", "1", "--out", "x.json"]  # fmt: skip
    assert main(argv) == 2
    _assert_one_line_error(capsys, "--folds")


def test_profile_prints_a_train_command_a_shell_takes_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shlex

    from embedding_core.cli import build_parser

    frame = _frame().rename(columns={"shop": "shop name", "colour": "it's colour"})
    path = tmp_path / "my data.csv"
    frame.to_csv(path, index=False)
    assert main(["profile", "--data", str(path)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    argv = shlex.split(line)
    assert argv[:4] == ["python", "-m", "embedding_core", "train"]
    args = build_parser().parse_args(argv[3:])
    assert args.data == str(path)
    assert set(args.categorical) == {"shop name", "it's colour"}
    assert args.target == "bought"
