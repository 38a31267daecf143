"""How long the Lift page's run takes: ``run_lift`` timed per shared dataset.

For each dataset this runs ``embedding_core.analysis.lift.run_lift`` (fast holdout mode by default,
``--folds K`` for k-fold) in this process, with the app's defaults: all four models, all
four encodings, ``TrainConfig()`` for DeepFM, seed 0. TensorFlow is imported once before
the first dataset and its import time reported on its own, as it is off the click path in
the app (the Train page warms it up).

Reported per dataset:

seconds          wall time of the ``run_lift`` call (what the user waits for after the click)
cpu_seconds      process CPU time over the same call (> seconds when threads overlap)
deepfm_seconds   DeepFM training per split (part of ``seconds``)
steps            per step: what finished and the seconds since the previous step
cells            per (model, encoding): mean, std, fit seconds, training rows
lift, verdicts   as the page shows them
peak_rss_mb      this process's peak RSS during the run (reset before each dataset; the
                 loaded data and TensorFlow count)

Datasets are read with ``common.load_dataset`` from ``BENCH_DATA_DIR`` (default
``/work/shared/data``), roles from their ``.meta.json``.

Usage::

    .venv/bin/python benchmarks/lift_speed.py --out benchmarks/results/lift_speed.json
    .venv/bin/python benchmarks/lift_speed.py --datasets german_credit --models logistic,hgb
    .venv/bin/python benchmarks/lift_speed.py --datasets adult --folds 5
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from common import (
    DATA_DIR,
    DATASETS,
    REPO_DIR,
    emit,
    format_table,
    load_dataset,
    machine_info,
    peak_rss_mb,
    reset_peak_rss,
)

if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))


def _log(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def bench_dataset(
    name: str,
    *,
    folds: int | None,
    models: tuple[str, ...],
    seed: int,
    data_dir: Path,
    quiet: bool,
) -> dict[str, Any]:
    """One ``run_lift`` call on one dataset, timed step by step."""
    from embedding_core.analysis.lift import run_lift
    from embedding_core.data.roles import Roles

    t0 = time.perf_counter()
    ds = load_dataset(name, data_dir)
    load_seconds = time.perf_counter() - t0
    roles = Roles(
        categorical=tuple(ds.cat_cols),
        target=ds.target,
        numeric=tuple(ds.num_cols),
        task=ds.meta.get("task"),
    )
    _log(f"{name}: {ds.n_rows:,} rows, {len(ds.cat_cols)} categorical, "
         f"{len(ds.num_cols)} numeric (loaded in {load_seconds:.1f} s)", quiet)  # fmt: skip

    steps: list[dict[str, Any]] = []
    last = [time.perf_counter()]

    def on_progress(p: Any) -> bool:
        # one entry per finished step (DeepFM start, each fitted cell); not per epoch
        if p.stage in ("start", "fit") or (p.stage == "deepfm" and p.epoch is None):
            now = time.perf_counter()
            steps.append(
                {
                    "step": p.step,
                    "steps": p.steps,
                    "stage": p.stage,
                    "message": p.message,
                    "seconds": now - last[0],
                }
            )
            _log(f"  {now - last[0]:6.1f} s  {p.step}/{p.steps} {p.message}", quiet)
            last[0] = now
        return True

    rss_reset = reset_peak_rss()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = run_lift(ds.frame, roles, folds=folds, models=models, seed=seed,
                      on_progress=on_progress)  # fmt: skip
    seconds = time.perf_counter() - wall0
    cpu_seconds = time.process_time() - cpu0
    doc = result.to_json_dict()
    return {
        "dataset": name,
        "n_rows": ds.n_rows,
        "n_categorical": len(ds.cat_cols),
        "n_numeric": len(ds.num_cols),
        "mode": doc["mode"],
        "folds": doc["folds"],
        "metric": doc["metric"],
        "load_seconds": load_seconds,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "deepfm_seconds": doc["deepfm_train_seconds"],
        "peak_rss_mb": peak_rss_mb() if rss_reset else None,
        "steps": steps,
        "cells": [
            {k: r.get(k) for k in ("model", "encoding", "mean", "std", "fit_seconds", "n_train")}
            for r in doc["results"] + ([doc["reference"]] if doc["reference"] else [])
        ],
        "lift": [
            {k: r.get(k) for k in ("model", "best_baseline", "lift", "std")} for r in doc["lift"]
        ],
        "verdicts": doc["verdicts"],
        "notes": doc["notes"],
        "subsample": doc["subsample"],
    }


def summary_table(results: list[dict[str, Any]]) -> str:
    """One line per dataset: size, total time, DeepFM time, slowest cell."""
    rows = []
    for r in results:
        cells = [c for c in r["cells"] if c["model"] != "deepfm"]
        slowest = max(cells, key=lambda c: c["fit_seconds"] or 0.0) if cells else None
        lifts = {x["model"]: x["lift"] for x in r["lift"]}
        rows.append(
            {
                "dataset": r["dataset"],
                "rows": r["n_rows"],
                "mode": r["mode"] if r["folds"] is None else f"cv{r['folds']}",
                "seconds": r["seconds"],
                "cpu s": r["cpu_seconds"],
                "DeepFM s": r["deepfm_seconds"],
                "slowest cell": f"{slowest['model']}/{slowest['encoding']}" if slowest else None,
                "its s": slowest["fit_seconds"] if slowest else None,
                "peak MB": r["peak_rss_mb"],
                **{f"lift {m}": lifts.get(m) for m in ("logistic", "hgb", "knn", "rf")},
            }
        )
    return format_table(rows, list(rows[0]) if rows else [])


def cell_table(result: dict[str, Any]) -> str:
    """Per (model, encoding) of one dataset: score and fit time."""
    return format_table(
        result["cells"], ["model", "encoding", "mean", "std", "fit_seconds", "n_train"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated names")
    parser.add_argument(
        "--models", default="logistic,hgb,knn,rf", help="comma-separated lift models"
    )
    parser.add_argument(
        "--folds", type=int, default=None, help="k-fold mode (default: fast holdout mode)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=str(DATA_DIR), help="where NAME.csv.gz live")
    parser.add_argument("--quiet", action="store_true", help="no per-step lines on stderr")
    parser.add_argument("--out", default=None, help="write the JSON result here")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    info = machine_info()
    t0 = time.perf_counter()
    import keras  # noqa: F401  - TensorFlow, timed on its own (the app warms it up)

    import_seconds = time.perf_counter() - t0
    from embedding_core.model.config import TrainConfig

    _log(f"TensorFlow/Keras import: {import_seconds:.1f} s", args.quiet)

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    results = []
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        result = bench_dataset(
            name,
            folds=args.folds,
            models=models,
            seed=args.seed,
            data_dir=Path(args.data_dir),
            quiet=args.quiet,
        )
        results.append(result)
        print(f"\n{name}: {result['seconds']:.1f} s\n{cell_table(result)}", file=sys.stderr)
        for verdict in result["verdicts"]:
            print(f"  {verdict}", file=sys.stderr)
    report = {
        "benchmark": "lift_speed",
        "machine": info,
        "import_seconds": import_seconds,
        "models": list(models),
        "folds": args.folds,
        "seed": args.seed,
        "config": TrainConfig().to_dict(),  # DeepFM settings (defaults, seed replaced)
        "results": results,
    }
    print("\n" + summary_table(results), file=sys.stderr)
    emit(report, args.out)


if __name__ == "__main__":
    main()
