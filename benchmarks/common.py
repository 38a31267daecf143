"""Shared helpers for the benchmark scripts (no TensorFlow, no embedding_core imports).

This module is imported by the parent scripts (run with the project venv) *and* by the
DeepCTR contender (run with ``/work/deepctr-venv``), so it only needs numpy, pandas,
scikit-learn and the standard library.

How a comparison is run
-----------------------
1. The parent loads a dataset and makes the fixed, seeded, stratified 80/20 split.
2. It writes both parts to ``train.npz`` / ``test.npz`` plus ``spec.json`` in a temporary
   work directory (categoricals as unicode arrays, numerics as float64): every contender
   reads exactly the same rows.
3. Each contender runs in its own subprocess (so peak RSS is its own), prints one JSON
   object on its last stdout line, and may dump embedding matrices to an ``.npz``.
4. The parent collects the JSON objects, prints a table and writes ``--out``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BENCH_DIR",
    "REPO_DIR",
    "DATA_DIR",
    "DATASETS",
    "OURS_PYTHON",
    "PEER_PYTHON",
    "Dataset",
    "load_dataset",
    "fixed_split",
    "write_split",
    "read_split",
    "REGRESSION_SETS",
    "task_of",
    "binary_metrics",
    "test_metrics",
    "score_key",
    "peak_rss_mb",
    "reset_peak_rss",
    "run_contender",
    "neighbour_precision",
    "machine_info",
    "emit",
    "format_table",
    "EpochClock",
    "median_summary",
    "ratio",
    "contender_cmd",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", "/work/shared/data"))
DATASETS: tuple[str, ...] = (
    "amazon_access",
    "bank_marketing",
    "hotel_bookings",
    "diabetes_readmission",
    "adult",
    "german_credit",
)
#: Regression sets derived from a shared binary set: name -> (source set, numeric target).
#: ``hotel_adr`` predicts a booking's average daily rate (price) from the other columns;
#: the cancellation flag is dropped (not known when the price is set).
REGRESSION_SETS: dict[str, tuple[str, str]] = {"hotel_adr": ("hotel_bookings", "adr")}
OURS_PYTHON = Path(os.environ.get("BENCH_OURS_PYTHON", REPO_DIR / ".venv" / "bin" / "python"))
PEER_PYTHON = Path(os.environ.get("BENCH_PEER_PYTHON", "/work/deepctr-venv/bin/python"))

SPLIT_SEED = 0
TEST_FRACTION = 0.2


@dataclass
class Dataset:
    """A table plus which columns play which part."""

    name: str
    frame: pd.DataFrame
    cat_cols: list[str]
    num_cols: list[str]
    target: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.frame)


def load_dataset(name: str, data_dir: Path = DATA_DIR) -> Dataset:
    """Read ``NAME.csv.gz`` + ``NAME.meta.json``; categoricals as ``str``, numerics as float.

    Missing categorical values are already the level ``__NA__`` in the shared files; any
    remaining NaN becomes ``__NA__`` too so both contenders see the same strings. A name in
    ``REGRESSION_SETS`` reads its source set with the numeric target instead
    (``meta["task"] = "regression"``).
    """
    source, numeric_target = REGRESSION_SETS.get(name, (name, None))
    meta = json.loads((data_dir / f"{source}.meta.json").read_text())
    cat_cols = list(meta["cat_cols"])
    num_cols = list(meta["num_cols"])
    target = meta["target"]
    if numeric_target is not None:
        num_cols = [c for c in num_cols if c != numeric_target]
        target = numeric_target
        meta = {**meta, "name": name, "target": target, "task": "regression", "source": source}
    frame = pd.read_csv(
        data_dir / f"{source}.csv.gz",
        dtype={c: str for c in cat_cols},
        usecols=[*cat_cols, *num_cols, target],
    )
    frame = frame.dropna(subset=[target]).reset_index(drop=True)
    for c in cat_cols:
        frame[c] = frame[c].fillna("__NA__").astype(str)
    for c in num_cols:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    target_dtype = "float64" if task_of(meta) == "regression" else "int64"
    frame[target] = frame[target].astype(target_dtype)
    return Dataset(name, frame, cat_cols, num_cols, target, meta)


def task_of(meta: dict[str, Any]) -> str:
    """``"binary"`` or ``"regression"``: a dataset's ``meta`` or a split's ``spec``."""
    return "regression" if meta.get("task") == "regression" else "binary"


def fixed_split(
    y: np.ndarray, *, seed: int = SPLIT_SEED, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The fixed 80/20 train/test split: seeded, stratified on the target (a class
    target; not a numeric one), sorted indices."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    train_idx, test_idx = train_test_split(
        idx, test_size=TEST_FRACTION, random_state=seed, stratify=y if stratify else None
    )
    return np.sort(train_idx), np.sort(test_idx)


def _frame_to_npz(path: Path, frame: pd.DataFrame, ds: Dataset) -> None:
    arrays: dict[str, np.ndarray] = {}
    for i, c in enumerate(ds.cat_cols):
        arrays[f"cat_{i}"] = frame[c].to_numpy(dtype=str)
    for i, c in enumerate(ds.num_cols):
        arrays[f"num_{i}"] = frame[c].to_numpy(dtype="float64")
    target_dtype = "float64" if task_of(ds.meta) == "regression" else "int64"
    arrays["target"] = frame[ds.target].to_numpy(dtype=target_dtype)
    np.savez(path, **arrays)


def write_split(ds: Dataset, workdir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``ds`` with :func:`fixed_split` and write it to ``workdir`` for the contenders."""
    workdir.mkdir(parents=True, exist_ok=True)
    y = ds.frame[ds.target].to_numpy()
    train_idx, test_idx = fixed_split(y, stratify=task_of(ds.meta) == "binary")
    train = ds.frame.iloc[train_idx].reset_index(drop=True)
    test = ds.frame.iloc[test_idx].reset_index(drop=True)
    _frame_to_npz(workdir / "train.npz", train, ds)
    _frame_to_npz(workdir / "test.npz", test, ds)
    spec = {
        "name": ds.name,
        "cat_cols": ds.cat_cols,
        "num_cols": ds.num_cols,
        "target": ds.target,
        "task": task_of(ds.meta),
        "n_train": len(train),
        "n_test": len(test),
    }
    (workdir / "spec.json").write_text(json.dumps(spec, indent=1))
    return train, test


