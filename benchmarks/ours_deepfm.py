"""Contender: our engine (``embedding_core.model.train.train``), run with the project venv.

Run by the parent scripts as::

    .venv/bin/python benchmarks/ours_deepfm.py --workdir DIR --settings '{"epochs": 3}' \
        [--dump-embeddings FILE.npz] [--out FILE.json]

``DIR`` holds ``train.npz``, ``test.npz`` and ``spec.json`` written by
``common.write_split``. ``--settings`` is a JSON object of ``TrainConfig`` overrides; ``{}``
means our defaults (early stopping on an internal validation split). Prints one JSON object
(last stdout line). ``--seeds-in-process N`` trains with seeds 0..N-1 in this one process
(TensorFlow imported once, which saves about a minute per run on a loaded machine) and puts
the N results in ``per_seed``.
"""

from __future__ import annotations

import time

T_PROCESS0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from common import (  # noqa: E402
    REPO_DIR,
    EpochClock,
    emit,
    peak_rss_mb,
    read_split,
    reset_peak_rss,
    task_of,
    test_metrics,
)

if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))


def _rss_now_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def engine_fingerprint() -> dict[str, Any]:
    """sha256 over the engine's source files (the engine may change between runs)."""
    import hashlib

    digest = hashlib.sha256()
    files = sorted((REPO_DIR / "embedding_core").glob("*.py"))
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    newest = max(path.stat().st_mtime for path in files)
    return {
        "sha256_12": digest.hexdigest()[:12],
        "newest_file_mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(newest)),
    }


def _positive_probability(run: Any, frame: Any) -> np.ndarray:
    """P(target == 1) whatever label the engine took as positive."""
    p = np.asarray(run.predict(frame), dtype="float64")
    if p.ndim == 2:  # (n, 2) or (n, 1)
        p = p[:, -1]
    positive = getattr(getattr(run, "features", None), "positive_label_", 1)
    if str(positive) in ("0", "0.0", "False"):
        p = 1.0 - p
    return p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--settings", default="{}", help="JSON TrainConfig overrides")
    parser.add_argument("--dump-embeddings", type=Path, default=None)
    parser.add_argument("--out", default=None, help="also write the JSON result here")
    parser.add_argument("--seeds-in-process", type=int, default=None)
    args = parser.parse_args()
    base = json.loads(args.settings)
    if args.seeds_in_process:
        runs = [_run({**base, "seed": seed}, args) for seed in range(args.seeds_in_process)]
        emit({**runs[0], "per_seed": runs}, args.out)
    else:
        emit(_run(base, args), args.out)


def _run(overrides: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Train with ``overrides`` on the split in ``args.workdir``; test figures and timings."""
    # Import TensorFlow up front, as the peer script does, so train_seconds compares training.
    t_import0 = time.perf_counter()
    import keras  # noqa: F401
    import tensorflow as tf

    from embedding_core.data.roles import Roles
    from embedding_core.model.config import TrainConfig
    from embedding_core.model.train import train

    import_seconds = time.perf_counter() - t_import0
    rss_after_import = _rss_now_mb()

    spec, train_frame, test_frame = read_split(args.workdir)
    roles = Roles(
        categorical=tuple(spec["cat_cols"]),
        numeric=tuple(spec["num_cols"]),
        target=spec["target"],
        task=task_of(spec),
    )
    config = TrainConfig().replace(**overrides) if overrides else TrainConfig()
    rss_before_train = _rss_now_mb()
    peak_before_train = peak_rss_mb()  # includes transient memory of loading the data
    peak_was_reset = reset_peak_rss()

    clock = EpochClock()

    def on_progress(progress: Any) -> None:
        if progress.kind == "start":
            clock.start()
        elif progress.kind == "epoch":
            clock.epoch_end()

    # ---- train start: everything from here to extracted embeddings is "time to embeddings"
    t_train0 = time.perf_counter()
    cpu_train0 = time.process_time()
    run = train(train_frame, roles, config, on_progress=on_progress)
    train_seconds = time.perf_counter() - t_train0
    train_cpu_seconds = time.process_time() - cpu_train0
    fit_only_seconds = time.perf_counter() - (clock.t_start or t_train0)
    tables = run.tables()
    ttfe = time.perf_counter() - t_train0
    peak_after_train = peak_rss_mb()
    # ---- embeddings extracted

    t_pred0 = time.perf_counter()
    x_test = test_frame.drop(columns=[spec["target"]])
    if task_of(spec) == "regression":
        p_test = np.asarray(run.predict(x_test), dtype="float64").reshape(-1)
    else:
        p_test = _positive_probability(run, x_test)
    predict_seconds = time.perf_counter() - t_pred0

    if args.dump_embeddings is not None:
        arrays: dict[str, np.ndarray] = {}
        for i, col in enumerate(spec["cat_cols"]):
            table = tables[col]
            emb_cols = [c for c in table.columns if str(c).startswith("emb_")]
            arrays[f"labels_{i}"] = table["category"].astype(str).to_numpy(dtype=str)
            arrays[f"vectors_{i}"] = table[emb_cols].to_numpy(dtype="float32")
        arrays["fields"] = np.array(spec["cat_cols"], dtype=str)
        np.savez(args.dump_embeddings, **arrays)

    metrics = dict(run.metrics)
    n_fit_rows = int(metrics.get("n_train", round(len(train_frame) * (1 - config.valid_fraction))))
    result: dict[str, Any] = {
        "contender": "ours",
        "dataset": spec["name"],
        "settings": config.to_dict(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "engine": engine_fingerprint(),
        "n_train_given": len(train_frame),
        "n_fit_rows": n_fit_rows,
        "n_test": len(test_frame),
        "import_seconds": import_seconds,
        "train_seconds": train_seconds,
        "fit_only_seconds": fit_only_seconds,
        "time_to_embeddings_seconds": ttfe,
        "predict_seconds": predict_seconds,
        "rss_after_import_mb": rss_after_import,
        "rss_before_train_mb": rss_before_train,
        "peak_rss_before_train_mb": peak_before_train,
        "peak_rss_after_train_mb": peak_after_train,
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_reset_before_train": peak_was_reset,
        "script_seconds": time.perf_counter() - T_PROCESS0,
        "engine_metrics": {
            k: v for k, v in metrics.items() if isinstance(v, int | float | str | bool)
        },
        "crosses": [list(pair) for pair in getattr(run, "crosses", [])],
        **test_metrics(task_of(spec), test_frame[spec["target"]].to_numpy(), p_test),
    }
    result.update(clock.summary(n_fit_rows, train_seconds, train_cpu_seconds))
    if not clock.epoch_ends and "epochs_run" in metrics:
        result["epochs_run"] = int(metrics["epochs_run"])
    return result


if __name__ == "__main__":
    main()
