"""Test AUC / log loss on the fixed 80/20 split: ours (defaults) vs DeepCTR vs TE + HGB.

Contenders, all on exactly the same rows:

ours      ``embedding_core.model.train.train`` with ``TrainConfig()`` defaults (early stopping on
          an internal validation split of the training rows, best weights restored).
deepctr   DeepCTR 0.9.4 DeepFM with its reference settings (3 epochs, batch 1024, k=8,
          DNN 256-128-64, no regularisation), trained on all training rows.
te_hgb    scikit-learn baseline: categorical columns with <= 255 training levels use
          HistGradientBoosting's native categorical support, larger ones go through
          ``TargetEncoder`` (cross-fitted); numerics as they are; HGB defaults otherwise.
catboost  CatBoost with defaults, ``cat_features`` = the categorical columns
          (``peer_catboost.py``, run with the bench venv's Python, like DeepCTR).

Datasets: every shared set (binary: test AUC / log loss) plus ``hotel_adr``, a regression
set derived from hotel_bookings (``common.REGRESSION_SETS``: a booking's price from the
other columns; test RMSE / MAE / R^2, split not stratified).

Each DeepFM and CatBoost runs in its own subprocess; TE+HGB runs in this process.

Usage::

    .venv/bin/python benchmarks/quality.py --out benchmarks/results/quality.json
    .venv/bin/python benchmarks/quality.py --datasets adult,bank_marketing --quick
    .venv/bin/python benchmarks/quality.py --datasets hotel_adr,adult --quick --no-deepctr
    .venv/bin/python benchmarks/quality.py --seeds 3   # mean +- std over seeds 0, 1, 2
    .venv/bin/python benchmarks/quality.py --ours-config '{}' --ours-config '{"l2_embedding": 1e-5}'
    # a screen of one variant alone (our fits only; the others are deterministic):
    .venv/bin/python benchmarks/quality.py --datasets adult --seeds 3 --no-deepctr \
        --no-catboost --no-te-hgb --ours-config '{"dropout": 0.2}'
    # numeric encodings, no DeepCTR, big sets subsampled to 20,000 rows, 3 seeds:
    .venv/bin/python benchmarks/quality.py --max-rows 20000 --seeds 3 --no-deepctr \
        --datasets bank_marketing,hotel_bookings,diabetes_readmission,adult,german_credit \
        --ours-config '{}' --ours-config '{"numeric_encoding": "bins"}' \
        --ours-config '{"numeric_encoding": "ple"}'

With ``--seeds N`` TE+HGB also runs with ``random_state`` 0..N-1 (its early-stopping split),
so every contender gets a mean and sd. The closing summary gives each contender's mean
test AUC over the datasets and, for every variant of ours, its worst per-dataset loss
against the first configuration in sd units (the rule for adopting a change: a better
mean across datasets and no loss larger than one sd on any of them).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import (
    DATASETS,
    OURS_PYTHON,
    PEER_PYTHON,
    REGRESSION_SETS,
    Dataset,
    emit,
    format_table,
    load_dataset,
    machine_info,
    run_contender,
    score_key,
    task_of,
    test_metrics,
    write_split,
)

QUALITY_DATASETS = (*DATASETS, *REGRESSION_SETS)
QUICK_ROWS = 20_000
NATIVE_MAX_LEVELS = 255


def te_hgb_baseline(
    train: pd.DataFrame, test: pd.DataFrame, ds: Dataset, seed: int = 0
) -> dict[str, Any]:
    """TargetEncoder (high-cardinality) + native categoricals (low) + HistGradientBoosting
    (the classifier, or the regressor for a numeric target)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.preprocessing import TargetEncoder

    t0 = time.perf_counter()
    task = task_of(ds.meta)
    y_train = train[ds.target].to_numpy()
    x_train = pd.DataFrame(index=train.index)
    x_test = pd.DataFrame(index=test.index)
    low = [c for c in ds.cat_cols if train[c].nunique() <= NATIVE_MAX_LEVELS]
    high = [c for c in ds.cat_cols if c not in low]
    for c in low:
        levels = sorted(train[c].unique())
        x_train[c] = pd.Categorical(train[c], categories=levels)
        seen = test[c].where(test[c].isin(levels))  # unseen in training -> NaN (missing)
        x_test[c] = pd.Categorical(seen, categories=levels)
    if high:
        target_type = "continuous" if task == "regression" else "binary"
        encoder = TargetEncoder(target_type=target_type, random_state=seed)
        enc_train = encoder.fit_transform(train[high].astype(object), y_train)
        enc_test = encoder.transform(test[high].astype(object))
        for i, c in enumerate(high):
            x_train[c] = enc_train[:, i]
            x_test[c] = enc_test[:, i]
    for c in ds.num_cols:
        x_train[c] = train[c].to_numpy(dtype="float64")
        x_test[c] = test[c].to_numpy(dtype="float64")
    hgb = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    model = hgb(categorical_features="from_dtype", random_state=seed)
    model.fit(x_train, y_train)
    pred = model.predict(x_test) if task == "regression" else model.predict_proba(x_test)[:, 1]
    return {
        "contender": "te_hgb",
        "native_categorical": low,
        "target_encoded": high,
        "train_seconds": time.perf_counter() - t0,
        "n_iter": int(model.n_iter_),
        **test_metrics(task, test[ds.target].to_numpy(), pred),
    }


