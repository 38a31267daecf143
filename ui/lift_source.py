"""What a kept lift result was measured on, and what has changed since.

A lift result stays on the Lift page while the user loads other data, changes the
column roles or the Train page's settings: nothing computed is lost, but the page must
say that the figures describe something else. The data is known by its session key
(``state.Dataset.key``: a sample's name or an upload's digest) and label, kept with the
result in the session and in its stored JSON (``ui.lift_store``, key ``"data"``); the
roles and settings are in the result itself (``LiftResult.roles`` / ``.config``).
"""

from __future__ import annotations

from typing import Any

from embedding_core.analysis.lift import LiftResult
from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from ui.literal import literal

__all__ = ["changes_since"]

#: Settings the Lift page sets itself (``pages/lift.py``, ``run_lift``): never a change.
_LIFT_OWN_SETTINGS = {"refit", "init_embeddings", "freeze_embeddings"}


def changes_since(
    result: LiftResult,
    source: dict[str, str] | None,
    dataset_key: str,
    dataset_label: str,
    roles: Roles | None,
    config: TrainConfig,
) -> list[str]:
    """Sentences (Markdown, names escaped) saying how the session differs now from what
    ``result`` measured; empty when it describes the data, roles and settings in use.

    ``source`` is ``{"key", "label"}`` of the data the result was measured on (None:
    not known, a result kept before the app recorded it; the data is then not compared).
    """
    if source is not None and source.get("key") != dataset_key:
        was = literal(source.get("label") or "other data")
        return [
            f"These results are for **{was}**, not the data loaded now "
            f"(**{literal(dataset_label)}**)."
        ]
    out = []
    then = result.roles or {}
    if roles is not None and _role_lists(then) != _role_lists(roles.to_dict()):
        out.append(
            f"They were measured with other columns (target **{literal(then.get('target'))}**; "
            f"{_columns_said(then)})."
        )
    changed = _changed_settings(result.config or {}, config.to_dict())
    if changed:
        names = ", ".join(f"**{literal(n)}**" for n in changed)
        out.append(f"The Train page's settings have changed since: {names}.")
    return out


def _role_lists(d: dict[str, Any]) -> tuple[Any, ...]:
    return (d.get("target"), tuple(d.get("categorical") or ()), tuple(d.get("numeric") or ()))


def _columns_said(d: dict[str, Any]) -> str:
    cats, nums = list(d.get("categorical") or ()), list(d.get("numeric") or ())
    said = f"{len(cats)} categorical"
    return said + (f", {len(nums)} numeric" if nums else ", no numeric")


def _changed_settings(then: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Settings whose value differs (a setting only one side knows is not compared)."""
    keys = (then.keys() & now.keys()) - _LIFT_OWN_SETTINGS
    return sorted(k for k in keys if _plain(then[k]) != _plain(now[k]))


def _plain(value: Any) -> Any:
    """Lists and tuples alike (JSON turns tuples into lists)."""
    return tuple(value) if isinstance(value, list | tuple) else value
