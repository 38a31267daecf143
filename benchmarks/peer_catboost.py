"""Contender: CatBoost with its defaults, run with the bench venv (like DeepCTR).

Run by ``quality.py`` as::

    /work/deepctr-venv/bin/python benchmarks/peer_catboost.py --workdir DIR --settings '{"seed": 0}'

``DIR`` holds ``train.npz``, ``test.npz`` and ``spec.json`` written by
``common.write_split``. ``CatBoostClassifier`` (``CatBoostRegressor`` for a numeric target)
with default parameters, ``cat_features`` = the categorical columns (as strings, CatBoost's
own ordered target statistics), numeric columns as they are (NaN allowed). Only the seed
and ``verbose=0`` are set. Prints one JSON object (last stdout line).

CatBoost is a benchmark-only peer: it is installed in the bench venv by ``make bench-venv``,
never in the project's requirements.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import emit, read_split, task_of, test_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--settings", default="{}", help='JSON: {"seed": N}')
    parser.add_argument("--out", default=None, help="also write the JSON result here")
    args = parser.parse_args()
    seed = int(json.loads(args.settings).get("seed", 0))

    import catboost

    spec, train, test = read_split(args.workdir)
    task = task_of(spec)
    features = [*spec["cat_cols"], *spec["num_cols"]]
    if task == "regression":
        model = catboost.CatBoostRegressor(random_seed=seed, verbose=0, allow_writing_files=False)
    else:
        model = catboost.CatBoostClassifier(random_seed=seed, verbose=0, allow_writing_files=False)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    model.fit(train[features], train[spec["target"]], cat_features=spec["cat_cols"])
    train_seconds = time.perf_counter() - t0
    train_cpu_seconds = time.process_time() - cpu0
    if task == "regression":
        pred = model.predict(test[features])
    else:
        positive = list(model.classes_).index(1)
        pred = model.predict_proba(test[features])[:, positive]
    result: dict[str, Any] = {
        "contender": "catboost",
        "dataset": spec["name"],
        "settings": {"defaults": True, "seed": seed},
        "versions": {"catboost": catboost.__version__},
        "n_train": len(train),
        "n_test": len(test),
        "train_seconds": train_seconds,
        "train_cpu_seconds": train_cpu_seconds,
        "iterations": int(model.tree_count_),
        **test_metrics(task, test[spec["target"]].to_numpy(), np.asarray(pred)),
    }
    emit(result, args.out)


if __name__ == "__main__":
    main()
