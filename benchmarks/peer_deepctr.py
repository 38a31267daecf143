"""Contender: DeepCTR 0.9.4's DeepFM, run in its own venv with legacy Keras.

Run by the parent scripts as::

    TF_USE_LEGACY_KERAS=1 /work/deepctr-venv/bin/python benchmarks/peer_deepctr.py \
        --workdir DIR --settings '{"epochs": 3}' [--dump-embeddings FILE.npz] [--out FILE.json]

``DIR`` holds ``train.npz``, ``test.npz`` and ``spec.json`` written by
``common.write_split``. Prints one JSON object (last stdout line).

Set-up, as DeepCTR's own examples do it: ``SparseFeat`` per categorical column with a
vocabulary built on the training rows (index 0 = unseen in training), ``DenseFeat`` per
numeric column standardised with training mean/std (missing -> 0 after standardising),
``DeepFM(linear, dnn, dnn_hidden_units=...)``, Adam, binary cross-entropy (mean squared
error and ``task="regression"`` for a numeric target, on its raw scale), ``fit`` on numpy
dicts with ``shuffle=True``. DeepCTR's import-time version check (a background request to
the package index) is harmless and ignored.
"""

from __future__ import annotations

import time

T_PROCESS0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import (  # noqa: E402
    EpochClock,
    emit,
    peak_rss_mb,
    read_split,
    reset_peak_rss,
    task_of,
    test_metrics,
)

# DeepCTR's reference settings (the shared data README's figures): 3 epochs, batch 1024,
# k=8, DNN 256-128-64, no regularisation, no dropout, Adam 1e-3, no validation.
DEFAULTS: dict[str, Any] = {
    "epochs": 3,
    "batch_size": 1024,
    "embedding_dim": 8,
    "hidden_units": [256, 128, 64],
    "dropout": 0.0,
    "l2_embedding": 0.0,
    "l2_linear": 0.0,
    "learning_rate": 1e-3,
    "valid_fraction": 0.0,
    "seed": 1024,
}


