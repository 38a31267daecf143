"""Does reusing step-1 embeddings help? Test AUC of the two-step workflow vs training from scratch.

On every dataset of ``../shared/data`` with numeric columns, on the fixed 80/20 split
(``common.fixed_split``) of at most ``--max-rows`` rows (a stratified subsample, so the
whole run fits a loaded 2-core machine; the subsample is the same for every contender):

step1      entity network on the categorical columns only (what is reused);
frozen     entity network with the numeric columns too, tables loaded from step1 and kept
           fixed (``init_embeddings=step1, freeze_embeddings=True``);
finetuned  the same, tables loaded from step1 and trained further;
scratch    the same entity network with numerics, tables from a random start;
deepfm     DeepFM with ``TrainConfig()`` defaults and numerics.

Each is trained with seeds 0..``--seeds``-1 (the step-2 runs of seed s start from the
step-1 run of seed s) and scored on the test rows, which no step has seen. Everything
runs in this process, one after the other.

Usage::

    .venv/bin/python benchmarks/reuse.py --out benchmarks/results/reuse.json
    .venv/bin/python benchmarks/reuse.py --datasets german_credit --seeds 1   # quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    DATASETS,
    REPO_DIR,
    binary_metrics,
    emit,
    fixed_split,
    format_table,
    load_dataset,
    machine_info,
)

sys.path.insert(0, str(REPO_DIR))

CONTENDERS = ("step1", "frozen", "finetuned", "scratch", "deepfm")
DEFAULT_MAX_ROWS = 20_000


def subsample(frame: Any, target: str, max_rows: int, seed: int = 0) -> Any:
    """At most ``max_rows`` rows, stratified on the target (all rows if fewer)."""
    if len(frame) <= max_rows:
        return frame
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(
        np.arange(len(frame)), train_size=max_rows, random_state=seed, stratify=frame[target]
    )
    return frame.iloc[np.sort(keep)].reset_index(drop=True)


def run_dataset(name: str, seeds: int, max_rows: int) -> dict[str, Any]:
    import embedding_core as ec

    ds = load_dataset(name)
    frame = subsample(ds.frame, ds.target, max_rows)
    train_idx, test_idx = fixed_split(frame[ds.target].to_numpy())
    train, test = frame.iloc[train_idx], frame.iloc[test_idx]
    y_test = test[ds.target].to_numpy()
    cats, nums = tuple(ds.cat_cols), tuple(ds.num_cols)
    step1_roles = ec.Roles(categorical=cats, target=ds.target, task="binary")
    full_roles = ec.Roles(categorical=cats, numeric=nums, target=ds.target, task="binary")
    scores: dict[str, list[float]] = {c: [] for c in CONTENDERS}
    seconds: dict[str, list[float]] = {c: [] for c in CONTENDERS}

    def fit(contender: str, roles: Any, config: Any) -> Any:
        t0 = time.perf_counter()
        run = ec.train(train, roles, config)
        seconds[contender].append(time.perf_counter() - t0)
        scores[contender].append(binary_metrics(y_test, run.predict(test))["test_auc"])
        print(f"  {name} seed {config.seed} {contender}: auc {scores[contender][-1]:.4f}",
              file=sys.stderr, flush=True)  # fmt: skip
        return run

    for seed in range(seeds):
        entity = ec.TrainConfig(model="entity", seed=seed)
        step1 = fit("step1", step1_roles, entity)
        fit("frozen", full_roles, entity.replace(init_embeddings=step1, freeze_embeddings=True))
        fit("finetuned", full_roles, entity.replace(init_embeddings=step1))
        fit("scratch", full_roles, entity)
        fit("deepfm", full_roles, ec.TrainConfig(seed=seed))
    result: dict[str, Any] = {
        "dataset": name,
        "rows": int(len(frame)),
        "rows_available": int(ds.n_rows),
        "train_rows": int(len(train)),
        "seeds": seeds,
    }
    for c in CONTENDERS:
        result[f"{c}_auc"] = round(float(np.mean(scores[c])), 4)
        result[f"{c}_sd"] = round(float(np.std(scores[c])), 4)
        result[f"{c}_seconds"] = round(float(np.mean(seconds[c])), 1)
        result[f"{c}_runs"] = [round(s, 4) for s in scores[c]]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=None, help="comma-separated (default: all)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS)
    parser.add_argument("--out", default=None, help="JSON file")
    args = parser.parse_args(argv)
    names = args.datasets.split(",") if args.datasets else list(DATASETS)
    names = [n for n in names if load_dataset(n).num_cols]  # reuse adds numerics in step 2
    rows = []
    for name in names:
        rows.append(run_dataset(name, args.seeds, args.max_rows))
        if args.out:  # keep what is done if a later dataset is interrupted
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps({"partial": True, "results": rows}) + "\n")
    columns = ["dataset", "rows", *[f"{c}_auc" for c in CONTENDERS]]
    table = [
        {"dataset": r["dataset"], "rows": r["rows"],
         **{f"{c}_auc": f"{r[f'{c}_auc']:.3f} +- {r[f'{c}_sd']:.3f}" for c in CONTENDERS}}
        for r in rows
    ]  # fmt: skip
    print(format_table(table, columns))
    emit({"benchmark": "reuse", "machine": machine_info(), "max_rows": args.max_rows,
          "results": rows}, args.out)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
