"""Training throughput, peak memory and time to embeddings: our DeepFM vs DeepCTR's DeepFM.

Both contenders get the same rows, the same architecture (k=8, DNN 256-128-64, no dropout,
no L2, Adam 1e-3), batch 1024 and a fixed number of epochs (3, no early stopping), and both
hold out the same share (20%) of the training rows as a validation set evaluated after each
epoch. Each contender runs in its own subprocess, one after the other (order alternates
between repeats); medians over ``--repeats`` are reported.

Definitions
-----------
rows/s fit     fitted rows x epochs / seconds of the whole training call (encoding, model
               build, graph tracing, fit, per-epoch validation); TensorFlow import excluded.
rows/s steady  fitted rows x (epochs - 1) / seconds from the end of epoch 1 to the last
               epoch's end (tracing and first-call costs excluded).
peak RSS       the contender process's peak resident set size (ru_maxrss), TF included.
time to emb    training call start -> embedding matrices extracted as numpy arrays.

Usage::

    .venv/bin/python benchmarks/train_speed.py --out benchmarks/results/train_speed.json
    .venv/bin/python benchmarks/train_speed.py --datasets synthetic --repeats 3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import (
    DATASETS,
    OURS_PYTHON,
    PEER_PYTHON,
    Dataset,
    emit,
    format_table,
    load_dataset,
    machine_info,
    median_summary,
    ratio,
    run_contender,
    write_split,
)

SHARED = {
    "epochs": 3,
    "batch_size": 1024,
    "embedding_dim": 8,
    "hidden_units": [256, 128, 64],
    "dropout": 0.0,
    "learning_rate": 1e-3,
    "valid_fraction": 0.2,
    "l2_embedding": 0.0,
}
# numerics as scaled values, as DeepCTR takes them (dense inputs), and no frequency bands,
# which DeepCTR does not have: the same model
OURS_SETTINGS = {
    **SHARED,
    "patience": 1000,
    "min_count": 1,
    "refit": False,
    "seed": 0,
    "numeric_encoding": "scaled",
    "frequency_bands": "none",
}
PEER_SETTINGS = {**SHARED, "l2_linear": 0.0, "seed": 1024}

SYNTH_CARDINALITIES = (3, 7, 12, 31, 60, 150, 500, 2_000, 10_000, 50_000)
DEFAULT_DATASETS = ("synthetic", *[d for d in DATASETS if d != "german_credit"])


def make_synthetic(n_train: int = 200_000, seed: int = 0) -> Dataset:
    """``n_train / 0.8`` rows x 10 categorical fields with Zipf-like frequencies.

    Cardinalities are mixed (3 .. 50,000); the target is a logistic function of per-category
    effects plus one pairwise interaction, so there is something to learn.
    """
    rng = np.random.default_rng(seed)
    n_rows = int(round(n_train / 0.8))
    cols: dict[str, Any] = {}
    logit = np.full(n_rows, -1.0)
    codes_by_field = []
    for j, card in enumerate(SYNTH_CARDINALITIES):
        weights = 1.0 / np.arange(1, card + 1) ** 1.05
        codes = rng.choice(card, size=n_rows, p=weights / weights.sum())
        codes_by_field.append(codes)
        effects = rng.normal(0.0, 0.5, size=card)
        logit += effects[codes]
        cols[f"f{j}"] = np.char.add(f"v{j}_", codes.astype(str))
    inter = rng.normal(0.0, 0.8, size=(SYNTH_CARDINALITIES[1], SYNTH_CARDINALITIES[2]))
    logit += inter[codes_by_field[1], codes_by_field[2]]
    y = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))).astype("int64")
    frame = pd.DataFrame(cols)
    frame["y"] = y
    cat_cols = [f"f{j}" for j in range(len(SYNTH_CARDINALITIES))]
    return Dataset("synthetic", frame, cat_cols, [], "y", {"cardinalities": SYNTH_CARDINALITIES})


def bench_dataset(ds: Dataset, repeats: int, log_dir: Path | None) -> dict[str, Any]:
    contenders = [
        ("ours", OURS_PYTHON, "ours_deepfm.py", OURS_SETTINGS, False),
        ("deepctr", PEER_PYTHON, "peer_deepctr.py", PEER_SETTINGS, True),
    ]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in contenders}
    with tempfile.TemporaryDirectory(prefix=f"bench_speed_{ds.name}_") as tmp:
        workdir = Path(tmp)
        write_split(ds, workdir)
        for rep in range(repeats):
            order = contenders if rep % 2 == 0 else contenders[::-1]
            for name, python, script, settings, legacy in order:
                print(
                    f"[train_speed] {ds.name}: {name} (repeat {rep + 1}/{repeats})", file=sys.stderr
                )
                log = log_dir / f"speed_{ds.name}_{name}_{rep}.log" if log_dir else None
                args = ["--workdir", str(workdir), "--settings", json.dumps(settings)]
                res = run_contender(python, script, args, legacy_keras=legacy, log_path=log)
                if "error" in res:
                    print(f"[train_speed]   FAILED: {res['error']}", file=sys.stderr)
                runs[name].append(res)
    summary = {name: median_summary(r) for name, r in runs.items()}
    ours, peer = summary["ours"], summary["deepctr"]
    return {
        "dataset": ds.name,
        "n_rows": ds.n_rows,
        "n_categorical": len(ds.cat_cols),
        "n_numeric": len(ds.num_cols),
        "ours": ours,
        "deepctr": peer,
        "ratio_ours_over_deepctr": {
            key: ratio(ours.get(key), peer.get(key))
            for key in (
                "rows_per_s_fit",
                "rows_per_s_steady",
                "rows_per_cpu_s_fit",
                "rows_per_cpu_s_steady",
                "peak_rss_mb",
                "time_to_embeddings_seconds",
            )
        },
        "runs": runs,
    }


def table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        for name in ("ours", "deepctr"):
            s = r[name]
            rows.append(
                {
                    "dataset": r["dataset"],
                    "contender": name,
                    "fit rows": s.get("n_fit_rows"),
                    "rows/s fit": s.get("rows_per_s_fit"),
                    "rows/s steady": s.get("rows_per_s_steady"),
                    "rows/cpu-s fit": s.get("rows_per_cpu_s_fit"),
                    "rows/cpu-s steady": s.get("rows_per_cpu_s_steady"),
                    "peak RSS MB": s.get("peak_rss_mb"),
                    "time to emb s": s.get("time_to_embeddings_seconds"),
                    "test AUC": s.get("test_auc"),
                }
            )
        q = r["ratio_ours_over_deepctr"]
        rows.append(
            {
                "dataset": r["dataset"],
                "contender": "ratio ours/deepctr",
                "rows/s fit": q["rows_per_s_fit"],
                "rows/s steady": q["rows_per_s_steady"],
                "rows/cpu-s fit": q["rows_per_cpu_s_fit"],
                "rows/cpu-s steady": q["rows_per_cpu_s_steady"],
                "peak RSS MB": q["peak_rss_mb"],
                "time to emb s": q["time_to_embeddings_seconds"],
            }
        )
    cols = [
        "dataset",
        "contender",
        "fit rows",
        "rows/s fit",
        "rows/s steady",
        "rows/cpu-s fit",
        "rows/cpu-s steady",
        "peak RSS MB",
        "time to emb s",
        "test AUC",
    ]
    return format_table(rows, cols)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets",
        default=",".join(DEFAULT_DATASETS),
        help="comma-separated: 'synthetic' and/or names in the shared data folder",
    )
    parser.add_argument("--synthetic-rows", type=int, default=200_000, help="training rows")
    parser.add_argument("--repeats", type=int, default=1, help="runs per contender (median)")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep contender logs here")
    parser.add_argument("--out", default=None, help="write the JSON result here")
    args = parser.parse_args()

    info = machine_info()
    results = []
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        ds = make_synthetic(args.synthetic_rows) if name == "synthetic" else load_dataset(name)
        results.append(bench_dataset(ds, args.repeats, args.log_dir))
        print(table(results[-1:]), file=sys.stderr)
    report = {
        "benchmark": "train_speed",
        "machine": info,
        "shared_settings": SHARED,
        "ours_settings": OURS_SETTINGS,
        "deepctr_settings": PEER_SETTINGS,
        "note": (
            "Contenders run one after the other in separate processes on a shared 2-core "
            "machine; expect +-15% noise between runs."
        ),
        "results": results,
    }
    print("\n" + table(results), file=sys.stderr)
    emit(report, args.out)


if __name__ == "__main__":
    main()
