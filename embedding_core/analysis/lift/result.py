"""``LiftResult``: what a lift run measured, and its JSON/CSV contract.

``to_json_dict`` is the stable contract read by other tools (format string
``"embedding_core.lift/1"``); ``to_frame`` / ``to_csv`` are the table the app shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from embedding_core.analysis.lift.zoo import ENCODING_LABELS, model_label, network_name
from embedding_core.model.metrics import HIGHER_IS_BETTER, METRIC_LABELS
from embedding_core.strict_json import json_ready

__all__ = ["LiftResult", "FORMAT"]

#: Value of the ``format`` key of the JSON contract.
FORMAT = "embedding_core.lift/1"


@dataclass
class LiftResult:
    """Everything a lift run measured.

    ``to_json_dict()`` is the stable contract read by other tools; ``to_frame()`` is the
    table the app shows. ``predictions`` (per split, per cell) is kept for inspection and
    tests; it is not part of the JSON.
    """

    task: str
    mode: Literal["holdout", "cv"]
    metric: str
    secondary_metrics: tuple[str, ...]
    results: list[dict[str, Any]]
    lift: list[dict[str, Any]]
    reference: dict[str, Any] | None
    verdicts: list[str]
    notes: list[str]
    complete: bool
    folds: int | None
    holdout_fraction: float | None
    n_rows: int
    n_train: int
    n_test: int
    seed: int
    subsample: dict[str, int]
    bootstrap_resamples: int | None
    deepfm_train_seconds: float | None
    config: dict[str, Any]
    roles: dict[str, Any]
    created_at: str
    total_seconds: float
    predictions: list[dict[tuple[str, str], np.ndarray]] = field(default_factory=list, repr=False)

    @property
    def higher_is_better(self) -> bool:
        """Direction of the primary metric."""
        return HIGHER_IS_BETTER[self.metric]

    @property
    def metric_label(self) -> str:
        """Human name of the primary metric ("AUC", "RMSE", ...)."""
        return METRIC_LABELS[self.metric]

    @property
    def mode_description(self) -> str:
        """One sentence saying which mode produced the numbers."""
        if self.mode == "holdout":
            share = round(100 * (self.holdout_fraction or 0))
            return (
                f"Fast holdout mode: trained on {self.n_train:,} rows, scored on "
                f"{self.n_test:,} held-out rows ({share}%); error bars are the std of "
                f"{self.bootstrap_resamples} bootstrap resamples of the holdout rows."
            )
        return (
            f"Thorough {self.folds}-fold cross-validation: DeepFM retrained in every fold; "
            "error bars are the std across folds."
        )

    def to_json_dict(self) -> dict[str, Any]:
        """The stable JSON contract (plain types; NaN becomes null).

        Keys: ``task``, ``mode`` ("holdout"|"cv"), ``metric``, ``results`` (list of
        ``{"model", "encoding", "mean", "std", "fit_seconds", ...}``), ``lift`` (list of
        ``{"model", "best_baseline", "lift", "std", ...}``), plus extras: ``format``,
        ``higher_is_better``, ``secondary_metrics``, ``reference`` (DeepFM's own
        predictions), ``verdicts``, ``notes``, ``complete``, ``folds``,
        ``holdout_fraction``, ``n_rows``, ``n_train``, ``n_test``, ``seed``,
        ``subsample``, ``bootstrap_resamples``, ``deepfm_train_seconds``, ``config``,
        ``roles``, ``created_at``, ``total_seconds``.
        """

        return json_ready(
            {
                "format": FORMAT,
                "task": self.task,
                "mode": self.mode,
                "metric": self.metric,
                "higher_is_better": self.higher_is_better,
                "secondary_metrics": list(self.secondary_metrics),
                "results": self.results,
                "lift": self.lift,
                "reference": self.reference,
                "verdicts": self.verdicts,
                "notes": self.notes,
                "complete": self.complete,
                "folds": self.folds,
                "holdout_fraction": self.holdout_fraction,
                "n_rows": self.n_rows,
                "n_train": self.n_train,
                "n_test": self.n_test,
                "seed": self.seed,
                "subsample": self.subsample,
                "bootstrap_resamples": self.bootstrap_resamples,
                "deepfm_train_seconds": self.deepfm_train_seconds,
                "config": self.config,
                "roles": self.roles,
                "created_at": self.created_at,
                "total_seconds": self.total_seconds,
            }
        )

    @classmethod
    def from_json_dict(cls, d: Mapping[str, Any]) -> LiftResult:
        """Rebuild a result from ``to_json_dict`` output (predictions are not kept)."""
        return cls(
            task=d["task"],
            mode=d["mode"],
            metric=d["metric"],
            secondary_metrics=tuple(d.get("secondary_metrics", ())),
            results=[dict(r) for r in d["results"]],
            lift=[dict(r) for r in d["lift"]],
            reference=d.get("reference"),
            verdicts=list(d.get("verdicts", [])),
            notes=list(d.get("notes", [])),
            complete=bool(d.get("complete", True)),
            folds=d.get("folds"),
            holdout_fraction=d.get("holdout_fraction"),
            n_rows=int(d.get("n_rows", 0)),
            n_train=int(d.get("n_train", 0)),
            n_test=int(d.get("n_test", 0)),
            seed=int(d.get("seed", 0)),
            subsample=dict(d.get("subsample", {})),
            bootstrap_resamples=d.get("bootstrap_resamples"),
            deepfm_train_seconds=d.get("deepfm_train_seconds"),
            config=dict(d.get("config", {})),
            roles=dict(d.get("roles", {})),
            created_at=str(d.get("created_at", "")),
            total_seconds=float(d.get("total_seconds") or 0.0),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per (model, encoding), DeepFM's reference last.

        Columns: model, encoding, model_label, encoding_label, mean, std, fit_seconds,
        n_train, n_folds, is_reference, and ``<metric>_mean``/``<metric>_std`` for the
        secondary metrics.
        """
        rows = list(self.results) + ([self.reference] if self.reference else [])
        network = network_name(self.config)  # an entity network's lift says so
        labels = {**ENCODING_LABELS, "embedding": f"{network} embeddings"}
        out = []
        for r in rows:
            row = {
                "model": r["model"],
                "encoding": r["encoding"],
                "model_label": f"{network} (reference)"
                if r["model"] == "deepfm"
                else model_label(r["model"], self.task),
                "encoding_label": labels.get(r["encoding"], r["encoding"]),
                "mean": r["mean"],
                "std": r["std"],
                "fit_seconds": r["fit_seconds"],
                "n_train": r.get("n_train"),
                "n_folds": r.get("n_folds"),
                "is_reference": r["model"] == "deepfm",
            }
            for m in self.secondary_metrics:
                stats = r.get("metrics", {}).get(m, {})
                row[f"{m}_mean"] = stats.get("mean")
                row[f"{m}_std"] = stats.get("std")
            out.append(row)
        frame = pd.DataFrame(out)
        for col in ["mean", "std", "fit_seconds"] + [
            c for c in frame.columns if c.endswith(("_mean", "_std"))
        ]:
            if col in frame:
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        return frame

    def lift_frame(self) -> pd.DataFrame:
        """One row per model: best baseline, lift (positive = embeddings better), std."""
        cols = ["model", "best_baseline", "lift", "std", "verdict"]
        return pd.DataFrame([{c: r.get(c) for c in cols} for r in self.lift], columns=cols)

    def to_csv(self, path: str | Path | None = None) -> str:
        """The ``to_frame`` table as CSV text (also written to ``path`` if given)."""
        text = self.to_frame().to_csv(index=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text
