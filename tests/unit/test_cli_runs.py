"""CLI: `train --seeds` writes siblings and stability.parquet; `runs list/delete`; `compare`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_core.cli import main


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with one run trained over seeds 0 and 1 by the CLI."""
    rng = np.random.default_rng(0)
    n = 300
    shop = rng.choice([f"s{i}" for i in range(8)], size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    bought = (np.isin(shop, ["s0", "s1", "s2", "s3"]) ^ (rng.random(n) < 0.2)).astype(int)
    data = tmp_path_factory.mktemp("data") / "shops.csv"
    pd.DataFrame({"shop": shop, "colour": colour, "bought": bought}).to_csv(data, index=False)
    root = tmp_path_factory.mktemp("store")
    code = main(
        ["train", "--data", str(data), "--categorical", "shop,colour", "--target", "bought",
         "--epochs", "2", "--batch-size", "32", "--min-count", "1", "--no-refit",
         "--seeds", "0,1", "--out", str(root / "my-run"), "--quiet"]
    )  # fmt: skip
    assert code == 0
    return root


def test_train_with_seeds_writes_siblings_and_stability(store: Path, capsys) -> None:
    assert sorted(p.name for p in store.iterdir()) == ["my-run", "my-run-seed1"]
    stab = pd.read_parquet(store / "my-run" / "stability.parquet")
    assert set(stab["field"]) == {"shop", "colour"}
    assert set(stab["reliability"]) <= {"stable", "unstable", "too rare"}
    assert stab["overlap"].between(0, 1).all() and len(stab) == 8 + 3
    meta = json.loads((store / "my-run" / "run.json").read_text())
    assert meta["siblings"] == ["my-run-seed1"] and meta["dataset"] == "shops.csv"
    assert meta["seed"] == 0 and meta["rows"] == 300
    sibling = json.loads((store / "my-run-seed1" / "run.json").read_text())
    assert sibling["sibling_of"] == "my-run" and sibling["seed"] == 1


def test_runs_list_shows_cli_runs_and_unreadable_folders(store: Path, capsys, tmp_path) -> None:
    capsys.readouterr()
    assert main(["runs", "list", "--store", str(store), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in records} == {"my-run", "my-run-seed1"}
    assert all(r["error"] is None and r["task"] == "binary" for r in records)
    (store / "broken").mkdir()
    try:
        assert main(["runs", "list", "--store", str(store)]) == 0
        text = capsys.readouterr().out
        assert "broken  UNREADABLE: no manifest.json" in text and "shops.csv" in text
    finally:
        (store / "broken").rmdir()


def test_compare_writes_a_row_per_field_and_category(store: Path, tmp_path, capsys) -> None:
    out = tmp_path / "cmp.csv"
    code = main(
        ["compare", "--a", str(store / "my-run"), "--b", str(store / "my-run-seed1"),
         "--k", "3", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    table = pd.read_csv(out)
    assert set(table["field"]) == {"shop", "colour"}
    assert {"category", "moved", "overlap", "count_a", "count_b", "k"} <= set(table.columns)
    assert table["overlap"].between(0, 1).all() and (table["moved"] >= 0).all()
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("shop: 8 shared categories, overlap@3")
    assert main(["compare", "--a", str(store / "my-run"), "--b", str(store / "my-run"),
                 "--field", "nope", "--out", str(out)]) == 2  # fmt: skip
    assert "not a categorical field of both runs" in capsys.readouterr().err


def test_runs_delete_and_refusals(store: Path, tmp_path, capsys) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "x").mkdir()
    (copy / "x" / "manifest.json").write_text("{}")
    assert main(["runs", "delete", "--store", str(copy), "x"]) == 0
    assert not (copy / "x").exists()
    capsys.readouterr()
    assert main(["runs", "delete", "--store", str(copy), "../etc"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run" in err
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", "x.csv", "--categorical", "a", "--target", "y",
              "--out", "o", "--seeds", "1,1"])  # fmt: skip
    assert exc.value.code == 2
