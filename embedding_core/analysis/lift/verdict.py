"""The plain-language sentences of a lift result: one verdict per model, and notes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from embedding_core.analysis.lift.zoo import (
    DENSE_MODELS,
    ENCODING_LABELS,
    dense_onehot_cap,
    model_label,
)
from embedding_core.model.metrics import HIGHER_IS_BETTER, METRIC_LABELS

__all__ = ["verdict", "notes", "headline"]


def _decimals(std: float) -> int:
    """Enough decimals to show the first significant digit of the error (3 at least)."""
    if not np.isfinite(std) or std <= 0 or std >= 1e-3:
        return 3
    return min(6, int(-np.floor(np.log10(std))))


def _fmt(x: float, decimals: int = 3) -> str:
    return f"{x:.{decimals}f}" if abs(x) < 100 else f"{x:,.1f}"


def verdict(model: str, task: str, metric: str, baseline: str, lift: float, std: float) -> str:
    """One plain-language sentence about one model's lift."""
    name = model_label(model, task)
    base = ENCODING_LABELS[baseline]
    label = METRIC_LABELS[metric]
    d = _decimals(std)
    noise = f" (± {_fmt(std, d)})" if np.isfinite(std) else ""
    if not np.isfinite(lift):
        return f"For {name}, the lift could not be computed."
    if np.isfinite(std) and abs(lift) <= 2 * std:
        sign = "+" if lift >= 0 else "-"
        return (
            f"For {name}, embeddings and {base} are about level "
            f"({sign}{_fmt(abs(lift), d)} {label} ± {_fmt(std, d)}, within the noise)."
        )
    if HIGHER_IS_BETTER[metric]:
        if lift > 0:
            return f"For {name}, embeddings add +{_fmt(lift, d)} {label} over {base}{noise}."
        return f"For {name}, embeddings lose {_fmt(-lift, d)} {label} against {base}{noise}."
    if lift > 0:
        return f"For {name}, embeddings cut {label} by {_fmt(lift, d)} compared with {base}{noise}."
    return f"For {name}, embeddings raise {label} by {_fmt(-lift, d)} compared with {base}{noise}."


def headline(lift: Sequence[Mapping[str, object]], task: str, metric: str) -> str:
    """One sentence for the top of the page, e.g. "Embeddings help k-nearest neighbours
    by +0.030 AUC; elsewhere they are level with the best other encoding."

    A model counts as helped or hurt when its lift is more than twice its spread (the
    rule of ``verdict``); the others are level.
    """
    label = METRIC_LABELS[metric]
    helped, hurt = [], []
    for row in lift:
        value, std = float(row["lift"]), float(row["std"])  # type: ignore[arg-type]
        if not np.isfinite(value) or (np.isfinite(std) and abs(value) <= 2 * std):
            continue
        name, amount = model_label(str(row["model"]), task), _fmt(abs(value), _decimals(std))
        if value > 0:
            helped.append(f"{name} by {amount}")
        else:
            hurt.append(f"{name} {amount}")
    if not lift:
        return "No lift to report."
    parts = []
    if helped:
        parts.append(f"Embeddings help {_join(helped)} {label}")
    if hurt:
        parts.append(("they" if helped else "Embeddings") + f" cost {_join(hurt)} {label}")
    if not parts:
        return f"Embeddings are level with the best other encoding for every model ({label})."
    if len(helped) + len(hurt) < len(lift):
        parts.append("elsewhere they are level with the best other encoding")
    return "; ".join(parts) + "."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def notes(
    models: Sequence[str],
    encodings: Sequence[str],
    subsample: Mapping[str, int],
    n_fields: int,
    complete: bool,
    task: str | None = None,
) -> list[str]:
    """Sentences about how the numbers were obtained: subsamples, dense one-hot, a stop."""
    out = [
        f"{model_label(m, task).capitalize()} was fitted on a random {subsample[m]:,} of "
        f"the training rows (per split) to keep the run fast; scores use every "
        f"held-out row."
        for m in models
        if m in subsample
    ]
    dense_models = [model_label(m, task) for m in models if m in DENSE_MODELS]
    if dense_models and "onehot" in encodings:
        names = ", ".join(dense_models[:-1]) + (" and " if len(dense_models) > 1 else "")
        names += dense_models[-1]
        out.append(
            f"{names.capitalize()} {'get' if len(dense_models) > 1 else 'gets'} a dense "
            "one-hot encoding with at "
            f"most {dense_onehot_cap(n_fields)} columns per field (rarer "
            "categories share "
            "one column) to stay fast."
        )
    if not complete:
        out.append("Stopped by the user: only the finished steps are reported.")
    return out