def _rss_now_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--settings", default="{}", help="JSON overrides of DEFAULTS")
    parser.add_argument("--dump-embeddings", type=Path, default=None)
    parser.add_argument("--out", default=None, help="also write the JSON result here")
    args = parser.parse_args()
    settings = {**DEFAULTS, **json.loads(args.settings)}

    if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise SystemExit("Run with TF_USE_LEGACY_KERAS=1 (DeepCTR needs tf-keras).")
    t_import0 = time.perf_counter()
    import tensorflow as tf
    from deepctr.feature_column import DenseFeat, SparseFeat
    from deepctr.models import DeepFM

    import_seconds = time.perf_counter() - t_import0
    rss_after_import = _rss_now_mb()

    spec, train, test = read_split(args.workdir)
    cat_cols, num_cols, target = spec["cat_cols"], spec["num_cols"], spec["target"]
    tf.keras.utils.set_random_seed(int(settings["seed"]))
    rss_before_train = _rss_now_mb()
    peak_before_train = peak_rss_mb()  # includes transient memory of loading the data
    peak_was_reset = reset_peak_rss()

    # ---- train start: everything from here to extracted embeddings is "time to embeddings"
    t_train0 = time.perf_counter()
    cpu_train0 = time.process_time()
    # Safe input names (column names like "savings_account/bonds" are not valid scopes).
    cat_names = [f"c{i}" for i in range(len(cat_cols))]
    num_names = [f"n{i}" for i in range(len(num_cols))]
    vocabularies: dict[str, pd.Index] = {}
    x_train: dict[str, np.ndarray] = {}
    x_test: dict[str, np.ndarray] = {}
    for col, name in zip(cat_cols, cat_names, strict=True):
        vocab = pd.Index(pd.unique(train[col].to_numpy()))
        vocabularies[col] = vocab
        x_train[name] = (vocab.get_indexer(train[col].to_numpy()) + 1).astype("int32")
        x_test[name] = (vocab.get_indexer(test[col].to_numpy()) + 1).astype("int32")
    for col, name in zip(num_cols, num_names, strict=True):
        values = train[col].to_numpy(dtype="float64")
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
        std = float(np.nanstd(values)) if np.isfinite(values).any() else 1.0
        std = std if std > 0 else 1.0
        for part, store in ((train, x_train), (test, x_test)):
            z = (part[col].to_numpy(dtype="float64") - mean) / std
            store[name] = np.nan_to_num(z, nan=0.0).astype("float32")
    y_train = train[target].to_numpy(dtype="float32")
    y_test = test[target].to_numpy()

    k = int(settings["embedding_dim"])
    columns = [
        SparseFeat(name, vocabulary_size=len(vocabularies[col]) + 1, embedding_dim=k)
        for col, name in zip(cat_cols, cat_names, strict=True)
    ] + [DenseFeat(name, 1) for name in num_names]
    model = DeepFM(
        columns,
        columns,
        dnn_hidden_units=tuple(settings["hidden_units"]),
        l2_reg_linear=float(settings["l2_linear"]),
        l2_reg_embedding=float(settings["l2_embedding"]),
        dnn_dropout=float(settings["dropout"]),
        seed=int(settings["seed"]),
        task=task_of(spec),
    )
    loss = "mse" if task_of(spec) == "regression" else "binary_crossentropy"
    model.compile(
        tf.keras.optimizers.Adam(learning_rate=float(settings["learning_rate"])),
        loss,
        metrics=[loss],
    )

    n_rows = len(y_train)
    fit_idx = np.arange(n_rows)
    validation_data = None
    if float(settings["valid_fraction"]) > 0:
        rng = np.random.default_rng(int(settings["seed"]))
        perm = rng.permutation(n_rows)
        n_valid = int(round(float(settings["valid_fraction"]) * n_rows))
        fit_idx, valid_idx = np.sort(perm[n_valid:]), np.sort(perm[:n_valid])
        validation_data = (
            {name: a[valid_idx] for name, a in x_train.items()},
            y_train[valid_idx],
        )
    x_fit = {name: a[fit_idx] for name, a in x_train.items()}
    y_fit = y_train[fit_idx]

    clock = EpochClock()

    class _Timer(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            clock.start()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            clock.epoch_end()

    model.fit(
        x_fit,
        y_fit,
        batch_size=int(settings["batch_size"]),
        epochs=int(settings["epochs"]),
        verbose=0,
        shuffle=True,
        validation_data=validation_data,
        callbacks=[_Timer()],
    )
    train_seconds = time.perf_counter() - t_train0
    train_cpu_seconds = time.process_time() - cpu_train0
    fit_only_seconds = time.perf_counter() - (clock.t_start or t_train0)

    tables = {
        col: model.get_layer(f"sparse_emb_{name}").get_weights()[0]
        for col, name in zip(cat_cols, cat_names, strict=True)
    }
    ttfe = time.perf_counter() - t_train0
    peak_after_train = peak_rss_mb()
    # ---- embeddings extracted

    t_pred0 = time.perf_counter()
    p_test = model.predict(x_test, batch_size=8192, verbose=0).reshape(-1)
    predict_seconds = time.perf_counter() - t_pred0

    if args.dump_embeddings is not None:
        arrays: dict[str, np.ndarray] = {}
        for i, col in enumerate(cat_cols):
            labels = np.array(["<unknown>", *vocabularies[col].astype(str)], dtype=str)
            arrays[f"labels_{i}"] = labels
            arrays[f"vectors_{i}"] = tables[col].astype("float32")
        arrays["fields"] = np.array(cat_cols, dtype=str)
        np.savez(args.dump_embeddings, **arrays)

    result: dict[str, Any] = {
        "contender": "deepctr",
        "dataset": spec["name"],
        "settings": settings,
        "versions": {"tensorflow": tf.__version__, "deepctr": "0.9.4"},
        "n_train_given": n_rows,
        "n_fit_rows": int(len(fit_idx)),
        "n_test": int(len(y_test)),
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
        **test_metrics(task_of(spec), y_test, p_test),
    }
    result.update(clock.summary(len(fit_idx), train_seconds, train_cpu_seconds))
    emit(result, args.out)


if __name__ == "__main__":
    main()
