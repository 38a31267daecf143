"""Wall and CPU seconds of one default training call, old settings against new, alternated.

What the app runs when the user clicks Train: ``embedding_core.model.train.train`` on a
frame in memory, timed in this process (TensorFlow imported once, before the clock). Each
``--config`` (JSON ``TrainConfig`` overrides; ``{}`` = the current defaults) is trained
``--repeat`` times, the configs alternating, so the machine's load falls on all of them
alike. For each run: wall and CPU seconds of the call, data preparation, the early-stopping
epochs, the final step (``refit_seconds``), and test AUC on held-out rows.

Data (``--data``):

- ``sample``: the app's default sample (bank_marketing, 41,188 rows), its roles from
  the sample's metadata; test AUC on the fixed 20% of ``benchmarks/common.fixed_split``
  (trained on the other 80%), like ``quality.py``.
- ``scale:ROWS``: ROWS rows x 20 categorical fields of ``benchmarks/scale.py``'s generator
  (the in-app big upload of ``app_latency.py --big-upload``), trained on all ROWS; test
  AUC on 100,000 rows of the same generator with another seed.

Usage (the figures in the README)::

    .venv/bin/python benchmarks/fit_time.py --data scale:1000000 --repeat 1 \\
        --config '{"final_fit": "refit", "patience": 2}' --config '{}'
    .venv/bin/python benchmarks/fit_time.py --data sample --repeat 3 \\
        --config '{"final_fit": "refit", "patience": 2}' --config '{}'

Before/after of a code change (not a config): ``--baseline-root DIR`` (another checkout,
e.g. ``git worktree add --detach /tmp/base main``) trains with that checkout's
``embedding_core`` as well, each run in a fresh process (TensorFlow imported off the
clock there too), checkouts alternated; every run is labelled ``checkout`` ("baseline" or
"this") and the summary is per checkout and config::

    .venv/bin/python benchmarks/fit_time.py --data sample --repeat 3 --baseline-root /tmp/base

Prints one JSON object (and writes it with ``--out``). Not a timed test: the figures
depend on the machine and its load (recorded at the start and the end).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
#: Set by ``--baseline-root`` for its child runs: the checkout whose library is timed.
LIBRARY_ROOT_ENV = "FIT_TIME_LIBRARY_ROOT"
sys.path.insert(0, os.environ.get(LIBRARY_ROOT_ENV, str(REPO)))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import emit  # noqa: E402


def _data(spec: str) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """(training frame, test frame, roles) for ``--data``."""
    from embedding_core.data.roles import Roles

    if spec == "sample":
        from common import fixed_split

        from embedding_core.data.samples import DEFAULT_SAMPLE, load_sample

        frame, roles = load_sample(DEFAULT_SAMPLE)
        train_idx, test_idx = fixed_split(frame[roles.target].astype(str).to_numpy())
        return frame.iloc[train_idx], frame.iloc[test_idx], roles
    if spec.startswith("scale:"):
        from scale import FIELDS, generate

        rows = int(spec.split(":", 1)[1])
        chunks = [
            generate(min(200_000, rows - start), seed=1000 + i)
            for i, start in enumerate(range(0, rows, 200_000))
        ]
        frame = pd.concat(chunks, ignore_index=True)
        roles = Roles(categorical=tuple(FIELDS), target="y")
        return frame, generate(100_000, seed=999_999), roles
    raise SystemExit(f"--data: expected 'sample' or 'scale:ROWS'. Received: {spec!r}")


def _one(frame: pd.DataFrame, test: pd.DataFrame, roles: Any, overrides: dict) -> dict:
    from sklearn.metrics import roc_auc_score

    from embedding_core.model.config import TrainConfig
    from embedding_core.model.train import train

    started: dict[str, float] = {}

    def on_progress(p: Any) -> None:
        started.setdefault(p.kind, time.perf_counter())

    config = TrainConfig(**overrides)
    cpu0, t0 = time.process_time(), time.perf_counter()
    run = train(frame, roles, config, on_progress=on_progress)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    m = run.metrics
    y_test = test[roles.target].astype(str).to_numpy() == str(run.positive_label)
    return {
        "config": overrides,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "prep_s": round(started["start"] - t0, 2),
        "early_stopping_s": round(m["train_seconds"] - m["refit_seconds"], 2),
        "final_fit": m.get("final_fit"),
        "refit_s": m["refit_seconds"],
        "epochs_run": m["epochs_run"],
        "best_epoch": m["best_epoch"],
        "refit_epochs": m["refit_epochs"],
        "batch_size": m["batch_size"],
        "valid_auc": round(m["valid_auc"], 4),
        "test_auc": round(float(roc_auc_score(y_test, run.predict(test))), 4),
        "load_average": round(os.getloadavg()[0], 1),
    }


def _in_checkout(root: Path, data: str, overrides: dict) -> dict:
    """One run of ``overrides`` in a fresh process that imports ``root``'s library."""
    env = {**os.environ, LIBRARY_ROOT_ENV: str(root), "PYTHONPATH": str(root)}
    command = [sys.executable, __file__, "--data", data, "--config", json.dumps(overrides)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    child = json.loads(done.stdout)
    if Path(child["library"]) != root:
        raise SystemExit(f"{root}: its run imported embedding_core from {child['library']}")
    return dict(child["runs"][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="sample", help="'sample' or 'scale:ROWS'")
    parser.add_argument(
        "--config",
        action="append",
        default=None,
        help="JSON TrainConfig overrides; repeat to compare (default: '{}', the defaults)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each config, alternated")
    parser.add_argument(
        "--baseline-root", type=Path, default=None, help="another checkout to alternate with"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # noqa: F401  - TensorFlow's import stays off the clock

    import embedding_core

    configs = [json.loads(c) for c in (args.config or ["{}"])]
    frame, test, roles = _data(args.data)
    result: dict[str, Any] = {
        "benchmark": "fit_time",
        "data": args.data,
        "rows": len(frame),
        "library": str(Path(embedding_core.__file__).resolve().parents[1]),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
        "runs": [],
    }
    checkouts = {"this": REPO}
    if args.baseline_root is not None:
        checkouts = {"baseline": args.baseline_root.resolve(), "this": REPO}
        result["checkouts"] = {label: str(root) for label, root in checkouts.items()}
    for i in range(args.repeat):
        order = list(checkouts.items())
        for label, root in order if i % 2 == 0 else order[::-1]:
            for overrides in configs if i % 2 == 0 else configs[::-1]:
                if args.baseline_root is None:
                    run = _one(frame, test, roles, overrides)
                else:
                    run = {"checkout": label, **_in_checkout(root, args.data, overrides)}
                print(json.dumps(run), file=sys.stderr, flush=True)
                result["runs"].append(run)
    result["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    result["summary"] = {}
    for label in checkouts:
        for c in configs:
            runs = [
                r for r in result["runs"] if r["config"] == c and r.get("checkout", label) == label
            ]
            key = json.dumps(c) if args.baseline_root is None else f"{label} {json.dumps(c)}"
            result["summary"][key] = {
                k: float(np.median([r[k] for r in runs]))
                for k in ("wall_s", "cpu_s", "refit_s", "test_auc")
            }
    emit(result, args.out)


if __name__ == "__main__":
    main()
