"""The two-step workflow from the CLI: entity model, --init-embeddings, exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_core.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "small_churn.csv"
COMMON = ["--data", str(DATA), "--target", "churned", "--epochs", "2", "--batch-size", "64",
          "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def step1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Entity model on the categoricals only, one size overridden."""
    out = tmp_path_factory.mktemp("runs") / "step1"
    code = main(["train", *COMMON, "--categorical", "customer_city,device,plan,channel",
                 "--model", "entity", "--embedding-dims", "plan=7", "--out", str(out)])  # fmt: skip
    assert code == 0
    return out


def test_info_lists_each_fields_size(step1: Path, capsys) -> None:
    assert main(["info", "--model", str(step1), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model"] == "entity" and info["embedding_dims"]["plan"] == 7
    n_city = info["categorical"]["customer_city"] - 1  # the <unknown> row is reserved
    assert info["embedding_dims"]["customer_city"] == min(50, -(-n_city // 2))
    assert main(["info", "--model", str(step1)]) == 0
    assert re.search(r"plan: \d+, 7", capsys.readouterr().out)


def test_step2_adds_numerics_and_freezes(step1: Path, tmp_path: Path) -> None:
    out = tmp_path / "step2"
    code = main(["train", *COMMON, "--categorical", "customer_city,device,plan", "--numeric",
                 "age", "--model", "entity", "--init-embeddings", str(step1),
                 "--freeze-embeddings", "--out", str(out)])  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["init_embeddings"] == str(step1)
    assert metrics["frozen_fields"] == ["customer_city", "device", "plan"]
    old = pd.read_parquet(step1 / "embeddings.parquet")
    new = pd.read_parquet(out / "embeddings.parquet")
    for field in metrics["frozen_fields"]:
        a = old[old["field"] == field].set_index("category").filter(like="emb_").dropna(axis=1)
        b = new[new["field"] == field].set_index("category").filter(like="emb_").dropna(axis=1)
        np.testing.assert_array_equal(b.loc[a.index].to_numpy(), a.to_numpy())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--embedding-dims", "plan=7"], "only with model='entity'"),
        (["--model", "entity", "--embedding-dims", "nope=3"], "'nope'"),
        (["--freeze-embeddings"], "needs --init-embeddings"),
        (["--init-embeddings", "/no/such/run"], "no such directory"),
    ],
)
def test_refusals_are_one_line(args, message, tmp_path, capsys) -> None:
    code = main(["train", *COMMON, "--categorical", "plan", "--out", str(tmp_path / "x"), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_exports_projector_csv_report(step1: Path, tmp_path: Path) -> None:
    from embedding_core.model.run import TrainedRun

    run = TrainedRun.load(step1)
    assert main(["export", "--model", str(step1), "--out", str(tmp_path / "p")]) == 0
    config = (tmp_path / "p" / "projector_config.pbtxt").read_text()
    blocks = re.findall(r"embeddings \{(.*?)\}", config, flags=re.S)
    assert len(blocks) == len(run.fields)
    for field, block in zip(run.fields, blocks, strict=True):
        values = dict(re.findall(r'(\w+): "([^"]*)"', block))
        shape = [int(v) for v in re.findall(r"tensor_shape: (\d+)", block)]
        vectors = (tmp_path / "p" / values["tensor_path"]).read_text().splitlines()
        metadata = (tmp_path / "p" / values["metadata_path"]).read_text().splitlines()
        assert values["tensor_name"] == field
        assert shape == [len(vectors), run.embedding_dims[field]]
        assert len(vectors) == len(metadata) - 1 == len(run.embeddings(field))
        assert all(len(line.split("\t")) == run.embedding_dims[field] for line in vectors)

    assert main(["export", "--model", str(step1), "--out", str(tmp_path / "c"),
                 "--format", "csv"]) == 0  # fmt: skip
    for field in run.fields:
        back = pd.read_csv(tmp_path / "c" / f"{field}.csv", encoding="utf-8-sig")
        table = run.embeddings(field)
        assert back["category"].astype(str).tolist() == table["category"].tolist()
        np.testing.assert_allclose(back.filter(like="emb_"), table.filter(like="emb_"), rtol=1e-6)

    assert main(["export", "--model", str(step1), "--out", str(tmp_path / "r"),
                 "--format", "report"]) == 0  # fmt: skip
    page = (tmp_path / "r" / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page)  # nothing fetched
    assert page.count("<svg") == len(run.fields)
    assert "no FM term" in page
    assert "Run &#x27;step1&#x27; trained on small_churn.csv on 20" in page  # which run


def test_streamed_step2_starts_from_step1(step1: Path, tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    shards.mkdir()
    frame = pd.read_csv(DATA)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 2)):
        frame.iloc[rows].to_parquet(shards / f"part-{i}.parquet", index=False)
    out = tmp_path / "streamed"
    code = main(["train", *COMMON[2:], "--data", str(shards), "--categorical", "device,plan",
                 "--numeric", "age", "--model", "entity", "--init-embeddings", str(step1),
                 "--freeze-embeddings", "--out", str(out)])  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["streamed"] is True and metrics["frozen_fields"] == ["device", "plan"]
    old = pd.read_parquet(step1 / "embeddings.parquet")
    new = pd.read_parquet(out / "embeddings.parquet")
    a = old[old["field"] == "plan"].set_index("category").filter(like="emb_").dropna(axis=1)
    b = new[new["field"] == "plan"].set_index("category").filter(like="emb_").dropna(axis=1)
    np.testing.assert_array_equal(b.loc[a.index].to_numpy(), a.to_numpy())


def test_info_export_and_neighbours_never_import_tensorflow(step1: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from embedding_core.cli import main\n"
        "for argv in sys.argv[1:]:\n"
        "    assert main(argv.split('|')) == 0, argv\n"
        "print('heavy:' + ','.join(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    commands = [f"info|--model|{step1}|--json", f"neighbours|--model|{step1}|--field|plan"] + [
        f"export|--model|{step1}|--out|{tmp_path / fmt}|--format|{fmt}"
        for fmt in ("projector", "parquet", "csv", "report")
    ]
    out = subprocess.run(
        [sys.executable, "-c", probe, *commands], capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines()[-1] == "heavy:"
