"""Tiny synthetic frames and roles for the engine tests (generated, never read from disk).

Imported by ``tests/conftest.py`` (session fixtures) and by test modules as
``from synthetic import ...`` (pytest puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig

__all__ = [
    "TINY_CONFIG",
    "make_binary_frame",
    "make_regression_frame",
    "make_multiclass_frame",
    "make_planted_frame",
    "BINARY_ROLES",
    "REGRESSION_ROLES",
    "MULTICLASS_ROLES",
    "PLANTED_ROLES",
]

#: A small config for fixtures: 2 epochs, small batches so an epoch has several steps.
TINY_CONFIG = TrainConfig(
    embedding_dim=4, hidden_units=(16, 8), epochs=2, batch_size=64, min_count=2, patience=2
)


def make_binary_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Binary target ("yes"/"no") driven by `shop` (groups by index % 3) and `x`.

    Columns: shop (20 levels, a few missing), colour (4 levels), x (numeric text,
    a few missing), y ("yes"/"no").
    """
    rng = np.random.default_rng(seed)
    shop = rng.integers(0, 20, n)
    colour = rng.integers(0, 4, n)
    x = rng.normal(size=n)
    logit = np.array([-1.2, 0.0, 1.2])[shop % 3] + 0.4 * (colour == 1) + 0.8 * x
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    shop_text = np.array([f"s{v:02d}" for v in shop], dtype=object)
    shop_text[rng.random(n) < 0.03] = None
    x_text = np.array([f"{v:.4f}" for v in x], dtype=object)
    x_text[rng.random(n) < 0.05] = ""
    return pd.DataFrame(
        {
            "shop": shop_text,
            "colour": [f"c{v}" for v in colour],
            "x": x_text,
            "y": np.where(y, "yes", "no"),
        }
    )


def make_regression_frame(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """Numeric target in the hundreds driven by `region` and `product`."""
    rng = np.random.default_rng(seed)
    region = rng.integers(0, 6, n)
    product = rng.integers(0, 12, n)
    value = 300 + 40 * region - 25 * (product % 4) + rng.normal(scale=10, size=n)
    return pd.DataFrame(
        {
            "region": [f"r{v}" for v in region],
            "product/type": [f"p{v}" for v in product],
            "price": [f"{v:.2f}" for v in value],
        }
    )


def make_multiclass_frame(n: int = 400, seed: int = 2) -> pd.DataFrame:
    """Three classes ("a", "b", "c") mostly decided by `kind`."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 9, n)
    noise = rng.integers(0, 3, n)
    label = np.where(rng.random(n) < 0.8, kind % 3, noise)
    return pd.DataFrame(
        {
            "kind": [f"k{v}" for v in kind],
            "noise": [f"n{v}" for v in noise],
            "label": np.array(["a", "b", "c"])[label],
        }
    )


BINARY_ROLES = Roles(categorical=("shop", "colour"), target="y", numeric=("x",))
REGRESSION_ROLES = Roles(categorical=("region", "product/type"), target="price")
MULTICLASS_ROLES = Roles(categorical=("kind", "noise"), target="label")


def make_planted_frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Planted structure: 12 items in 3 hidden groups (item index % 3) that act alike.

    Group rates differ strongly (log-odds -1.5 / 0 / +1.5), group 2 interacts with
    half of `other`'s levels. Same-group items should end up nearer each other.
    """
    rng = np.random.default_rng(seed)
    item = rng.integers(0, 12, n)
    group = item % 3
    other = rng.integers(0, 4, n)
    logit = (
        np.array([-1.5, 0.0, 1.5])[group]
        + np.where((group == 2) & (other < 2), 1.0, 0.0)
        - 0.5 * (other == 3)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {"item": [f"i{v:02d}" for v in item], "other": [f"o{v}" for v in other], "y": y}
    )


PLANTED_ROLES = Roles(categorical=("item", "other"), target="y")


CALENDAR_ROLES = Roles(
    categorical=("shop",), numeric=("month", "day", "hour", "price"), target="late"
)


def make_calendar_frame(n: int = 6000, seed: int = 0, interaction: float = 3.0) -> pd.DataFrame:
    """Flights-like rows: ``late`` depends on single "dates" (month x day cells), which
    neither column shows alone, plus a main effect of ``hour``; ``price`` is continuous."""
    rng = np.random.default_rng(seed)
    month = rng.integers(1, 7, n)
    day = rng.integers(1, 7, n)
    hour = rng.integers(6, 10, n)
    stormy = np.random.default_rng(99).random((7, 7)) < 0.5  # a fixed set of bad dates
    stormy &= np.roll(stormy, 1, axis=0) != stormy  # a fixed, irregular pattern
    logit = interaction * (stormy[month, day] - stormy.mean()) + 0.5 * (hour - 7.5)
    late = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "shop": rng.choice(["a", "b", "c"], n),
            "month": month,
            "day": day,
            "hour": hour,
            "price": rng.normal(100, 20, n).round(2),
            "late": late.astype(int),
        }
    )
