"""How much of the gap to CatBoost each variant of ours closes, from a ``quality.py`` result.

The gap is CatBoost's test figure minus the first configuration's (``ours``: the
"before", e.g. ``numeric_encoding="scaled"``); each later configuration closes
``(variant - before) / (CatBoost - before)`` of it (test AUC; for test RMSE the signs
flip, lower being better). Means over the seeds the result holds; the sd of the share
closed comes from pairing seed i of ours with seed i of CatBoost.

Usage::

    .venv/bin/python benchmarks/quality.py --seeds 3 \\
        --datasets bank_marketing,adult,hotel_bookings,hotel_adr --no-deepctr \\
        --ours-config '{"numeric_encoding": "scaled"}' --ours-config '{}' \\
        --out benchmarks/results/quality_catboost_gap.json
    .venv/bin/python benchmarks/catboost_gap.py benchmarks/results/quality_catboost_gap.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np


def gap_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per dataset and variant: before, variant, CatBoost (mean, sd) and the
    share of the gap closed (from the means, and its sd over paired seeds)."""
    rows = []
    for result in report["results"]:
        contenders = result["contenders"]
        key = "test_rmse" if result.get("task") == "regression" else "test_auc"
        sign = -1.0 if key == "test_rmse" else 1.0
        before, catboost = contenders.get("ours", {}), contenders.get("catboost", {})
        if key not in before or key not in catboost:
            continue
        for name, variant in contenders.items():
            if not name.startswith("ours[") or key not in variant:
                continue
            gap = sign * (catboost[key] - before[key])
            closed = sign * (variant[key] - before[key]) / gap if gap else float("nan")
            paired = [
                sign * (v - b) / (sign * (c - b))
                for v, b, c in zip(
                    variant.get(f"{key}_runs", []),
                    before.get(f"{key}_runs", []),
                    catboost.get(f"{key}_runs", []),
                    strict=False,
                )
                if c != b
            ]
            rows.append(
                {
                    "dataset": result["dataset"],
                    "metric": key,
                    "variant": name,
                    "settings": variant.get("settings", {}),
                    "before": _stat(before, key),
                    "ours": _stat(variant, key),
                    "catboost": _stat(catboost, key),
                    "gap": gap,
                    "closed": closed,
                    "closed_sd": float(np.std(paired, ddof=1)) if len(paired) > 1 else None,
                }
            )
    return rows


def _stat(c: dict[str, Any], key: str) -> dict[str, float]:
    return {"mean": float(c[key]), "sd": float(c.get(f"{key}_std", 0.0))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="quality.py JSON files")
    args = parser.parse_args()
    rows = [row for path in args.results for row in gap_rows(json.loads(path.read_text()))]
    print("| dataset | metric | variant | before | ours | CatBoost | gap | closed |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        digits = 2 if r["metric"] == "test_rmse" else 4
        cells = [
            f"{r[k]['mean']:.{digits}f} +- {r[k]['sd']:.{digits}f}"
            for k in ("before", "ours", "catboost")
        ]
        sd = f" +- {r['closed_sd']:.0%}" if r["closed_sd"] is not None else ""
        print(
            f"| {r['dataset']} | {r['metric'][5:]} | {r['variant']} | {' | '.join(cells)} "
            f"| {r['gap']:.{digits}f} | {r['closed']:.0%}{sd} |"
        )
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
