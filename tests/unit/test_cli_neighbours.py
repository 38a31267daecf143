"""``python -m embedding_core neighbours``: the Neighbours page as a command."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from embedding_core.analysis.neighbours import nearest_neighbours
from embedding_core.cli import main
from embedding_core.model.run import TrainedRun

DATA = Path(__file__).resolve().parents[1] / "data" / "small_churn.csv"
COMMON = ["--data", str(DATA), "--target", "churned", "--epochs", "2", "--batch-size", "64",
          "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DeepFM with a binned numeric column (age)."""
    out = tmp_path_factory.mktemp("runs") / "deepfm"
    code = main(["train", *COMMON, "--categorical", "customer_city,device,plan",
                 "--numeric", "age", "--out", str(out)])  # fmt: skip
    assert code == 0
    return out


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_json_matches_the_library_and_defaults_to_the_most_frequent(run_dir, capsys) -> None:
    run = TrainedRun.load(run_dir)
    table = run.embeddings("customer_city")
    used = table[~table["is_unknown"]].sort_values("count", ascending=False, kind="stable")
    top = str(used["category"].iloc[0])
    got = _json(capsys, ["neighbours", "--model", str(run_dir), "--field", "customer_city",
                         "--k", "4", "--json"])  # fmt: skip
    assert got["category"] == top and got["among"] == "customer_city"
    expected = nearest_neighbours(table, top, k=4, include_unused=False)
    assert [n["category"] for n in got["neighbours"]] == expected["category"].tolist()
    assert [n["similarity"] for n in got["neighbours"]] == pytest.approx(
        expected["similarity"].tolist()
    )
    assert top not in [n["category"] for n in got["neighbours"]]


def test_among_a_numeric_columns_bins_text_and_csv(run_dir, tmp_path, capsys) -> None:
    run = TrainedRun.load(run_dir)
    bins = run.embeddings("age")
    out = tmp_path / "nb.csv"
    argv = ["neighbours", "--model", str(run_dir), "--field", "plan", "--category", "basic",
            "--among", "age", "--metric", "euclidean", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == "nearest to basic (plan) among age, by euclidean:"
    written = pd.read_csv(out)
    assert set(written["category"]) <= set(bins["category"])
    expected = nearest_neighbours(
        run.embeddings("plan"), "basic", k=10, metric="euclidean", among=bins,
        include_unused=False,
    )  # fmt: skip
    assert written["category"].tolist() == expected["category"].tolist()
    for name in written["category"]:
        assert name in text


@pytest.mark.parametrize(
    ("tail", "words"),
    [
        (["--field", "nope"], ["--field", "nope", "customer_city"]),
        (["--field", "plan", "--among", "nope"], ["--among", "nope"]),
        (["--field", "plan", "--category", "platinum"], ["platinum"]),
    ],
)
def test_refusals_are_one_line(run_dir, tail, words, capsys) -> None:
    assert main(["neighbours", "--model", str(run_dir), *tail]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def test_an_entity_network_is_not_searched_across_fields(tmp_path, capsys) -> None:
    out = tmp_path / "entity"
    assert main(["train", *COMMON, "--categorical", "customer_city,plan", "--model", "entity",
                 "--out", str(out)]) == 0  # fmt: skip
    capsys.readouterr()
    argv = ["neighbours", "--model", str(out), "--field", "plan", "--among", "customer_city"]
    assert main(argv) == 2
    assert "DeepFM" in capsys.readouterr().err
    got = _json(capsys, ["neighbours", "--model", str(out), "--field", "plan", "--json"])
    assert got["neighbours"] and got["among"] == "plan"


def test_a_field_of_only_rare_categories_is_refused_in_one_line(tmp_path, capsys) -> None:
    """Every order id appears once: below min_count, all share the unknown row."""
    frame = pd.read_csv(DATA)
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "run"
    assert main(["train", "--data", str(path), "--categorical", "plan,order_id", "--target",
                 "churned", "--epochs", "1", "--quiet", "--out", str(out)]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["neighbours", "--model", str(out), "--field", "order_id"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no learned category" in err, err
