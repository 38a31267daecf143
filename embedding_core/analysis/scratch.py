"""Did starting from an earlier run's embeddings help? The same model from scratch, side by side.

``compare_with_scratch`` trains the model of ``config`` (which names ``init_embeddings``)
and the same model without it (random starting tables, nothing frozen) with the same
seeds, data and split, and returns their validation figures per seed; ``summarise``
turns them into mean and spread per variant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig

if TYPE_CHECKING:
    from embedding_core.model.run import TrainedRun

__all__ = ["ScratchStep", "compare_with_scratch", "summarise", "HEADLINE", "VARIANTS"]

#: The validation figure compared, per task (higher is better for all three).
HEADLINE = {"binary": "valid_auc", "regression": "valid_r2", "multiclass": "valid_accuracy"}
#: Row labels: the configured start and the random one.
VARIANTS = ("from saved embeddings", "from scratch")


@dataclass(frozen=True)
class ScratchStep:
    """One training of the comparison: which variant and seed, and how many in all."""

    variant: str
    seed: int
    done: int
    total: int


def compare_with_scratch(
    frame: pd.DataFrame,
    roles: Roles,
    config: TrainConfig,
    *,
    seeds: Sequence[int] = (0,),
    first: TrainedRun | None = None,
    on_step: Callable[[ScratchStep], bool | None] | None = None,
) -> pd.DataFrame:
    """Validation figures of ``config`` (with its start) and of the same model from scratch.

    Parameters
    ----------
    frame, roles
        The data, as for ``train``.
    config : TrainConfig
        With ``init_embeddings`` set (the variant "from saved embeddings"). The scratch
        variant is ``config`` without ``init_embeddings`` and ``freeze_embeddings``.
    seeds : sequence of int, default=(0,)
        Each variant is trained once per seed (same split and batch order for both).
    first : TrainedRun, optional
        An already trained run of ``config`` with ``seeds[0]`` (e.g. the one the user just
        trained), used instead of training it again.
    on_step : callable, optional
        Called before each training; returning ``False`` stops, keeping the rows so far.

    Returns
    -------
    DataFrame
        One row per training: ``variant``, ``seed``, ``metric`` (``valid_auc``,
        ``valid_r2`` or ``valid_accuracy``), ``value``.
    """
    from embedding_core.model.train import train

    if config.init_embeddings is None:
        raise ValueError("Expected a config with init_embeddings to compare against scratch.")
    scratch = config.replace(init_embeddings=None, freeze_embeddings=False)
    plan = [(VARIANTS[0], config), (VARIANTS[1], scratch)]
    jobs = [(name, cfg.replace(seed=int(s))) for s in seeds for name, cfg in plan]
    rows: list[dict[str, Any]] = []
    for i, (name, cfg) in enumerate(jobs):
        reuse = first is not None and name == VARIANTS[0] and cfg.seed == seeds[0]
        if not reuse and on_step is not None:
            if on_step(ScratchStep(name, cfg.seed, i, len(jobs))) is False:
                break
        run = first if reuse else train(frame, roles, cfg)
        metric = HEADLINE[run.task]
        rows.append(
            {"variant": name, "seed": cfg.seed, "metric": metric, "value": run.metrics[metric]}
        )
    return pd.DataFrame(rows, columns=["variant", "seed", "metric", "value"])


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and number of seeds per variant (``VARIANTS`` order)."""
    if results.empty:
        return pd.DataFrame(columns=["variant", "metric", "mean", "std", "seeds"])
    grouped = results.groupby("variant", sort=False)["value"]
    out = pd.DataFrame(
        {
            "mean": grouped.mean(),
            "std": grouped.agg(lambda v: float(np.std(v))),
            "seeds": grouped.size(),
        }
    ).reset_index()
    out.insert(1, "metric", results["metric"].iloc[0])
    order = {v: i for i, v in enumerate(VARIANTS)}
    return out.sort_values("variant", key=lambda s: s.map(order)).reset_index(drop=True)
