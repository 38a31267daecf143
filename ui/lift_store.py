"""Keep finished lift results on the server, so a reloaded page shows them again.

A result is written once, as its JSON contract (``LiftResult.to_json_dict``) plus the
data it measured (``"data"``: ``{"key", "label"}``, see ``ui.lift_source``), to
``<run store>/.lift/<digest>.json`` (``ui.kept_json``); the URL carries only the digest
(``lift=``).
"""

from __future__ import annotations

import logging
from dataclasses import fields

import streamlit as st

from embedding_core.analysis.lift import LiftResult
from ui.kept_json import keep_json, read_kept
from ui.state import Keys

__all__ = ["keep", "lift_handle", "restore_lift"]

_log = logging.getLogger(__name__)
_DIR = ".lift"


def keep(result: LiftResult) -> str | None:
    """Write ``result`` to the store, with the session's note of the data it measured
    (``"data"``, next to the contract's keys), and remember its handle; None if writing
    failed."""
    from ui import state

    handle = keep_json(_DIR, {**result.to_json_dict(), "data": state.get_lift_data()})
    if handle is not None:
        st.session_state[Keys.LIFT_HANDLE] = handle
    return handle


def lift_handle() -> str | None:
    """The handle of the session's kept lift result, or None."""
    return st.session_state.get(Keys.LIFT_HANDLE)


def restore_lift(handle: str) -> bool:
    """Make a kept lift result the session's result again; False if it is gone."""
    from ui import state

    data = read_kept(_DIR, handle)
    try:
        names = {f.name for f in fields(LiftResult)} - {"predictions"}
        values = {k: v for k, v in data.items() if k in names}  # type: ignore[union-attr]
        values["secondary_metrics"] = tuple(values.get("secondary_metrics") or ())
        result = LiftResult(**values)
    except (AttributeError, ValueError, TypeError) as exc:
        if data is not None:
            _log.warning("restoring lift result %s failed: %s", handle, exc)
        return False
    source = data.get("data")
    known = isinstance(source, dict) and {"key", "label"} <= source.keys()
    state.set_lift_result(result, {k: str(source[k]) for k in ("key", "label")} if known else None)
    st.session_state[Keys.LIFT_HANDLE] = handle
    return True
