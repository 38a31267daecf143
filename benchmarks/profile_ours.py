"""Where does our engine's training time go? Phase timings, optional cProfile, what-ifs.

Runs ``embedding_core.model.train.train`` on the synthetic speed data (``train_speed.py``:
200k training rows x 10 fields) or a shared dataset's fixed training split, with the
same-architecture settings of ``train_speed.py`` (k=8, batch 1024, 3 epochs)
and times each phase by wrapping the engine's functions (nothing in ``embedding_core`` is
edited). ``--variant`` tries a candidate fix by monkeypatching, so its effect can be
measured before anyone changes the engine:

asis           the engine as it is (progress callback passed, as the app does)
no-progress    ``on_progress=None``
async          the engine's progress callback marked ``async_safe`` (Keras 3 then
               dispatches batch hooks on a worker thread instead of syncing every step)
spe-N          ``steps_per_execution=N`` added to ``model.compile`` (N steps per
               ``tf.function`` call; batch hooks then run every N steps)
no-val         per-epoch validation replaced by a constant (timing only)
Variants combine with "+", e.g. ``async+spe-8``.

Usage::

    .venv/bin/python benchmarks/profile_ours.py --variant asis
    .venv/bin/python benchmarks/profile_ours.py --variant spe-16 --cprofile 25
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from common import (
    REPO_DIR,
    EpochClock,
    emit,
    fixed_split,
    load_dataset,
    peak_rss_mb,
    read_split,
)
from train_speed import OURS_SETTINGS, make_synthetic

if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

PHASES: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)
PEAK_GROWTH_MB: dict[str, float] = defaultdict(float)


def _timed(name: str, fn: Any) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        peak0 = peak_rss_mb()
        try:
            return fn(*args, **kwargs)
        finally:
            PHASES[name] += time.perf_counter() - t0
            CALLS[name] += 1
            PEAK_GROWTH_MB[name] += peak_rss_mb() - peak0

    return wrapper


def _patch(variant: str) -> None:
    import keras

    import embedding_core.data.split as split
    import embedding_core.data.validation as validation
    import embedding_core.model.deepfm as deepfm
    import embedding_core.model.embeddings as embeddings
    import embedding_core.model.features as features
    import embedding_core.model.train as train_mod

    validation.validate_roles = _timed("validate_roles", validation.validate_roles)
    split.train_valid_split = _timed("train_valid_split", split.train_valid_split)
    features.FeatureEncoder.fit = _timed("FeatureEncoder.fit", features.FeatureEncoder.fit)
    features.FeatureEncoder.transform = _timed(
        "FeatureEncoder.transform", features.FeatureEncoder.transform
    )
    deepfm.build_deepfm = _timed("build_deepfm", deepfm.build_deepfm)
    embeddings.field_statistics = _timed("field_statistics", embeddings.field_statistics)
    embeddings.build_tables = _timed("build_tables", embeddings.build_tables)
    keras.Model.fit = _timed("model.fit (incl. per-epoch validation)", keras.Model.fit)
    keras.Model.predict = _timed("model.predict (validation)", keras.Model.predict)

    compile_orig = keras.Model.compile
    spe = next((int(p[4:]) for p in variant.split("+") if p.startswith("spe-")), None)

    @functools.wraps(compile_orig)
    def compile_patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        if spe:
            kwargs["steps_per_execution"] = spe
        return _timed("model.compile", compile_orig)(self, *args, **kwargs)

    keras.Model.compile = compile_patched

    make_orig = train_mod._make_reporter

    def make_variant(
        on_progress: Any, epochs: int, batches: int, val: Any, t: float, **kwargs: Any
    ) -> Any:
        if "no-val" in variant:  # timing only: early stopping sees a constant loss
            val = _timed("validation skipped", lambda: {"val_loss": 0.0})
        else:
            val = _timed("validation_logs (predict + metrics)", val)
        reporter = make_orig(on_progress, epochs, batches, val, t, **kwargs)
        if "async" in variant:
            reporter.async_safe = True
        return reporter

    train_mod._make_reporter = make_variant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variant", default="asis", help="asis|no-progress|async|spe-N|no-val, joined by +"
    )
    parser.add_argument("--dataset", default="synthetic", help="'synthetic' or a shared dataset")
    parser.add_argument("--rows", type=int, default=200_000, help="synthetic training rows")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="read a split written by write_split instead"
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cprofile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    import keras  # noqa: F401
    import tensorflow as tf  # noqa: F401

    from embedding_core.data.roles import Roles
    from embedding_core.model.config import TrainConfig
    from embedding_core.model.train import train

    _patch(args.variant)
    if args.workdir is not None:  # a split written by common.write_split (peak RSS is clean)
        spec, frame, _ = read_split(args.workdir)
        cat_cols, num_cols, target = spec["cat_cols"], spec["num_cols"], spec["target"]
    else:
        synthetic = args.dataset == "synthetic"
        ds = make_synthetic(args.rows) if synthetic else load_dataset(args.dataset)
        train_idx, _ = fixed_split(ds.frame[ds.target].to_numpy())
        frame = ds.frame.iloc[train_idx].reset_index(drop=True)
        cat_cols, num_cols, target = ds.cat_cols, ds.num_cols, ds.target
    roles = Roles(
        categorical=tuple(cat_cols), numeric=tuple(num_cols), target=target, task="binary"
    )
    config = TrainConfig().replace(**{**OURS_SETTINGS, "epochs": args.epochs})

    clock = EpochClock()

    def on_progress(p: Any) -> None:
        if p.kind == "start":
            clock.start()
        elif p.kind == "epoch":
            clock.epoch_end()

    callback = None if args.variant == "no-progress" else on_progress
    profiler = cProfile.Profile() if args.cprofile else None
    peak_before = peak_rss_mb()
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    run = train(frame, roles, config, on_progress=callback)
    run.tables()
    if profiler:
        profiler.disable()
    total = time.perf_counter() - t0

    n_fit = int(run.metrics["n_train"])
    result: dict[str, Any] = {
        "variant": args.variant,
        "dataset": args.dataset,
        "n_fit_rows": n_fit,
        "train_call_seconds": total,
        "phases_seconds": {k: round(v, 3) for k, v in PHASES.items()},
        "calls": dict(CALLS),
        "peak_rss_growth_mb": {k: round(v, 1) for k, v in PEAK_GROWTH_MB.items()},
        "peak_rss_before_train_mb": peak_before,
        "engine_metrics": {
            k: v for k, v in run.metrics.items() if "second" in k or k.startswith("valid_auc")
        },
        "peak_rss_mb": peak_rss_mb(),
    }
    if clock.epoch_ends:
        result.update(clock.summary(n_fit, total))
    else:
        eps = [h.get("seconds") for h in run.history]
        result["epoch_seconds"] = eps
        if len(eps) > 1:
            result["rows_per_s_steady"] = n_fit * (len(eps) - 1) / sum(eps[1:])
    if profiler:
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(args.cprofile)
        print(buf.getvalue(), file=sys.stderr)
    for k, v in sorted(PHASES.items(), key=lambda kv: -kv[1]):
        growth = PEAK_GROWTH_MB[k]
        print(f"{v:8.2f}s  {CALLS[k]:3d}x  peak RSS +{growth:6.1f} MB  {k}", file=sys.stderr)
    emit(result, args.out)


if __name__ == "__main__":
    main()
