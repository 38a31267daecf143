"""Growth curve of streaming training: wall time, rows/s, peak RSS and test AUC vs rows.

A generator writes realistic data as Parquet shards of at most 1M rows: 20 categorical
fields (4 with 100,000 categories, 4 with 10,000, 4 with 1,000, 4 with 100, 4 with 10),
category frequencies following a Zipf law (exponent 1.1), and a planted signal: a
per-category effect on the log-odds in 8 fields plus one pairwise interaction. A
held-out test set of 100k rows comes from the same generator with another seed.

Each size is trained by ``python -m embedding_core train`` in its own process (so the
peak RSS is the training's own: ``ru_maxrss`` of the child), with the defaults except
``--epochs 2 --no-refit`` (one vocabulary pass, one encoding pass, two epochs): the
curve shows how cost grows with rows, not the best reachable AUC.

    .venv/bin/python benchmarks/scale.py --rows 100000 1000000 --out benchmarks/results/scale.json

Writes the JSON, prints a table and draws ``scale.svg`` next to the JSON. Not a timed
test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SIZES = [100_000] * 4 + [10_000] * 4 + [1_000] * 4 + [100] * 4 + [10] * 4
FIELDS = [f"f{i:02d}" for i in range(len(SIZES))]
SIGNAL_FIELDS = [0, 1, 4, 5, 8, 12, 16, 17]  # per-category effects
SHARD_ROWS = 1_000_000


def _zipf_sampler(size: int, rng: np.random.Generator) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** 1.1
    return np.cumsum(weights / weights.sum())


def generate(n_rows: int, seed: int) -> pd.DataFrame:
    """``n_rows`` rows of the planted data (column ``y`` is 0/1), in memory (use chunks)."""
    effects_rng = np.random.default_rng(12345)  # the same signal in every file
    effects = {j: effects_rng.normal(0, 0.6, SIZES[j]) for j in SIGNAL_FIELDS}
    perm = {j: effects_rng.permutation(SIZES[j]) for j in range(len(SIZES))}
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    logit = np.full(n_rows, -1.0)
    for j, size in enumerate(SIZES):
        ranks = np.searchsorted(_zipf_sampler(size, rng), rng.random(n_rows))
        ranks = np.minimum(ranks, size - 1)
        ids = perm[j][ranks]
        if j in effects:
            logit += effects[j][ids]
        cols[FIELDS[j]] = ids
    logit += 0.8 * ((cols["f12"] % 2) == (cols["f16"] % 2))  # an interaction
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    frame = pd.DataFrame({f: f"{f}_" + pd.Series(v).astype(str) for f, v in cols.items()})
    frame["y"] = y
    return frame


def write_shards(n_rows: int, folder: Path, seed: int) -> Path:
    """Parquet shards of at most ``SHARD_ROWS`` rows, generated chunk by chunk."""
    folder.mkdir(parents=True, exist_ok=True)
    done = 0
    for i in range(0, n_rows, SHARD_ROWS):
        rows = min(SHARD_ROWS, n_rows - i)
        generate(rows, seed * 1000 + i // SHARD_ROWS).to_parquet(
            folder / f"part-{i // SHARD_ROWS:04d}.parquet", index=False
        )
        done += rows
    return folder


def train_once(data: Path, out: Path) -> dict:
    """Train in a child process; wall time and the child's peak RSS."""
    cmd = [
        sys.executable, "-m", "embedding_core", "train", "--data", str(data),
        "--categorical", ",".join(FIELDS), "--target", "y",
        "--epochs", "2", "--no-refit", "--quiet", "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"training failed: {proc.stderr[-2000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall_seconds": round(wall, 1), "peak_rss_mb": round(max(peak_kb, before) / 1024)}


def test_auc(run_dir: Path, test: pd.DataFrame) -> float:
    sys.path.insert(0, str(REPO))
    from embedding_core.model.metrics import auc
    from embedding_core.model.run import TrainedRun

    run = TrainedRun.load(run_dir)
    return round(auc(test["y"].to_numpy(), run.predict(test)), 4)


def svg(results: list[dict], path: Path) -> None:
    """A small two-panel line chart (rows/s and peak RSS against rows, log x)."""
    w, h, pad = 360, 220, 45
    panels = [("rows_per_second", "rows/s (wall, whole run)"), ("peak_rss_mb", "peak RSS (MB)")]
    xs = np.log10([r["rows"] for r in results])
    x0, x1 = xs.min() - 0.1, xs.max() + 0.1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w}" height="{h}" '
             'font-family="sans-serif" font-size="11">']  # fmt: skip
    for p, (key, title) in enumerate(panels):
        ys = np.array([r[key] for r in results], dtype=float)
        top = ys.max() * 1.15 or 1.0
        ox = p * w

        def px(x: float, y: float, ox: int = ox, top: float = top) -> tuple[float, float]:
            return (ox + pad + (x - x0) / (x1 - x0) * (w - 2 * pad),
                    h - pad - y / top * (h - 2 * pad))  # fmt: skip

        pts = [px(x, y) for x, y in zip(xs, ys, strict=True)]
        parts.append(f'<text x="{ox + w / 2}" y="15" text-anchor="middle">{title}</text>')
        parts.append(f'<line x1="{ox + pad}" y1="{h - pad}" x2="{ox + w - pad}" y2="{h - pad}" '
                     'stroke="#888"/>')  # fmt: skip
        parts.append(f'<line x1="{ox + pad}" y1="{pad}" x2="{ox + pad}" y2="{h - pad}" '
                     'stroke="#888"/>')  # fmt: skip
        parts.append('<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')  # fmt: skip
        for (x, y), r, v in zip(pts, results, ys, strict=True):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f77b4"/>')
            parts.append(f'<text x="{x:.1f}" y="{y - 7:.1f}" text-anchor="middle">{v:,.0f}</text>')
            parts.append(f'<text x="{x:.1f}" y="{h - pad + 15}" text-anchor="middle">'
                         f'{r["rows"]:,}</text>')  # fmt: skip
        parts.append(f'<text x="{ox + w / 2}" y="{h - 8}" text-anchor="middle">rows</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--work", default="/tmp/embedding_core_scale")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "scale.json"))
    args = parser.parse_args()
    work = Path(args.work)
    test = generate(100_000, seed=999_999)
    results = []
    for n in args.rows:
        t0 = time.perf_counter()
        data = write_shards(n, work / f"data_{n}", seed=1)
        gen_seconds = time.perf_counter() - t0
        run_dir = work / f"run_{n}"
        figures = train_once(data, run_dir)
        metrics = json.loads((run_dir / "metrics.json").read_text())
        row = {
            "rows": n,
            "fields": len(FIELDS),
            **figures,
            "rows_per_second": round(n / figures["wall_seconds"]),
            "fit_rows_per_second": metrics["rows_per_second"],
            "train_seconds": metrics["train_seconds"],
            "test_auc": test_auc(run_dir, test),
            "generate_seconds": round(gen_seconds, 1),
        }
        results.append(row)
        print(json.dumps(row), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"results": results, "load_note": "shared 2-core machine"}, indent=2))
    svg(results, out.with_suffix(".svg"))
    print("| rows | wall s | rows/s (wall) | fit rows/s | peak RSS MB | test AUC |")
    print("|---|---|---|---|---|---|")
    for r in results:
        cells = [f"{r['rows']:,}", r["wall_seconds"], f"{r['rows_per_second']:,}",
                 f"{r['fit_rows_per_second']:,.0f}", f"{r['peak_rss_mb']:,}",
                 r["test_auc"]]  # fmt: skip
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