def _subsample(ds: Dataset, n_rows: int, seed: int = 0) -> Dataset:
    """A seeded subsample (for --quick), stratified on a class target."""
    if ds.n_rows <= n_rows:
        return ds
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(
        np.arange(ds.n_rows),
        train_size=n_rows,
        random_state=seed,
        stratify=ds.frame[ds.target].to_numpy() if task_of(ds.meta) == "binary" else None,
    )
    frame = ds.frame.iloc[np.sort(keep)].reset_index(drop=True)
    return Dataset(ds.name, frame, ds.cat_cols, ds.num_cols, ds.target, ds.meta)


def bench_dataset(
    ds: Dataset,
    ours_configs: list[dict[str, Any]],
    peer_settings: dict[str, Any],
    log_dir: Path | None,
    seeds: int = 1,
    deepctr: bool = True,
    catboost: bool = True,
    te_hgb: bool = True,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "dataset": ds.name,
        "task": task_of(ds.meta),
        "n_rows": ds.n_rows,
        "n_categorical": len(ds.cat_cols),
        "n_numeric": len(ds.num_cols),
        "contenders": {},
    }
    with tempfile.TemporaryDirectory(prefix=f"bench_quality_{ds.name}_") as tmp:
        workdir = Path(tmp)
        train, test = write_split(ds, workdir)
        out["n_train"], out["n_test"] = len(train), len(test)
        jobs = [
            (_ours_name(i), OURS_PYTHON, "ours_deepfm.py", cfg, False)
            for i, cfg in enumerate(ours_configs)
        ]
        if deepctr:
            jobs.append(("deepctr", PEER_PYTHON, "peer_deepctr.py", peer_settings, True))
        for name, python, script, settings, legacy in jobs:
            if script == "ours_deepfm.py" and seeds > 1:  # all seeds in one process
                print(f"[quality] {ds.name}: {name} seeds 0-{seeds - 1}", file=sys.stderr)
                log = log_dir / f"quality_{ds.name}_{name}.log" if log_dir else None
                args = ["--workdir", str(workdir), "--settings", json.dumps(settings)]
                args += ["--seeds-in-process", str(seeds)]
                res = run_contender(python, script, args, legacy_keras=legacy, log_path=log)
                if "error" in res:
                    print(f"[quality]   FAILED: {res['error']}", file=sys.stderr)
                out["contenders"][name] = _over_seeds(res.get("per_seed", [res]))
                continue
            runs = []
            for seed in range(seeds) if seeds > 1 else [None]:  # None: the script's own
                print(f"[quality] {ds.name}: {name} seed {seed}", file=sys.stderr)
                log = log_dir / f"quality_{ds.name}_{name}_{seed}.log" if log_dir else None
                seeded = settings if seed is None else {**settings, "seed": seed}
                args = ["--workdir", str(workdir), "--settings", json.dumps(seeded)]
                res = run_contender(python, script, args, legacy_keras=legacy, log_path=log)
                if "error" in res:
                    print(f"[quality]   FAILED: {res['error']}", file=sys.stderr)
                runs.append(res)
            out["contenders"][name] = _over_seeds(runs) if seeds > 1 else runs[0]
        if te_hgb:
            print(f"[quality] {ds.name}: te_hgb", file=sys.stderr)
            baselines = [te_hgb_baseline(train, test, ds, seed) for seed in range(max(seeds, 1))]
            out["contenders"]["te_hgb"] = _over_seeds(baselines) if seeds > 1 else baselines[0]
        if catboost:
            out["contenders"]["catboost"] = _catboost(workdir, ds.name, seeds, log_dir)
    return out


