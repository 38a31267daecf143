"""How long the Lift page's run takes: ``run_lift`` timed per shared dataset.

For each dataset this runs ``embedding_core.analysis.lift.run_lift`` (fast holdout mode by default,
``--folds K`` for k-fold) in this process, exactly as the Lift page's *Run lift* button
does with the app's defaults: all four models, all four encodings, ``TrainConfig()`` for
DeepFM, seed 0, ``run_lift``'s own defaults for the rest. A bundled sample
(``sample_data/``, e.g. the default ``bank_marketing``) is read with ``load_sample``, the
frame and roles the app holds; other datasets come from ``BENCH_DATA_DIR``. TensorFlow is
imported once before the first dataset and its import time reported on its own, as it is
off the click path in the app (the Train page warms it up).

``--baseline`` also runs, in the same process and alternating with the current code, the
fast mode as it was before round 2's second pass (``deepfm_refit=True, parallel=False``:
DeepFM refitted on all training rows, every fit one after another), so a before/after
pair is measured under the same load.

Reported per dataset:

seconds          wall time of the ``run_lift`` call (what the user waits for after the click)
cpu_seconds      process CPU time over the same call (> seconds when threads overlap)
deepfm_seconds   DeepFM training per split (part of ``seconds``)
steps            per step: what finished and the seconds since the previous step
cells            per (model, encoding): mean, std, fit seconds, training rows
lift, verdicts   as the page shows them
peak_rss_mb      this process's peak RSS during the run (reset before each dataset; the
                 loaded data and TensorFlow count)

Datasets that are not bundled samples are read with ``common.load_dataset`` from
``BENCH_DATA_DIR`` (default ``/work/shared/data``), roles from their ``.meta.json``.

Usage::

    .venv/bin/python benchmarks/lift_speed.py --out benchmarks/results/lift_speed.json
    .venv/bin/python benchmarks/lift_speed.py --datasets bank_marketing --baseline --repeat 2
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
    variant: str = "current",
) -> dict[str, Any]:
    """One ``run_lift`` call on one dataset, timed step by step.

    ``variant``: ``"current"`` (``run_lift``'s defaults, what the app runs) or
    ``"before"`` (``deepfm_refit=True, parallel=False``).
    """
    from embedding_core.analysis.lift import run_lift

    t0 = time.perf_counter()
    frame, roles, source = _load(name, data_dir)
    load_seconds = time.perf_counter() - t0
    _log(f"{name} [{variant}]: {len(frame):,} rows, {len(roles.categorical)} categorical, "
         f"{len(roles.numeric)} numeric, from {source} (loaded in {load_seconds:.1f} s)",
         quiet)  # fmt: skip

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
    before = {"deepfm_refit": True, "parallel": False} if variant == "before" else {}
    result = run_lift(frame, roles, folds=folds, models=models, seed=seed,
                      on_progress=on_progress, **before)  # fmt: skip
    seconds = time.perf_counter() - wall0
    cpu_seconds = time.process_time() - cpu0
    doc = result.to_json_dict()
    return {
        "dataset": name,
        "variant": variant,
        "source": source,
        "n_rows": len(frame),
        "n_categorical": len(roles.categorical),
        "n_numeric": len(roles.numeric),
        "mode": doc["mode"],
        "folds": doc["folds"],
        "metric": doc["metric"],
        "load_seconds": load_seconds,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "deepfm_seconds": doc["deepfm_train_seconds"],
        "deepfm_refit": doc["config"]["refit"],
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


def _load(name: str, data_dir: Path) -> tuple[Any, Any, str]:
    """The frame and roles the app holds for a bundled sample, else the shared dataset."""
    from embedding_core.data.roles import Roles
    from embedding_core.data.samples import list_samples, load_sample

    if name in {s.name for s in list_samples()}:
        frame, roles = load_sample(name)
        return frame, roles, "sample_data (load_sample, as the app)"
    ds = load_dataset(name, data_dir)
    roles = Roles(
        categorical=tuple(ds.cat_cols),
        target=ds.target,
        numeric=tuple(ds.num_cols),
        task=ds.meta.get("task"),
    )
    return ds.frame, roles, str(data_dir)


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
                "variant": r["variant"],
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


def _speedups(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per dataset measured both ways: median seconds of each variant and their ratio."""
    import statistics

    out: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(r["dataset"] for r in results):
        by = {
            v: [r["seconds"] for r in results if r["dataset"] == name and r["variant"] == v]
            for v in ("before", "current")
        }
        if by["before"] and by["current"]:
            before, current = statistics.median(by["before"]), statistics.median(by["current"])
            out[name] = {"before_s": before, "current_s": current, "ratio": before / current}
    return out


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
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also time the fast mode as it was before (DeepFM refit, no overlap), alternating",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per dataset and variant")
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
    variants = ("before", "current") if args.baseline else ("current",)
    results = []
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        for _ in range(max(args.repeat, 1)):
            for variant in variants:
                result = bench_dataset(
                    name,
                    folds=args.folds,
                    models=models,
                    seed=args.seed,
                    data_dir=Path(args.data_dir),
                    quiet=args.quiet,
                    variant=variant,
                )
                results.append(result)
                print(f"\n{name} [{variant}]: {result['seconds']:.1f} s\n{cell_table(result)}",
                      file=sys.stderr)  # fmt: skip
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
        "speedup": _speedups(results),
    }
    print("\n" + summary_table(results), file=sys.stderr)
    emit(report, args.out)


if __name__ == "__main__":
    main()
