"""Keep finished lift results on the server, so a reloaded page shows them again.

A result is written once, as its JSON contract (``LiftResult.to_json_dict``) plus the
data it measured (``"data"``: ``{"key", "label"}``, see ``ui.lift_source``), to
``<run store>/.lift/<digest>.json``; the URL carries only the digest (``lift=``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import fields

import streamlit as st

from embedding_core.analysis.lift import LiftResult
from embedding_core.atomic import atomic_file
from ui.runs import store
from ui.state import Keys

__all__ = ["keep", "lift_handle", "restore_lift"]

_log = logging.getLogger(__name__)
_DIR = ".lift"
_HANDLE = re.compile(r"^[0-9a-f]{32}$")


def keep(result: LiftResult) -> str | None:
    """Write ``result`` to the store, with the session's note of the data it measured
    (``"data"``, next to the contract's keys), and remember its handle; None if writing
    failed."""
    from ui import state

    text = json.dumps({**result.to_json_dict(), "data": state.get_lift_data()}, sort_keys=True)
    handle = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    try:
        with atomic_file(store().root / _DIR / f"{handle}.json", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        _log.warning("keeping the lift result failed: %s", exc)
        return None
    st.session_state[Keys.LIFT_HANDLE] = handle
    return handle


def lift_handle() -> str | None:
    """The handle of the session's kept lift result, or None."""
    return st.session_state.get(Keys.LIFT_HANDLE)


def restore_lift(handle: str) -> bool:
    """Make a kept lift result the session's result again; False if it is gone."""
    from ui import state

    if not _HANDLE.match(str(handle)):
        return False
    try:
        data = json.loads((store().root / _DIR / f"{handle}.json").read_text(encoding="utf-8"))
        names = {f.name for f in fields(LiftResult)} - {"predictions"}
        values = {k: v for k, v in data.items() if k in names}
        values["secondary_metrics"] = tuple(values.get("secondary_metrics") or ())
        result = LiftResult(**values)
    except (OSError, ValueError, TypeError) as exc:
        _log.warning("restoring lift result %s failed: %s", handle, exc)
        return False
    source = data.get("data")
    known = isinstance(source, dict) and {"key", "label"} <= source.keys()
    state.set_lift_result(result, {k: str(source[k]) for k in ("key", "label")} if known else None)
    st.session_state[Keys.LIFT_HANDLE] = handle
    return True
