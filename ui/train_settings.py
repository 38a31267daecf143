"""The Train page's advanced settings: where they start, and what differs from the defaults.

The settings' widgets are bound to the URL (``bind="query-params"``), which holds a
setting only while it differs from the widget's first value. That first value is the open
run's setting (``start_values``), and the open run is itself rebuilt from the URL's
``run=``, so F5 or a copied link brings back both the run and every changed setting.
"""

from __future__ import annotations

from typing import Any

from embedding_core.model.config import TrainConfig
from ui import state

__all__ = ["LABELS", "SHOWN", "within", "start_values", "changed_settings"]

#: The advanced settings, by their names in ``TrainConfig``, as the page labels them.
LABELS = {
    "embedding_dim": "Embedding dimension",
    "epochs": "Max epochs",
    "learning_rate": "Learning rate",
    "batch_size": "Batch size",
    "dropout": "Dropout",
    "l2_embedding": "L2 on embeddings",
    "min_count": "Rare-category threshold",
    "seed": "Seed",
    "hidden_units": "Hidden layers",
    "patience": "Patience",
    "valid_fraction": "Validation share",
    "epoch_tolerance": "Epoch tolerance",
    "refit": "Final fit on all rows",
    "numeric_encoding": "Numeric columns",
    "numeric_bins": "Bins per numeric column",
    "crosses": "Crossed columns",
    "frequency_bands": "Frequency bands",
    "category_dropout": "Category dropout",
    "embedding_lr_factor": "Learning-rate factor",
    "fm_field_weights": "Weigh each pair of fields",
}
#: The settings this page shows (with ``ui.reuse_widgets.model_settings``'s two).
SHOWN = (*LABELS, "model", "embedding_dims")


def within(value: Any, low: Any, high: Any) -> Any:
    """``value`` moved into a widget's range (a run trained elsewhere can be outside it)."""
    return min(max(value, low), high)


def _shown_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return {"auto": "on", "none": "off"}.get(str(value), str(value))


def changed_settings(config: TrainConfig) -> list[str]:
    """The advanced settings ``config`` sets away from the defaults, as "label value"."""
    defaults = TrainConfig()
    return [
        f"{label} {_shown_value(getattr(config, name))}"
        for name, label in LABELS.items()
        if getattr(config, name) != getattr(defaults, name)
    ]


def start_values(info: state.RunInfo | None) -> TrainConfig:
    """Where the settings start: the open run's, so F5 or a link shows the settings it
    was trained with, else the defaults. The widgets are bound to the URL, which holds
    only what differs from this start, and the start is rebuilt from the URL's run."""
    if info is None:
        return TrainConfig()
    trained = info.run.config
    return TrainConfig().replace(**{name: getattr(trained, name) for name in SHOWN})
