"""From per-split predictions to the result tables: cell scores, error bars and lifts.

Holdout mode: the metric on the holdout rows, with the standard deviation over
bootstrap resamples of those rows (the same resamples for every cell; the lift's error
is the bootstrap std of the paired difference). CV mode: mean and std (``ddof=1``)
across folds; the lift's error is the std of the per-fold differences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from embedding_core.analysis.lift.scoring import bootstrap_weights, score
from embedding_core.analysis.lift.verdict import verdict
from embedding_core.analysis.lift.zoo import BASELINE_ENCODINGS
from embedding_core.model.metrics import HIGHER_IS_BETTER

__all__ = ["summarise"]

Cell = tuple[str, str]


def summarise(
    *,
    preds: list[dict[tuple[str, str], np.ndarray]],
    splits: list[tuple[np.ndarray, np.ndarray]],
    y: np.ndarray,
    task: str,
    metrics: tuple[str, ...],
    fit_secs: dict[tuple[str, str], list[float]],
    n_fit: dict[tuple[str, str], int],
    models: Sequence[str],
    encodings: Sequence[str],
    mode: str,
    seed: int,
    resamples: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]:
    primary = metrics[0]
    higher = HIGHER_IS_BETTER[primary]
    # scores[cell][metric] -> array: bootstrap draws (holdout) or per-fold values (cv)
    point: dict[tuple[str, str], dict[str, float]] = {}
    spread: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    cells = [c for c in fit_secs]
    if mode == "holdout":
        te = splits[0][1]
        weights = bootstrap_weights(len(te), resamples, seed)
        for cell in cells:
            p = preds[0][cell]
            point[cell] = {m: float(score(m, y[te], p)[0]) for m in metrics}
            spread[cell] = {m: score(m, y[te], p, weights) for m in metrics}
    else:
        for cell in cells:
            per_fold = {m: [] for m in metrics}
            for f, (_, te) in enumerate(splits[: len(preds)]):
                if cell in preds[f]:
                    for m in metrics:
                        per_fold[m].append(float(score(m, y[te], preds[f][cell])[0]))
            spread[cell] = {m: np.asarray(v) for m, v in per_fold.items()}
            point[cell] = {m: float(np.mean(v)) for m, v in per_fold.items()}

    def std(values: np.ndarray) -> float:
        v = values[np.isfinite(values)]
        if len(v) < 2:
            return float("nan")
        return float(np.std(v, ddof=1))

    def entry(cell: tuple[str, str]) -> dict[str, Any]:
        return {
            "model": cell[0],
            "encoding": cell[1],
            "mean": point[cell][primary],
            "std": std(spread[cell][primary]),
            "fit_seconds": float(np.mean(fit_secs[cell])),
            "n_train": int(n_fit[cell]),
            "n_folds": len(fit_secs[cell]),
            "metrics": {m: {"mean": point[cell][m], "std": std(spread[cell][m])} for m in metrics},
        }

    results = [entry((m, e)) for m in models for e in encodings if (m, e) in point]
    reference = entry(("deepfm", "embedding")) if ("deepfm", "embedding") in point else None

    lift: list[dict[str, Any]] = []
    sign = 1.0 if higher else -1.0
    for m in models:
        emb = (m, "embedding")
        bases = [(m, e) for e in BASELINE_ENCODINGS if e in encodings and (m, e) in point]
        if emb not in point or not bases:
            continue
        if mode == "cv":
            # compare on the folds both cells finished
            n_common = min(len(spread[emb][primary]), *(len(spread[b][primary]) for b in bases))
            if n_common == 0:
                continue

            def fold_mean(c: tuple[str, str], n: int = n_common) -> float:
                return float(np.mean(spread[c][primary][:n]))

            best = max(bases, key=lambda c: sign * fold_mean(c))
            diffs = sign * (spread[emb][primary][:n_common] - spread[best][primary][:n_common])
            value = float(np.mean(diffs))
        else:
            best = max(bases, key=lambda c: sign * point[c][primary])
            value = sign * (point[emb][primary] - point[best][primary])
            diffs = sign * (spread[emb][primary] - spread[best][primary])
        s = std(diffs)
        lift.append(
            {
                "model": m,
                "best_baseline": best[1],
                "lift": value,
                "std": s,
                "embedding": point[emb][primary],
                "baseline": point[best][primary],
                "verdict": verdict(m, task, primary, best[1], value, s),
            }
        )
    return results, lift, reference