def read_split(workdir: Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Inverse of :func:`write_split`: ``(spec, train, test)`` with the original column names."""
    spec = json.loads((Path(workdir) / "spec.json").read_text())
    parts = []
    for part in ("train", "test"):
        with np.load(Path(workdir) / f"{part}.npz", allow_pickle=False) as z:
            cols: dict[str, Any] = {}
            for i, c in enumerate(spec["cat_cols"]):
                cols[c] = z[f"cat_{i}"].astype(object)
            for i, c in enumerate(spec["num_cols"]):
                cols[c] = z[f"num_{i}"]
            cols[spec["target"]] = z["target"]
        frame = pd.DataFrame(cols)
        for c in spec["cat_cols"]:
            frame[c] = frame[c].astype(str)
        parts.append(frame)
    return spec, parts[0], parts[1]


def binary_metrics(y_true: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Test AUC and log loss (probabilities clipped to [1e-7, 1 - 1e-7])."""
    from sklearn.metrics import log_loss, roc_auc_score

    p = np.clip(np.asarray(p, dtype="float64").reshape(-1), 1e-7, 1 - 1e-7)
    y = np.asarray(y_true).reshape(-1)
    return {
        "test_auc": float(roc_auc_score(y, p)),
        "test_logloss": float(log_loss(y, p, labels=[0, 1])),
    }


def test_metrics(task: str, y_true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """``binary_metrics`` for a binary target; test RMSE, MAE and R^2 for a numeric one."""
    if task != "regression":
        return binary_metrics(y_true, pred)
    y = np.asarray(y_true, dtype="float64").reshape(-1)
    err = np.asarray(pred, dtype="float64").reshape(-1) - y
    return {
        "test_rmse": float(np.sqrt(np.mean(err**2))),
        "test_mae": float(np.mean(np.abs(err))),
        "test_r2": float(1.0 - np.sum(err**2) / np.sum((y - y.mean()) ** 2)),
    }


def score_key(task: str) -> str:
    """The headline test figure of a task: ``test_auc`` (higher is better) or
    ``test_rmse`` (lower is better)."""
    return "test_rmse" if task == "regression" else "test_auc"


def peak_rss_mb() -> float:
    """Peak resident set size of *this* process so far, in MiB (Linux: ru_maxrss is KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024.0


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0); False if not possible.

    Called right before training so that transient memory of *loading* the benchmark data
    (which differs between the two venvs: ours has pyarrow-backed pandas strings) does not
    count as the contender's training peak. TensorFlow and the loaded data still count.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class EpochClock:
    """Epoch-end timestamps -> whole-fit and steady-state throughput.

    Steady state = epochs 2..N, measured from the end of epoch 1 to the end of epoch N,
    so graph tracing and first-call costs (all in epoch 1) are left out. Both contenders
    use this same definition; per-epoch validation is included on both sides.

    Each mark also records the process's CPU seconds (all threads): ``rows_per_cpu_s_*``
    are rows per CPU second, which depend much less than wall time on what else runs on
    a shared machine (on an idle 2-core machine wall time is roughly CPU time / 1.5-2).
    """

    def __init__(self) -> None:
        self.t_start: float | None = None
        self.epoch_ends: list[float] = []
        self.cpu_epoch_ends: list[float] = []

    def start(self) -> None:
        self.t_start = time.perf_counter()

    def epoch_end(self) -> None:
        self.epoch_ends.append(time.perf_counter())
        self.cpu_epoch_ends.append(time.process_time())

    def summary(
        self, n_fit_rows: int, fit_seconds: float, fit_cpu_seconds: float | None = None
    ) -> dict[str, Any]:
        """Throughputs; ``fit_seconds`` is the whole training call (encode, build, fit),
        ``fit_cpu_seconds`` the process CPU seconds of that call."""
        n_epochs = len(self.epoch_ends)
        out: dict[str, Any] = {
            "epochs_run": n_epochs,
            "rows_per_s_fit": n_fit_rows * n_epochs / fit_seconds if fit_seconds > 0 else None,
            "epoch_seconds": [],
            "rows_per_s_steady": None,
            "train_cpu_seconds": fit_cpu_seconds,
            "rows_per_cpu_s_fit": None,
            "rows_per_cpu_s_steady": None,
        }
        if fit_cpu_seconds:
            out["rows_per_cpu_s_fit"] = n_fit_rows * n_epochs / fit_cpu_seconds
        if self.t_start is not None and n_epochs:
            marks = [self.t_start, *self.epoch_ends]
            out["epoch_seconds"] = [round(b - a, 3) for a, b in pairwise(marks)]
        if n_epochs >= 2:
            steady = self.epoch_ends[-1] - self.epoch_ends[0]
            out["rows_per_s_steady"] = n_fit_rows * (n_epochs - 1) / steady
            steady_cpu = self.cpu_epoch_ends[-1] - self.cpu_epoch_ends[0]
            if steady_cpu > 0:
                out["rows_per_cpu_s_steady"] = n_fit_rows * (n_epochs - 1) / steady_cpu
        return out


@dataclass
class ContenderResult:
    ok: bool
    result: dict[str, Any]
    seconds: float
    log: str


def run_contender(
    python: Path,
    script: str,
    args: Sequence[str],
    *,
    legacy_keras: bool = False,
    timeout: float = 3600,
    log_path: Path | None = None,
) -> dict[str, Any]:
    """Run one contender script in its own process; return its JSON (last stdout line).

    On failure the returned dict has ``"error"`` with the tail of stderr. Environment: the
    parent's, plus ``TF_CPP_MIN_LOG_LEVEL=2`` (and ``TF_USE_LEGACY_KERAS=1`` for DeepCTR).
    oneDNN stays on for both (turning it off halves throughput).
    """
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONHASHSEED"] = "0"
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    if legacy_keras:
        env["TF_USE_LEGACY_KERAS"] = "1"
    else:
        env.pop("TF_USE_LEGACY_KERAS", None)
    cmd = [str(python), str(BENCH_DIR / script), *args]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=str(REPO_DIR)
        )
    except subprocess.TimeoutExpired as exc:
        return {"error": f"timeout after {exc.timeout:.0f}s", "cmd": cmd}
    wall = time.perf_counter() - t0
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(
            f"$ {' '.join(cmd)}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        noise = ("oneDNN custom operations", "absl::InitializeLog")
        lines_err = [
            ln for ln in proc.stderr.strip().splitlines() if not any(x in ln for x in noise)
        ]
        tail = "\n".join(lines_err[-15:])
        return {"error": f"exit code {proc.returncode}: {tail}", "cmd": cmd}
    result = json.loads(lines[-1])
    result["process_seconds"] = wall
    return result


def _l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def neighbour_precision(
    vectors: np.ndarray, groups: np.ndarray, *, k: int = 5
) -> dict[str, float | int]:
    """Neighbour precision@k by cosine similarity.

    For each row, the k most cosine-similar *other* rows are found; precision is the share
    of them that carry the same group label, averaged over rows. Pass only the categories
    that should count (e.g. seen >= 30 times in training); neighbours are searched among
    the same rows.

    Parameters
    ----------
    vectors : ndarray of shape (n, d)
    groups : ndarray of shape (n,)
        Hidden group label of each row.
    k : int, default=5

    Returns
    -------
    dict
        ``precision`` (mean over rows), ``chance`` (expected precision of k random other
        rows: mean over rows of (same-group rows - 1) / (n - 1)), ``n`` (rows scored),
        ``per_row`` (each row's precision, an array, for breakdowns; drop it before JSON).
    """
    vectors = np.asarray(vectors, dtype="float64")
    groups = np.asarray(groups)
    n = len(vectors)
    if n <= k:
        return {"precision": float("nan"), "chance": float("nan"), "n": n, "per_row": np.array([])}
    unit = _l2_normalise(vectors)
    sim = unit @ unit.T
    np.fill_diagonal(sim, -np.inf)
    # argpartition then exact ordering of the top k (ties broken by index for stability)
    top = np.argpartition(-sim, k, axis=1)[:, :k]
    same = groups[top] == groups[:, None]
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    chance = (counts[inverse] - 1) / (n - 1)
    return {
        "precision": float(same.mean()),
        "chance": float(chance.mean()),
        "n": int(n),
        "per_row": same.mean(axis=1),
    }


def machine_info() -> dict[str, Any]:
    """Enough context to read the numbers: cores, load, Python."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    try:
        info["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def emit(result: dict[str, Any], out: str | None = None) -> None:
    """Print ``result`` as one JSON line on stdout and, if given, write it to ``out``."""
    clean = _clean(result)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(clean, indent=1) + "\n")
    sys.stdout.write(json.dumps(clean) + "\n")
    sys.stdout.flush()


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.3f}"
    return str(v)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain-text table (markdown-compatible) of ``rows`` restricted to ``columns``."""
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    return "\n".join([line, sep, *body])


def median_summary(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric top-level key over repeated runs (errors dropped).

    Non-numeric keys are taken from the first good run; ``repeats`` says how many runs
    went into the medians and ``errors`` lists failures.
    """
    good = [r for r in runs if "error" not in r]
    out: dict[str, Any] = {
        "repeats": len(good),
        "errors": [r["error"] for r in runs if "error" in r],
    }
    if not good:
        return out
    for key, value in good[0].items():
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and all(isinstance(r.get(key), int | float) for r in good):
            out[key] = float(np.median([r[key] for r in good]))
        else:
            out[key] = value
    return out


def ratio(a: Any, b: Any) -> float | None:
    """``a / b`` or None when either is missing or b is 0."""
    if not isinstance(a, int | float) or not isinstance(b, int | float) or b == 0:
        return None
    return float(a) / float(b)


def contender_cmd(name: str, workdir: Path, settings: dict[str, Any]) -> str:
    """The shell command that reproduces one contender run (for logs and READMEs)."""
    if name.startswith("ours"):
        return (
            f".venv/bin/python benchmarks/ours_deepfm.py --workdir {workdir} "
            f"--settings '{json.dumps(settings)}'"
        )
    return (
        f"TF_USE_LEGACY_KERAS=1 {PEER_PYTHON} benchmarks/peer_deepctr.py --workdir {workdir} "
        f"--settings '{json.dumps(settings)}'"
    )
