"""Strict JSON: what every JSON file and line this project writes goes through.

Python's ``json`` writes ``NaN`` and ``Infinity``, which are not JSON: other tools'
parsers refuse the whole document. Here a figure that is not a finite number becomes
``null``, and numpy scalars become plain Python numbers.

Examples
--------
>>> dumps({"valid_auc": float("nan"), "n": 3})
'{"valid_auc": null, "n": 3}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["json_ready", "dumps"]


def json_ready(value: Any) -> Any:
    """``value`` with NaN/inf replaced by ``None`` and numpy scalars by Python ones.

    Dicts (keys become text), lists and tuples are walked; anything else is kept.
    """
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(
    value: Any, *, indent: int | None = None, default: Callable[[Any], Any] | None = None
) -> str:
    """``json.dumps`` of ``json_ready(value)``; never writes NaN or Infinity.

    ``default`` converts objects JSON has no type for, as in ``json.dumps``.
    """
    return json.dumps(json_ready(value), indent=indent, default=default, allow_nan=False)
