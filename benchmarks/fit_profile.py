"""Where the CPU seconds of one default training call go: phases, and ops per step.

Runs the app's training call (``embedding_core.model.train.train``, ``TrainConfig()``
unless ``--config``) on ``fit_time.py``'s data (``--data sample``: the default sample's
fixed 80%) once, TensorFlow imported before the clock, and reports process CPU seconds
(all threads) of each phase, read at the progress events:

- ``prep``: from the call to the ``"start"`` event (roles, split, encoders, network);
- ``first_epoch`` and ``steady_epoch`` (mean of the other early-stopping epochs): the
  first pays for tracing the training step and the validation predict;
- ``refit_and_finish``: from the last early-stopping epoch to the end: the final fit
  on all rows, then the embedding tables and the run.

Inside those phases, the CPU of what the engine adds around the steps: per-epoch
validation (``predict_raw``, the metrics) and the weight averager's hooks. ``--ops``
also records two early-stopping epochs with TensorFlow's profiler and adds the op time
per training step by op type and by layer (profiled op times are inflated by the
profiler; read them as shares).

Usage::

    .venv/bin/python benchmarks/fit_profile.py --data sample --ops \\
        --out benchmarks/results/fit_profile_sample.json

Not a timed test: CPU seconds depend on the machine and its load (recorded).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import emit  # noqa: E402
from fit_time import _data  # noqa: E402

#: CPU seconds and calls of the wrapped engine functions.
CPU: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)
#: The early-stopping epochs whose steps ``--ops`` records (1-based, after the first).
PROFILED_EPOCHS = (3, 4)
#: Parts of the network, by layer name (first match), for the op-time shares.
PARTS = (
    ("dropout", r"dropout"),
    ("mlp", r"deep_"),
    ("numeric embedding", r"numeric"),
    ("fm", r" fm$"),
    ("category embedding", r"embedding|linear"),
    ("optimizer", r"optimizer"),
)


def _cpu_timed(name: str, fn: Any) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        c0 = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            CPU[name] += time.process_time() - c0
            CALLS[name] += 1

    return wrapper


def _instrument() -> None:
    """Wrap the pieces the training call runs around its steps (the engine is not edited)."""
    import embedding_core.model.deepfm as deepfm
    import embedding_core.model.features as features
    import embedding_core.model.train as train_mod

    deepfm.predict_raw = _cpu_timed("validation_predict", deepfm.predict_raw)
    train_mod.validation_figures = _cpu_timed("validation_metrics", train_mod.validation_figures)
    features.FeatureEncoder.fit_transform = _cpu_timed(
        "encoders_fit_transform", features.FeatureEncoder.fit_transform
    )
    train_mod._compiled_network = _cpu_timed("build_and_compile", train_mod._compiled_network)
    averagers = train_mod._averaging_callbacks

    def timed_averagers(config: Any, batches: int) -> list[Any]:
        callbacks = averagers(config, batches)
        for cb in callbacks:
            for hook in ("on_train_begin", "on_epoch_begin", "on_train_batch_end", "on_epoch_end"):
                setattr(cb, hook, _cpu_timed("averager", getattr(cb, hook)))
        return callbacks

    train_mod._averaging_callbacks = timed_averagers


def _op_times(logdir: str, steps: int) -> dict[str, Any]:
    """Op milliseconds per training step from a profiler trace, by op type and by layer."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    path = next(Path(logdir).rglob("*.xplane.pb"))
    space = xplane_pb2.XSpace()
    space.ParseFromString(path.read_bytes())
    by_type: dict[str, float] = defaultdict(float)
    by_layer: dict[str, float] = defaultdict(float)
    outside = 0.0  # ops outside the training loop: validation predict, averager
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" not in name or " " in name:  # an op is "path/to/op:Type"
                    continue
                op_path, op_type = name.rsplit(":", 1)
                ms = event.duration_ps / 1e9
                if "while/" not in op_path:
                    outside += ms
                    continue
                by_type[op_type] += ms
                match = re.search(r"(gradient_tape/)?deepfm(?:_\d+)?/([^/]+)", op_path)
                if match:
                    layer = ("backward " if match.group(1) else "forward ") + match.group(2)
                else:
                    layer = "optimizer" if "adam" in op_path.lower() else "other"
                by_layer[re.sub(r"_\d+$", "", layer)] += ms

    total = sum(by_type.values())
    by_part: dict[str, float] = defaultdict(float)
    for layer, ms in by_layer.items():
        by_part[next((part for part, pat in PARTS if re.search(pat, layer)), "other")] += ms

    def per_step(values: dict[str, float]) -> dict[str, float]:
        kept = [(k, v) for k, v in values.items() if v >= 0.005 * total]  # 0.5% and up
        return {k: round(v / steps, 3) for k, v in sorted(kept, key=lambda kv: -kv[1])}

    return {
        "steps": steps,
        "op_ms_per_step": round(total / steps, 2),
        "share_by_part": {
            k: round(v / total, 3) for k, v in sorted(by_part.items(), key=lambda kv: -kv[1])
        },
        "by_type": per_step(by_type),
        "by_layer": per_step(by_layer),
        "outside_training_loop_ms": round(outside, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="sample", help="'sample' or 'scale:ROWS' (fit_time.py)")
    parser.add_argument("--config", default="{}", help="JSON TrainConfig overrides")
    parser.add_argument("--ops", action="store_true", help="op time per step (TF profiler)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from embedding_core.model.config import TrainConfig
    from embedding_core.model.train import train

    _instrument()
    frame, _, roles = _data(args.data)
    marks: dict[str, float] = {}
    epoch_cpu: list[float] = []
    logdir = tempfile.mkdtemp(prefix="fit_profile_") if args.ops else None
    batches = 0

    def on_progress(p: Any) -> None:
        nonlocal batches
        now = time.process_time()
        if p.kind == "start":
            marks["start"], batches = now, p.batches
        elif p.kind == "epoch":
            epoch_cpu.append(now)
            if logdir and p.epoch == PROFILED_EPOCHS[0] - 1:
                tf.profiler.experimental.start(logdir)
            if logdir and p.epoch == PROFILED_EPOCHS[-1]:
                tf.profiler.experimental.stop()
        elif p.kind == "end":
            marks["end"] = now

    config = TrainConfig(**json.loads(args.config))
    load_start = [round(x, 1) for x in os.getloadavg()]
    cpu0, t0 = time.process_time(), time.perf_counter()
    run = train(frame, roles, config, on_progress=on_progress)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    m = run.metrics
    steady = [b - a for a, b in zip(epoch_cpu, epoch_cpu[1:], strict=False)]
    result: dict[str, Any] = {
        "benchmark": "fit_profile",
        "data": args.data,
        "rows": len(frame),
        "config": json.loads(args.config),
        "cpus": os.cpu_count(),
        "load_average_at_start": load_start,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "epochs_run": m["epochs_run"],
        "refit_epochs": m["refit_epochs"],
        "batches_per_epoch": batches,
        "valid_auc": m.get("valid_auc"),
        "phases_cpu_s": {
            "prep": round(marks["start"] - cpu0, 2),
            "first_epoch": round(epoch_cpu[0] - marks["start"], 2),
            "steady_epoch": round(sum(steady) / len(steady), 3) if steady else None,
            "early_stopping_epochs": round(epoch_cpu[-1] - marks["start"], 2),
            "refit_and_finish": round(marks["end"] - epoch_cpu[-1], 2),
        },
        "inside_cpu_s": {k: round(v, 3) for k, v in CPU.items()},
        "calls": dict(CALLS),
    }
    if logdir:
        steps = batches * len(PROFILED_EPOCHS)
        result["ops"] = _op_times(logdir, steps)
        result["ops"]["note"] = (
            "profiled epochs run slower than unprofiled ones: read op times as shares"
        )
    result["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    emit(result, args.out)


if __name__ == "__main__":
    main()