def _catboost(workdir: Path, name: str, seeds: int, log_dir: Path | None) -> dict[str, Any]:
    """CatBoost with defaults on the split in ``workdir``, seeds 0..N-1 (the bench venv)."""
    runs = []
    for seed in range(max(seeds, 1)):
        print(f"[quality] {name}: catboost seed {seed}", file=sys.stderr)
        log = log_dir / f"quality_{name}_catboost_{seed}.log" if log_dir else None
        args = ["--workdir", str(workdir), "--settings", json.dumps({"seed": seed})]
        res = run_contender(PEER_PYTHON, "peer_catboost.py", args, log_path=log)
        if "error" in res:
            print(f"[quality]   FAILED: {res['error']}", file=sys.stderr)
        runs.append(res)
    return _over_seeds(runs) if seeds > 1 else runs[0]


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean test AUC per contender over the binary datasets, test RMSE per regression
    dataset, and each variant of ours against ``ours`` (the first configuration) on all
    of them: mean difference in AUC (binary) and worst loss in sd units (both tasks)."""
    binary = [r for r in results if r.get("task", "binary") == "binary"]
    regression = [r for r in results if r.get("task") == "regression"]
    names: list[str] = []
    for r in results:
        names += [n for n in r["contenders"] if n not in names]
    means = {}
    for name in names:
        aucs = [r["contenders"].get(name, {}).get("test_auc") for r in binary]
        if binary and all(a is not None for a in aucs):
            means[name] = float(np.mean(aucs))
    rmse = {
        r["dataset"]: {n: c.get("test_rmse") for n, c in r["contenders"].items()}
        for r in regression
    }
    versus: dict[str, Any] = {}
    for name in names:
        if not name.startswith("ours["):
            continue
        diffs, worst = [], 0.0
        for r in results:
            key = score_key(r.get("task", "binary"))
            a, b = r["contenders"].get(name, {}), r["contenders"].get("ours", {})
            if a.get(key) is None or b.get(key) is None:
                continue
            gain = a[key] - b[key] if key == "test_auc" else b[key] - a[key]
            sd = max(a.get(f"{key}_std", 0.0), b.get(f"{key}_std", 0.0), 1e-9)
            if key == "test_auc":
                diffs.append(gain)
            worst = min(worst, gain / sd)
        if not diffs:
            continue
        versus[name] = {
            "mean_diff": float(np.mean(diffs)),
            "worst_loss_in_sd": float(worst),
            "adopt": bool(np.mean(diffs) > 0 and worst >= -1.0),
        }
    return {"mean_test_auc": means, "test_rmse": rmse, "variants_vs_ours": versus}


def _over_seeds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several seeded runs -> the first run's record with mean (and std) test figures."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    merged = dict(ok[0])
    keys = ("test_auc", "test_logloss", "test_rmse", "test_mae", "test_r2")
    for key in (*keys, "train_seconds", "epochs_run"):
        values = [float(r[key]) for r in ok if r.get(key) is not None]
        if values:
            merged[key] = float(np.mean(values))
            merged[f"{key}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
            merged[f"{key}_runs"] = values
    merged["seeds"] = len(ok)
    return merged


def _ours_name(i: int) -> str:
    return "ours" if i == 0 else f"ours[{i}]"


def table(results: list[dict[str, Any]]) -> str:
    """One row per dataset: each contender's headline figure (test AUC, or test RMSE for a
    regression set: lower is better), its sd over seeds, ours minus each peer, log loss."""
    rows = []
    names: list[str] = []
    for r in results:
        for name in r["contenders"]:
            if name not in names:
                names.append(name)
    for r in results:
        c = r["contenders"]
        key = score_key(r.get("task", "binary"))
        row: dict[str, Any] = {
            "dataset": r["dataset"],
            "rows": r["n_rows"],
            "metric": "RMSE" if key == "test_rmse" else "AUC",
        }
        for name in names:
            row[name] = c.get(name, {}).get(key)
            if f"{key}_std" in c.get(name, {}):
                row[f"{name} sd"] = c[name][f"{key}_std"]
        ours = c.get("ours", {}).get(key)
        for other in ("deepctr", "te_hgb", "catboost"):
            a, b = ours, c.get(other, {}).get(key)
            row[f"ours-{other}"] = a - b if a is not None and b is not None else None
        for name in names:
            row[f"{name} logloss"] = c.get(name, {}).get("test_logloss")
        row["ours epochs"] = c.get("ours", {}).get("epochs_run")
        row["ours s"] = c.get("ours", {}).get("train_seconds")
        row["deepctr s"] = c.get("deepctr", {}).get("train_seconds")
        row["catboost s"] = c.get("catboost", {}).get("train_seconds")
        rows.append(row)
    cols: list[str] = []
    for row in rows:
        cols += [k for k in row if k not in cols]
    return format_table(rows, cols)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets",
        default=",".join(QUALITY_DATASETS),
        help="comma-separated names (the shared sets and hotel_adr, a regression set)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"stratified subsample of {QUICK_ROWS:,} rows per dataset (smoke test only)",
    )
    parser.add_argument(
        "--ours-config",
        action="append",
        default=None,
        help="JSON TrainConfig overrides for our engine; repeat to compare variants "
        "(default: one run with '{}' = our defaults)",
    )
    parser.add_argument(
        "--peer-settings", default="{}", help="JSON overrides of DeepCTR's reference settings"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="run each DeepFM with seeds 0..N-1 and report mean and std (default 1: "
        "ours seed 0, DeepCTR its reference seed)",
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="stratified, seeded subsample of at most this many rows per dataset "
        "(so the benchmark finishes on a loaded machine; say so next to the figures)",
    )
    parser.add_argument(
        "--no-deepctr", action="store_true", help="skip DeepCTR (e.g. no bench venv)"
    )
    parser.add_argument(
        "--no-ours",
        action="store_true",
        help="skip our engine (the peers alone, e.g. CatBoost in a parallel job)",
    )
    parser.add_argument(
        "--no-catboost", action="store_true", help="skip CatBoost (e.g. no bench venv)"
    )
    parser.add_argument(
        "--no-te-hgb",
        action="store_true",
        help="skip TE+HGB (deterministic per random_state: a screen of our variants can "
        "take its figures from an earlier run)",
    )
    parser.add_argument("--log-dir", type=Path, default=None, help="keep contender logs here")
    parser.add_argument("--out", default=None, help="write the JSON result here")
    args = parser.parse_args()

    ours_configs = [json.loads(c) for c in (args.ours_config or ["{}"])]
    if args.no_ours:
        ours_configs = []
    peer_settings = json.loads(args.peer_settings)
    info = machine_info()
    results = []
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        ds = load_dataset(name)
        if args.quick or args.max_rows:
            ds = _subsample(ds, args.max_rows or QUICK_ROWS)
        results.append(
            bench_dataset(
                ds,
                ours_configs,
                peer_settings,
                args.log_dir,
                args.seeds,
                not args.no_deepctr,
                not args.no_catboost,
                not args.no_te_hgb,
            )
        )
        print(table(results[-1:]), file=sys.stderr)
    report = {
        "benchmark": "quality",
        "machine": info,
        "quick": args.quick,
        "split": "fixed 80/20, seed 0, stratified on class targets (common.fixed_split)",
        "ours_configs": ours_configs,
        "deepctr_settings_overrides": peer_settings,
        "seeds": args.seeds,
        "max_rows": args.max_rows,
        "results": results,
        "summary": summary(results),
    }
    print("\n" + table(results), file=sys.stderr)
    print(json.dumps(report["summary"], indent=2), file=sys.stderr)
    emit(report, args.out)


if __name__ == "__main__":
    main()
