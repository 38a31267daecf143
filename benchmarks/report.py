"""Render benchmarks/results/*.json as markdown tables (for the READMEs).

Usage::

    .venv/bin/python benchmarks/report.py            # all results found
    .venv/bin/python benchmarks/report.py --results benchmarks/results
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from common import BENCH_DIR, format_table, score_key


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def speed_section(d: dict[str, Any]) -> str:
    rows = []
    for r in d["results"]:
        o, p, q = r["ours"], r["deepctr"], r["ratio_ours_over_deepctr"]
        rows.append(
            {
                "dataset": r["dataset"],
                "fit rows": o.get("n_fit_rows"),
                "rows/s fit ours": o.get("rows_per_s_fit"),
                "DeepCTR": p.get("rows_per_s_fit"),
                "ratio": q.get("rows_per_s_fit"),
                "rows/s steady ours": o.get("rows_per_s_steady"),
                "DeepCTR ": p.get("rows_per_s_steady"),
                "ratio ": q.get("rows_per_s_steady"),
                "peak RSS MB ours": o.get("peak_rss_mb"),
                "DeepCTR  ": p.get("peak_rss_mb"),
                "time to emb s ours": o.get("time_to_embeddings_seconds"),
                "DeepCTR   ": p.get("time_to_embeddings_seconds"),
            }
        )
    cols = list(rows[0]) if rows else []
    reps = d["results"][0]["ours"].get("repeats") if d["results"] else None
    head = (
        f"Medians of {reps} run(s) per contender, {d['machine'].get('cpus')} CPUs, "
        f"load average at start {d['machine'].get('loadavg_at_start')}, {d['machine']['time']}."
    )
    return head + "\n\n" + format_table(rows, cols)


def quality_section(d: dict[str, Any]) -> str:
    rows = []
    for r in d["results"]:
        c = r["contenders"]
        o, p, h = c.get("ours", {}), c.get("deepctr", {}), c.get("te_hgb", {})
        b = c.get("catboost", {})
        key = score_key(r.get("task", "binary"))
        row = {
            "dataset": r["dataset"],
            "rows": r["n_rows"],
            "metric": "RMSE" if key == "test_rmse" else "AUC",
            "ours": _with_sd(o, key),
            "DeepCTR": _with_sd(p, key),
            "TE+HGB": h.get(key),
            "CatBoost": _with_sd(b, key),
            "ours - DeepCTR": _diff(o.get(key), p.get(key)),
            "ours - TE+HGB": _diff(o.get(key), h.get(key)),
            "ours - CatBoost": _diff(o.get(key), b.get(key)),
            "logloss ours": o.get("test_logloss"),
            "DeepCTR ": p.get("test_logloss"),
            "TE+HGB ": h.get("test_logloss"),
            "ours epochs": o.get("epochs_run"),
        }
        rows.append(row)
    seeds = d.get("seeds", 1)
    head = (
        f"DeepFM and CatBoost figures are mean +- std over seeds 0..{seeds - 1} (split fixed). "
        if seeds > 1
        else "One seed per contender. "
    )
    head += "ours - x compares means (AUC: higher is better; RMSE: lower is better)."
    return head + "\n\n" + format_table(rows, list(rows[0]) if rows else [])


def _with_sd(c: dict[str, Any], key: str = "test_auc") -> Any:
    """``0.869 +- 0.003`` when several seeds ran, else the plain figure."""
    value = c.get(key)
    if value is None or f"{key}_std" not in c:
        return value
    return f"{value:.3f} +- {c[f'{key}_std']:.3f}"


def planted_section(d: dict[str, Any]) -> str:
    fields = d["per_field"]
    names = [k for k in fields[0] if k.endswith("p@5")] if fields else []
    cols = ["field", "categories", "groups", "scored", "chance", "ceiling", *names]
    summary_cols = ["contender", "test AUC", "test logloss", "epochs", "mean p@5"]
    summary = format_table(d["summary"], summary_cols)
    return format_table(fields, cols) + "\n\n" + summary


def _engines(obj: Any) -> set[str]:
    """Every engine fingerprint found anywhere in a results document."""
    found: set[str] = set()
    if isinstance(obj, dict):
        engine = obj.get("engine")
        if isinstance(engine, dict) and "sha256_12" in engine:
            found.add(f"{engine['sha256_12']} ({engine.get('newest_file_mtime')})")
        for value in obj.values():
            found |= _engines(value)
    elif isinstance(obj, list):
        for value in obj:
            found |= _engines(value)
    return found


def _diff(a: Any, b: Any) -> float | None:
    return a - b if isinstance(a, int | float) and isinstance(b, int | float) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args()
    for name, render in (
        ("train_speed", speed_section),
        ("quality", quality_section),
        ("planted", planted_section),
    ):
        d = _load(args.results / f"{name}.json")
        if d is not None:
            engines = ", ".join(sorted(_engines(d))) or "unknown"
            print(f"### {name}\n\n{render(d)}\n\nEngine source fingerprint: {engines}\n")


if __name__ == "__main__":
    main()
